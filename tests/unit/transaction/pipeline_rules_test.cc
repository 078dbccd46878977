// Pure rules of pipeline writes (domain/pipeline.cc): etags, updates that
// change nothing, lead conversion, stage moves and closes with their
// events, erasure bookkeeping. The PostgreSQL repository and the fake both
// call these.
#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "libs/common/errors.h"
#include "services/transaction/domain/pipeline.h"
#include "tests/support/status_checks.h"

namespace {

using crm::common::FieldOf;
using crm::testing::RequireRefused;
using namespace crm::transaction::domain;  // NOLINT

constexpr char kCustomer[] = "33333333-3333-4333-8333-333333333333";
constexpr char kOpportunityId[] = "44444444-4444-4444-8444-444444444444";
constexpr char kLeadId[] = "55555555-5555-4555-8555-555555555555";
const absl::Time kCreated = absl::FromUnixSeconds(1767225600);  // 2026-01-01
const absl::Time kNow = kCreated + absl::Hours(1);

Lead StoredLead(LeadStatus status = LeadStatus::kWorking) {
  Lead l;
  l.id = kLeadId;
  l.family_name = "Muster";
  l.email = "anna@example.com";
  l.status = status;
  l.owner = "k-sales";
  l.version = 3;
  l.create_time = l.update_time = kCreated;
  return l;
}

Opportunity StoredOpportunity(OpportunityStage stage = OpportunityStage::kProposal,
                              const std::string& customer = kCustomer) {
  Opportunity o;
  o.id = kOpportunityId;
  o.name = "Fleet";
  o.customer_id = customer;
  o.amount_minor = 500000;
  o.currency_code = "CHF";
  o.expected_close_date = absl::CivilDay(2026, 6, 30);
  o.owner = "k-sales";
  o.stage = stage;
  o.version = 4;
  o.create_time = o.update_time = kCreated;
  return o;
}

StageMove MoveTo(OpportunityStage to, const std::string& if_match = "") {
  StageMove m;
  m.to = to;
  m.if_match = if_match;
  return m;
}

Order WonOrder() {
  Order order;
  order.id = "66666666-6666-4666-8666-666666666666";
  return order;
}

TEST_CASE("CheckEtag: empty or equal passes, otherwise ABORTED naming what changed",
          "[transaction][pipeline][writes]") {
  CHECK(CheckEtag("lead", "3", "").ok());
  CHECK(CheckEtag("lead", "3", "3").ok());
  absl::Status s = CheckEtag("opportunity", "3", "2");
  RequireRefused(s, absl::StatusCode::kAborted, "ETAG_MISMATCH");
  CHECK(s.message() == "etag does not match: the opportunity changed since you read it");
}

TEST_CASE("ApplyUpdate: a change bumps the version, no change keeps everything",
          "[transaction][pipeline][writes]") {
  Lead l = StoredLead();
  auto changed = ApplyUpdate(l, "3", [](Lead& x) {
    x.score = 40;
    x.update_time = kNow;
    return absl::OkStatus();
  });
  REQUIRE(changed.ok());
  CHECK(*changed);
  CHECK(l.score == 40);
  CHECK(l.version == 4);
  CHECK(l.update_time == kNow);

  // Only the update time moved: nothing to write, the lead as it was.
  Lead same = StoredLead();
  auto unchanged = ApplyUpdate(same, "", [](Lead& x) {
    x.update_time = kNow;
    return absl::OkStatus();
  });
  REQUIRE(unchanged.ok());
  CHECK_FALSE(*unchanged);
  CHECK(same.version == 3);
  CHECK(same.update_time == kCreated);

  Opportunity o = StoredOpportunity();
  auto moved = ApplyUpdate(o, "4", [](Opportunity& x) {
    x.expected_close_date = absl::CivilDay(2026, 7, 1);
    return absl::OkStatus();
  });
  REQUIRE(moved.ok());
  CHECK(*moved);
  CHECK(o.version == 5);
}

TEST_CASE("ApplyUpdate: a stale etag or a refused mutation changes nothing",
          "[transaction][pipeline][writes]") {
  Lead l = StoredLead();
  bool ran = false;
  auto stale = ApplyUpdate(l, "2", [&](Lead&) {
    ran = true;
    return absl::OkStatus();
  });
  RequireRefused(stale.status(), absl::StatusCode::kAborted, "ETAG_MISMATCH");
  CHECK(stale.status().message() == "etag does not match: the lead changed since you read it");
  CHECK_FALSE(ran);

  auto refused = ApplyUpdate(l, "", [](Lead& x) {
    x.score = 99;
    return CheckLeadEditable(StoredLead(LeadStatus::kConverted));
  });
  RequireRefused(refused.status(), absl::StatusCode::kFailedPrecondition, "LEAD_ALREADY_CONVERTED");
  CHECK(l.score == 0);
  CHECK(l.version == 3);

  Opportunity o = StoredOpportunity();
  RequireRefused(ApplyUpdate(o, "9", [](Opportunity&) { return absl::OkStatus(); }).status(),
                 absl::StatusCode::kAborted, "ETAG_MISMATCH");
}

TEST_CASE("ApplyConversion converts the lead and books the opportunity",
          "[transaction][pipeline][writes]") {
  Lead l = StoredLead(LeadStatus::kQualified);
  Opportunity o = StoredOpportunity(OpportunityStage::kProspecting, "");
  o.create_time = kNow;
  REQUIRE(ApplyConversion(l, o, kCustomer).ok());
  CHECK(o.customer_id == kCustomer);
  CHECK(o.lead_id == kLeadId);
  CHECK(l.status == LeadStatus::kConverted);
  CHECK(l.customer_id == kCustomer);
  CHECK(l.opportunity_id == kOpportunityId);
  CHECK(l.convert_time == kNow);
  CHECK(l.update_time == kNow);
  CHECK(l.version == 4);
}

TEST_CASE("ApplyConversion refuses converted, disqualified leads and bad customer ids",
          "[transaction][pipeline][writes]") {
  Opportunity o = StoredOpportunity(OpportunityStage::kProspecting, "");
  Lead converted = StoredLead(LeadStatus::kConverted);
  converted.opportunity_id = "opp-1";
  absl::Status s = ApplyConversion(converted, o, kCustomer);
  RequireRefused(s, absl::StatusCode::kFailedPrecondition, "LEAD_ALREADY_CONVERTED");
  CHECK(s.message() == "the lead is already converted (opportunity opp-1)");
  Lead disqualified = StoredLead(LeadStatus::kDisqualified);
  RequireRefused(ApplyConversion(disqualified, o, kCustomer), absl::StatusCode::kFailedPrecondition,
                 "INVALID_LEAD_TRANSITION");
  // The lead's state is checked before the customer id.
  RequireRefused(ApplyConversion(disqualified, o, "nope"), absl::StatusCode::kFailedPrecondition,
                 "INVALID_LEAD_TRANSITION");
  Lead l = StoredLead();
  s = ApplyConversion(l, o, "nope");
  REQUIRE(s.code() == absl::StatusCode::kInvalidArgument);
  CHECK(FieldOf(s) == "customer_id");
  CHECK(s.message() == "customer_id must be the UUID of a customer");
  CHECK(l.status == LeadStatus::kWorking);
  CHECK(l.version == 3);
  CHECK(o.customer_id.empty());
  CHECK(o.lead_id.empty());
}

TEST_CASE("ApplyStageMove moves an open opportunity", "[transaction][pipeline][writes]") {
  Opportunity o = StoredOpportunity(OpportunityStage::kProspecting);
  REQUIRE(ApplyStageMove(o, MoveTo(OpportunityStage::kNegotiation, "4"), kNow).ok());
  CHECK(o.stage == OpportunityStage::kNegotiation);
  CHECK(o.version == 5);
  CHECK(o.update_time == kNow);
  CHECK(o.close_time == absl::InfinitePast());
  CHECK(o.close_reason.empty());
  CHECK(o.order_id.empty());
  CHECK(StageMoveEventTypes(OpportunityStage::kNegotiation) ==
        std::vector<const char*>{"opportunity.stage_changed"});
}

TEST_CASE("ApplyStageMove closes with close time and reason, won with its order",
          "[transaction][pipeline][writes]") {
  Opportunity lost = StoredOpportunity();
  StageMove m = MoveTo(OpportunityStage::kClosedLost);
  m.close_reason = "budget";
  REQUIRE(ApplyStageMove(lost, m, kNow).ok());
  CHECK(lost.stage == OpportunityStage::kClosedLost);
  CHECK(lost.close_time == kNow);
  CHECK(lost.close_reason == "budget");
  CHECK(StageMoveEventTypes(OpportunityStage::kClosedLost) ==
        std::vector<const char*>{"opportunity.stage_changed", "opportunity.lost"});

  Opportunity won = StoredOpportunity();
  StageMove w = MoveTo(OpportunityStage::kClosedWon);
  w.order = WonOrder();
  REQUIRE(ApplyStageMove(won, w, kNow).ok());
  CHECK(won.stage == OpportunityStage::kClosedWon);
  CHECK(won.order_id == w.order->id);
  CHECK(won.close_time == kNow);
  CHECK(StageMoveEventTypes(OpportunityStage::kClosedWon) ==
        std::vector<const char*>{"opportunity.stage_changed", "opportunity.won"});
}

TEST_CASE("ApplyStageMove refusals, in order, change nothing", "[transaction][pipeline][writes]") {
  const Opportunity stored = StoredOpportunity(OpportunityStage::kProposal, "");
  Opportunity o = stored;
  // A stale etag comes first, even for a move that is not allowed.
  RequireRefused(ApplyStageMove(o, MoveTo(OpportunityStage::kProposal, "1"), kNow),
                 absl::StatusCode::kAborted, "ETAG_MISMATCH");
  absl::Status s = ApplyStageMove(o, MoveTo(OpportunityStage::kProposal), kNow);
  RequireRefused(s, absl::StatusCode::kFailedPrecondition, "INVALID_STAGE_TRANSITION");
  CHECK(absl::StrContains(s.message(), "it is already there"));
  StageMove w = MoveTo(OpportunityStage::kClosedWon);
  w.order = WonOrder();
  s = ApplyStageMove(o, w, kNow);
  RequireRefused(s, absl::StatusCode::kFailedPrecondition, "OPPORTUNITY_WITHOUT_CUSTOMER");
  CHECK(FieldOf(s) == "customer_id");
  CHECK(s.message() ==
        "the opportunity has no customer_id; set it with UpdateOpportunity before creating its "
        "order");
  // Without an order a customer is not needed.
  Opportunity no_order = stored;
  CHECK(ApplyStageMove(no_order, MoveTo(OpportunityStage::kClosedWon), kNow).ok());
  // Closed stages are final.
  Opportunity closed = StoredOpportunity(OpportunityStage::kClosedWon);
  s = ApplyStageMove(closed, MoveTo(OpportunityStage::kNegotiation), kNow);
  RequireRefused(s, absl::StatusCode::kFailedPrecondition, "INVALID_STAGE_TRANSITION");
  CHECK(absl::StrContains(s.message(), "closed stages are final"));
  CHECK(o.stage == stored.stage);
  CHECK(o.version == stored.version);
  CHECK(o.update_time == stored.update_time);
  CHECK(o.order_id.empty());
  CHECK(closed.version == 4);
}

TEST_CASE("ApplyErasure bumps the version only when something was erased",
          "[transaction][pipeline][writes]") {
  Lead l = StoredLead();
  CHECK(ApplyErasure(l, kNow));
  CHECK(l.email.empty());
  CHECK(l.version == 4);
  CHECK(l.update_time == kNow);
  CHECK_FALSE(ApplyErasure(l, kNow + absl::Hours(1)));
  CHECK(l.version == 4);
  CHECK(l.update_time == kNow);

  Opportunity o = StoredOpportunity();
  CHECK(ApplyErasure(o, kNow));
  CHECK(o.name == kErasedName);
  CHECK(o.version == 5);
  CHECK_FALSE(ApplyErasure(o, kNow));
  CHECK(o.version == 5);
}

}  // namespace
