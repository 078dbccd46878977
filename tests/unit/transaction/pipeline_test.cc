// The sales pipeline: pure domain rules (validation, lead status moves, the
// stage machine, weighting and the forecast with exact figures) and the
// Pipeline use cases over in-memory fakes of PipelineRepository and
// CustomerDirectory (and the shared FakeOrderRepository for won -> order).
#include "services/transaction/app/pipeline.h"

#include <any>
#include <catch2/catch.hpp>
#include <algorithm>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "libs/common/errors.h"
#include "libs/common/id.h"
#include "services/transaction/domain/pipeline.h"
#include "tests/support/fakes/common_fakes.h"
#include "tests/support/fakes/transaction/fake_customer_book.h"
#include "tests/support/fakes/transaction/fake_order_repository.h"
#include "tests/support/fakes/transaction/fake_pipeline_repository.h"

namespace {

using namespace crm::transaction;  // NOLINT
using absl::CivilDay;
using crm::common::FieldOf;
using crm::common::ReasonOf;
using crm::testing::FakeOrderRepository;
using crm::testing::FixedClock;
using crm::testing::SequentialIdGenerator;
using domain::ForecastItem;
using domain::ForecastPeriod;
using domain::ForecastRange;
using domain::Lead;
using domain::LeadStatus;
using domain::Opportunity;
using domain::OpportunityStage;

constexpr char kTenant[] = "11111111-1111-4111-8111-111111111111";
constexpr char kOtherTenant[] = "22222222-2222-4222-8222-222222222222";
constexpr char kCustomer[] = "33333333-3333-4333-8333-333333333333";
const absl::Time kNow = absl::FromUnixNanos(1767225600123456789);  // 2026-01-01, with ns

void RequireInvalidField(const absl::Status& s, const std::string& field) {
  INFO(s.ToString());
  REQUIRE(s.code() == absl::StatusCode::kInvalidArgument);
  CHECK(FieldOf(s) == field);
}

void RequireRefused(const absl::Status& s, absl::StatusCode code, const std::string& reason) {
  INFO(s.ToString());
  REQUIRE(s.code() == code);
  CHECK(ReasonOf(s) == reason);
}

// ==================================================================== fakes

using crm::testing::FakePipelineRepository;

class FakeCustomerDirectory final : public app::CustomerDirectory {
 public:
  absl::StatusOr<app::ResolvedCustomer> Resolve(const app::Actor& actor,
                                                const app::CustomerIdentities& who,
                                                bool create) override {
    calls.push_back({actor.idempotency_key, who.email, who.phone, create});
    if (!fail.ok()) return fail;
    auto it = by_key.find(actor.idempotency_key);
    if (it != by_key.end()) return app::ResolvedCustomer{it->second, false};
    app::ResolvedCustomer r{kCustomer, true};
    by_key[actor.idempotency_key] = r.id;
    return r;
  }
  absl::StatusOr<std::vector<app::RefResolution>> ResolveBatch(
      const app::Actor& actor, const std::vector<app::CustomerRefInput>& refs,
      bool create) override {
    return book.ResolveBatch(actor, refs, create);
  }
  struct Call {
    std::string key;
    std::string email;
    std::string phone;
    bool create;
  };
  crm::testing::FakeCustomerBook book;  // customer ids checked by id
  std::vector<Call> calls;
  std::map<std::string, std::string> by_key;
  absl::Status fail;
};

// ==================================================================== domain

TEST_CASE("WeightedAmount rounds half away from zero, exactly", "[transaction][pipeline]") {
  CHECK(domain::WeightedAmount(1000, 10) == 100);
  CHECK(domain::WeightedAmount(1005, 50) == 503);   // 502.5
  CHECK(domain::WeightedAmount(1003, 50) == 502);   // 501.5
  CHECK(domain::WeightedAmount(1, 50) == 1);        // 0.5
  CHECK(domain::WeightedAmount(1, 49) == 0);        // 0.49
  CHECK(domain::WeightedAmount(999, 33) == 330);    // 329.67
  CHECK(domain::WeightedAmount(149, 1) == 1);       // 1.49
  CHECK(domain::WeightedAmount(150, 1) == 2);       // 1.5
  CHECK(domain::WeightedAmount(-1005, 50) == -503); // -502.5
  CHECK(domain::WeightedAmount(-1, 50) == -1);
  CHECK(domain::WeightedAmount(0, 80) == 0);
  CHECK(domain::WeightedAmount(123456, 0) == 0);
  CHECK(domain::WeightedAmount(domain::kMaxAmountMinor, 100) == domain::kMaxAmountMinor);
  CHECK(domain::WeightedAmount(domain::kMaxAmountMinor, 99) == 990'000'000'000'000);
}

ForecastItem Item(const std::string& owner, const std::string& currency, OpportunityStage stage,
                  int64_t amount, CivilDay close, CivilDay closed = CivilDay(1, 1, 1)) {
  ForecastItem it;
  it.owner = owner;
  it.currency_code = currency;
  it.stage = stage;
  it.amount_minor = amount;
  it.expected_close_date = close;
  it.close_day = closed;
  return it;
}

TEST_CASE("ComputeForecast by owner x month x currency with exact figures",
          "[transaction][pipeline]") {
  using S = OpportunityStage;
  std::vector<ForecastItem> items = {
      Item("ann", "CHF", S::kProspecting, 100'000, CivilDay(2026, 1, 15)),  // 10% -> 10000
      Item("ann", "CHF", S::kProposal, 1'005, CivilDay(2026, 1, 31)),       // 50% -> 503 (502.5)
      Item("ann", "CHF", S::kNegotiation, 999, CivilDay(2026, 2, 1)),       // 80% -> 799 (799.2)
      Item("ann", "EUR", S::kQualification, 2'503, CivilDay(2026, 1, 2)),   // 20% -> 501 (500.6)
      Item("bob", "CHF", S::kNegotiation, 50'000, CivilDay(2026, 1, 10)),   // 80% -> 40000
      // won: counted in the month of the close day, not the expected date
      Item("ann", "CHF", S::kClosedWon, 7'000, CivilDay(2025, 12, 1), CivilDay(2026, 1, 20)),
      Item("bob", "CHF", S::kClosedWon, 3'000, CivilDay(2026, 1, 5), CivilDay(2026, 3, 1)),
      // ignored: lost, outside the range, won outside the range
      Item("ann", "CHF", S::kClosedLost, 1'000'000, CivilDay(2026, 1, 10), CivilDay(2026, 1, 10)),
      Item("ann", "CHF", S::kProspecting, 1'000'000, CivilDay(2025, 12, 31)),
      Item("ann", "CHF", S::kProspecting, 1'000'000, CivilDay(2026, 3, 1)),
      Item("bob", "CHF", S::kClosedWon, 1'000'000, CivilDay(2026, 1, 5), CivilDay(2025, 12, 31)),
  };
  ForecastRange range{ForecastPeriod::kMonth, CivilDay(2026, 1, 1), CivilDay(2026, 2, 28)};
  auto rows = domain::ComputeForecast(items, domain::StageProbabilities{}, range);
  REQUIRE(rows.ok());
  REQUIRE(rows->size() == 4);
  const auto& a = (*rows)[0];
  CHECK(a.owner == "ann");
  CHECK(a.period == "2026-01");
  CHECK(domain::FormatDate(a.period_start) == "2026-01-01");
  CHECK(a.currency_code == "CHF");
  CHECK(a.open_count == 2);
  CHECK(a.open_amount_minor == 101'005);
  CHECK(a.weighted_amount_minor == 10'503);
  CHECK(a.won_count == 1);
  CHECK(a.won_amount_minor == 7'000);
  const auto& b = (*rows)[1];
  CHECK((b.owner == "ann" && b.period == "2026-01" && b.currency_code == "EUR"));
  CHECK(b.open_count == 1);
  CHECK(b.open_amount_minor == 2'503);
  CHECK(b.weighted_amount_minor == 501);
  CHECK(b.won_count == 0);
  const auto& c = (*rows)[2];
  CHECK((c.owner == "ann" && c.period == "2026-02" && c.currency_code == "CHF"));
  CHECK(c.open_count == 1);
  CHECK(c.weighted_amount_minor == 799);
  const auto& d = (*rows)[3];
  CHECK((d.owner == "bob" && d.period == "2026-01" && d.currency_code == "CHF"));
  CHECK(d.open_count == 1);
  CHECK(d.open_amount_minor == 50'000);
  CHECK(d.weighted_amount_minor == 40'000);
  CHECK(d.won_count == 0);  // bob's March win is outside the range

  SECTION("quarters add months up; custom probabilities weight every row") {
    domain::StageProbabilities p;
    p.percent[static_cast<size_t>(S::kProspecting)] = 25;
    ForecastRange q{ForecastPeriod::kQuarter, CivilDay(2026, 1, 1), CivilDay(2026, 3, 31)};
    auto qrows = domain::ComputeForecast(items, p, q);
    REQUIRE(qrows.ok());
    REQUIRE(qrows->size() == 3);  // ann CHF, ann EUR, bob CHF
    const auto& x = (*qrows)[0];
    CHECK((x.owner == "ann" && x.period == "2026-Q1" && x.currency_code == "CHF"));
    // now with the March prospect: 100000*25% + 502.5 + 799.2 + 1000000*25%
    CHECK(x.open_count == 4);
    CHECK(x.open_amount_minor == 1'102'004);
    CHECK(x.weighted_amount_minor == 25'000 + 503 + 799 + 250'000);
    CHECK(x.won_amount_minor == 7'000);
    const auto& z = (*qrows)[2];
    CHECK((z.owner == "bob" && z.period == "2026-Q1"));
    CHECK(z.won_count == 1);
    CHECK(z.won_amount_minor == 3'000);
  }
}

TEST_CASE("ComputeForecast refuses bad ranges and reports overflow", "[transaction][pipeline]") {
  ForecastRange r{ForecastPeriod::kMonth, CivilDay(2026, 2, 1), CivilDay(2026, 1, 1)};
  RequireInvalidField(domain::ComputeForecast({}, {}, r).status(), "to_date");
  r = {ForecastPeriod::kMonth, CivilDay(2026, 1, 1), CivilDay(2031, 1, 1)};
  RequireInvalidField(domain::ComputeForecast({}, {}, r).status(), "to_date");
  r = {ForecastPeriod::kMonth, CivilDay(2026, 1, 1), CivilDay(2030, 12, 31)};
  CHECK(domain::ComputeForecast({}, {}, r).ok());
  r = {ForecastPeriod::kUnspecified, CivilDay(2026, 1, 1), CivilDay(2026, 1, 1)};
  RequireInvalidField(domain::ComputeForecast({}, {}, r).status(), "period");
  std::vector<ForecastItem> many(
      10'000, Item("a", "CHF", OpportunityStage::kProposal, domain::kMaxAmountMinor,
                   CivilDay(2026, 1, 1)));
  r = {ForecastPeriod::kMonth, CivilDay(2026, 1, 1), CivilDay(2026, 1, 1)};
  CHECK(domain::ComputeForecast(many, {}, r).status().code() == absl::StatusCode::kOutOfRange);
}

TEST_CASE("Period labels and starts", "[transaction][pipeline]") {
  CHECK(domain::PeriodLabel(ForecastPeriod::kMonth, CivilDay(2026, 4, 30)) == "2026-04");
  CHECK(domain::PeriodLabel(ForecastPeriod::kQuarter, CivilDay(2026, 4, 30)) == "2026-Q2");
  CHECK(domain::PeriodLabel(ForecastPeriod::kQuarter, CivilDay(2026, 12, 31)) == "2026-Q4");
  CHECK(domain::PeriodStart(ForecastPeriod::kQuarter, CivilDay(2026, 9, 30)) ==
        CivilDay(2026, 7, 1));
  CHECK(domain::PeriodStart(ForecastPeriod::kMonth, CivilDay(2026, 9, 30)) ==
        CivilDay(2026, 9, 1));
}

TEST_CASE("ParseDate takes real calendar days only", "[transaction][pipeline]") {
  auto d = domain::ParseDate("expected_close_date", "2026-02-28");
  REQUIRE(d.ok());
  CHECK(*d == CivilDay(2026, 2, 28));
  CHECK(domain::ParseDate("x", "2028-02-29").ok());
  for (const char* bad : {"2026-02-29", "2026-02-30", "2026-13-01", "2026-1-05", "26-01-05",
                          "2026/01/05", "", "2026-01-05T00:00", "1899-12-31"}) {
    INFO(bad);
    RequireInvalidField(domain::ParseDate("expected_close_date", bad).status(),
                        "expected_close_date");
  }
}

TEST_CASE("Lead normalization and validation", "[transaction][pipeline]") {
  Lead l;
  l.given_name = "  Grace ";
  l.email = " Grace@Example.COM ";
  l.phone = "+41 (44) 668-1800";
  REQUIRE(domain::NormalizeAndValidate(l).ok());
  CHECK(l.given_name == "Grace");
  CHECK(l.email == "grace@example.com");
  CHECK(l.phone == "+41446681800");

  Lead empty;
  RequireInvalidField(domain::NormalizeAndValidate(empty), "family_name");
  Lead company;
  company.company_name = "ACME";
  CHECK(domain::NormalizeAndValidate(company).ok());

  auto bad = [](auto set, const std::string& field) {
    Lead x;
    x.company_name = "ACME";
    set(x);
    RequireInvalidField(domain::NormalizeAndValidate(x), field);
  };
  bad([](Lead& x) { x.email = "not-an-email"; }, "email");
  bad([](Lead& x) { x.email = "a@b"; }, "email");
  bad([](Lead& x) { x.phone = "0446681800"; }, "phone");
  bad([](Lead& x) { x.phone = "+41 44 abc"; }, "phone");
  bad([](Lead& x) { x.score = 101; }, "score");
  bad([](Lead& x) { x.score = -1; }, "score");
  bad([](Lead& x) { x.source = std::string(65, 's'); }, "source");
  bad([](Lead& x) { x.owner = std::string("o\0x", 3); }, "owner");
}

TEST_CASE("Lead status moves", "[transaction][pipeline]") {
  using L = LeadStatus;
  CHECK(domain::CheckLeadTransition(L::kNew, L::kWorking).ok());
  CHECK(domain::CheckLeadTransition(L::kNew, L::kDisqualified).ok());
  CHECK(domain::CheckLeadTransition(L::kWorking, L::kQualified).ok());
  CHECK(domain::CheckLeadTransition(L::kWorking, L::kDisqualified).ok());
  for (auto [from, to] : std::vector<std::pair<L, L>>{{L::kNew, L::kQualified},
                                                      {L::kQualified, L::kWorking},
                                                      {L::kDisqualified, L::kWorking},
                                                      {L::kWorking, L::kNew},
                                                      {L::kQualified, L::kConverted},
                                                      {L::kConverted, L::kWorking}}) {
    absl::Status s = domain::CheckLeadTransition(from, to);
    RequireRefused(s, absl::StatusCode::kFailedPrecondition, "INVALID_LEAD_TRANSITION");
    CHECK(absl::StrContains(s.message(), absl::StrCat("the lead is ", domain::LeadStatusName(from))));
  }
  Lead l;
  l.status = L::kQualified;
  CHECK(domain::CheckConvertible(l).ok());
  l.status = L::kNew;
  CHECK(domain::CheckConvertible(l).ok());
  l.status = L::kDisqualified;
  RequireRefused(domain::CheckConvertible(l), absl::StatusCode::kFailedPrecondition,
                 "INVALID_LEAD_TRANSITION");
  l.status = L::kConverted;
  RequireRefused(domain::CheckConvertible(l), absl::StatusCode::kFailedPrecondition,
                 "LEAD_ALREADY_CONVERTED");
}

TEST_CASE("Stage machine: open stages move freely, closed stages are final",
          "[transaction][pipeline]") {
  using S = OpportunityStage;
  for (int from = 1; from <= 4; ++from) {
    for (int to = 1; to <= 6; ++to) {
      absl::Status s = domain::CheckStageMove(static_cast<S>(from), static_cast<S>(to));
      INFO(from << " -> " << to);
      CHECK(s.ok() == (from != to));
    }
  }
  for (S closed : {S::kClosedWon, S::kClosedLost}) {
    for (int to = 1; to <= 6; ++to) {
      absl::Status s = domain::CheckStageMove(closed, static_cast<S>(to));
      RequireRefused(s, absl::StatusCode::kFailedPrecondition, "INVALID_STAGE_TRANSITION");
      CHECK(absl::StrContains(s.message(), domain::StageName(closed)));
    }
  }
  RequireRefused(domain::CheckStageMove(S::kProposal, S::kUnspecified),
                 absl::StatusCode::kFailedPrecondition, "INVALID_STAGE_TRANSITION");
}

TEST_CASE("Opportunity validation and masks", "[transaction][pipeline]") {
  Opportunity o;
  o.name = " Big deal ";
  o.amount_minor = 1;
  o.currency_code = "chf";
  o.expected_close_date = CivilDay(2026, 6, 30);
  o.stage = OpportunityStage::kProspecting;
  REQUIRE(domain::NormalizeAndValidate(o).ok());
  CHECK(o.name == "Big deal");
  CHECK(o.currency_code == "CHF");

  auto bad = [&o](auto set, const std::string& field) {
    Opportunity x = o;
    set(x);
    RequireInvalidField(domain::NormalizeAndValidate(x), field);
  };
  bad([](Opportunity& x) { x.name = "  "; }, "name");
  bad([](Opportunity& x) { x.amount_minor = -1; }, "amount_minor");
  bad([](Opportunity& x) { x.amount_minor = domain::kMaxAmountMinor + 1; }, "amount_minor");
  bad([](Opportunity& x) { x.currency_code = "XXY"; }, "currency_code");
  bad([](Opportunity& x) { x.customer_id = "nope"; }, "customer_id");
  bad([](Opportunity& x) { x.expected_close_date = CivilDay(1, 1, 1); }, "expected_close_date");

  Opportunity patch;
  patch.amount_minor = 5;
  Opportunity target = o;
  REQUIRE(domain::ApplyOpportunityMask(patch, {"amount_minor"}, target).ok());
  CHECK(target.amount_minor == 5);
  CHECK(target.name == "Big deal");
  for (const char* p : {"stage", "order_id", "id", "nope", "etag"}) {
    INFO(p);
    absl::Status s = domain::ApplyOpportunityMask(patch, {p}, target);
    CHECK(ReasonOf(s) == "INVALID_UPDATE_MASK");
    CHECK(FieldOf(s) == "update_mask");
  }
  CHECK(ReasonOf(domain::ApplyOpportunityMask(patch, {}, target)) == "INVALID_UPDATE_MASK");
  Lead lp;
  Lead lt;
  CHECK(ReasonOf(domain::ApplyLeadMask(lp, {"customer_id"}, lt)) == "INVALID_UPDATE_MASK");
}

TEST_CASE("ApplyProbabilities", "[transaction][pipeline]") {
  domain::StageProbabilities d;
  CHECK(d.Of(OpportunityStage::kProspecting) == 10);
  CHECK(d.Of(OpportunityStage::kQualification) == 20);
  CHECK(d.Of(OpportunityStage::kProposal) == 50);
  CHECK(d.Of(OpportunityStage::kNegotiation) == 80);
  CHECK(d.Of(OpportunityStage::kClosedWon) == 100);
  CHECK(d.Of(OpportunityStage::kClosedLost) == 0);
  auto p = domain::ApplyProbabilities(d, {{3, 65}, {1, 90}});  // not monotonic: allowed
  REQUIRE(p.ok());
  CHECK(p->Of(OpportunityStage::kProposal) == 65);
  CHECK(p->Of(OpportunityStage::kProspecting) == 90);
  CHECK(p->Of(OpportunityStage::kNegotiation) == 80);
  RequireInvalidField(domain::ApplyProbabilities(d, {{3, 101}}).status(),
                      "stages[0].probability_percent");
  RequireInvalidField(domain::ApplyProbabilities(d, {{3, 1}, {3, 2}}).status(), "stages[1].stage");
  RequireInvalidField(domain::ApplyProbabilities(d, {{7, 1}}).status(), "stages[0].stage");
  RequireInvalidField(domain::ApplyProbabilities(d, {{0, 1}}).status(), "stages[0].stage");
  RequireInvalidField(domain::ApplyProbabilities(d, {}).status(), "stages");
}

// =============================================================== use cases

struct Fixture {
  FakePipelineRepository repo;
  FakeOrderRepository order_repo;
  FakeCustomerDirectory directory;
  FixedClock clock{kNow};
  SequentialIdGenerator ids;
  app::Orders orders{order_repo, clock, ids};
  app::Pipeline pipeline{repo, orders, &directory, clock, ids};
  int next_key = 0;

  Fixture() {
    order_repo.AddSku(kTenant, "SKU-1");
    repo.orders = &order_repo;
    directory.book.AddCustomer(kTenant, kCustomer);
  }

  app::Actor ActorFor(const char* method, std::string key = "", std::string fp = "fp") {
    if (key.empty()) key = absl::StrCat("key-", ++next_key);
    return app::Actor{kTenant, "k-sales", "req-1", method, key, fp};
  }

  Lead NewLead() {
    Lead l;
    l.given_name = "Grace";
    l.family_name = "Hopper";
    l.company_name = "Navy";
    l.email = "grace@example.com";
    l.source = "web";
    return l;
  }
  Lead CreateLead(Lead l) {
    auto r = pipeline.CreateLead(ActorFor("CreateLead"), std::move(l));
    INFO(r.status().ToString());
    REQUIRE(r.ok());
    return *r;
  }
  Opportunity NewOpp(const std::string& customer = kCustomer) {
    Opportunity o;
    o.name = "Fleet";
    o.customer_id = customer;
    o.amount_minor = 250'000;
    o.currency_code = "CHF";
    o.expected_close_date = CivilDay(2026, 3, 31);
    return o;
  }
  Opportunity CreateOpp(Opportunity o) {
    auto r = pipeline.CreateOpportunity(ActorFor("CreateOpportunity"), std::move(o));
    INFO(r.status().ToString());
    REQUIRE(r.ok());
    return *r;
  }
  Opportunity ConvertOpp() {
    Opportunity o;
    o.currency_code = "chf";
    o.amount_minor = 120'000;
    o.expected_close_date = CivilDay(2026, 2, 28);
    return o;
  }
};

TEST_CASE("CreateLead: request_id required, defaults, bad input writes nothing",
          "[transaction][pipeline][app]") {
  Fixture f;
  app::Actor no_key = f.ActorFor("CreateLead");
  no_key.idempotency_key.clear();
  RequireInvalidField(f.pipeline.CreateLead(no_key, f.NewLead()).status(), "request_id");
  no_key.idempotency_key = std::string(129, 'k');
  RequireInvalidField(f.pipeline.CreateLead(no_key, f.NewLead()).status(), "request_id");
  Lead bad = f.NewLead();
  bad.email = "nope";
  RequireInvalidField(f.pipeline.CreateLead(f.ActorFor("CreateLead"), bad).status(), "email");
  Lead working = f.NewLead();
  working.status = LeadStatus::kWorking;
  RequireInvalidField(f.pipeline.CreateLead(f.ActorFor("CreateLead"), working).status(), "status");
  CHECK(f.repo.writes() == 0);

  Lead l = f.CreateLead(f.NewLead());
  CHECK(l.status == LeadStatus::kNew);
  CHECK(l.owner == "k-sales");
  CHECK(l.version == 1);
  CHECK(l.create_time == absl::FromUnixMicros(absl::ToUnixMicros(kNow)));
  CHECK(f.repo.events() == std::vector<std::string>{"lead.created:" + l.id});
}

TEST_CASE("UpdateLead: status moves are checked, converted leads are read-only",
          "[transaction][pipeline][app]") {
  Fixture f;
  Lead l = f.CreateLead(f.NewLead());
  Lead patch;
  patch.status = LeadStatus::kQualified;
  absl::Status s =
      f.pipeline.UpdateLead(f.ActorFor("UpdateLead"), l.id, patch, {"status"}, "").status();
  RequireRefused(s, absl::StatusCode::kFailedPrecondition, "INVALID_LEAD_TRANSITION");
  CHECK(absl::StrContains(s.message(), "the lead is new"));
  patch.status = LeadStatus::kWorking;
  patch.score = 42;
  auto r = f.pipeline.UpdateLead(f.ActorFor("UpdateLead"), l.id, patch, {"status", "score"}, "1");
  REQUIRE(r.ok());
  CHECK(r->status == LeadStatus::kWorking);
  CHECK(r->score == 42);
  CHECK(r->version == 2);
  // stale etag
  RequireRefused(
      f.pipeline.UpdateLead(f.ActorFor("UpdateLead"), l.id, patch, {"score"}, "1").status(),
      absl::StatusCode::kAborted, "ETAG_MISMATCH");
  // unknown path: refused before any I/O
  int reads = f.repo.reads();
  CHECK(ReasonOf(f.pipeline.UpdateLead(f.ActorFor("UpdateLead"), l.id, patch, {"nope"}, "")
                     .status()) == "INVALID_UPDATE_MASK");
  CHECK(f.repo.reads() == reads);
  // another tenant
  app::Actor other = f.ActorFor("UpdateLead");
  other.tenant_id = kOtherTenant;
  RequireRefused(f.pipeline.UpdateLead(other, l.id, patch, {"score"}, "").status(),
                 absl::StatusCode::kNotFound, "LEAD_NOT_FOUND");
  // converted: read-only
  REQUIRE(f.pipeline.ConvertLead(f.ActorFor("ConvertLead"), l.id, kCustomer, f.ConvertOpp()).ok());
  RequireRefused(
      f.pipeline.UpdateLead(f.ActorFor("UpdateLead"), l.id, patch, {"score"}, "").status(),
      absl::StatusCode::kFailedPrecondition, "LEAD_ALREADY_CONVERTED");
}

TEST_CASE("ConvertLead with an existing customer creates the opportunity once",
          "[transaction][pipeline][app]") {
  Fixture f;
  Lead l = f.CreateLead(f.NewLead());
  app::Actor a = f.ActorFor("ConvertLead", "conv-1");
  auto c = f.pipeline.ConvertLead(a, l.id, kCustomer, f.ConvertOpp());
  INFO(c.status().ToString());
  REQUIRE(c.ok());
  CHECK(c->lead.status == LeadStatus::kConverted);
  CHECK(c->lead.customer_id == kCustomer);
  CHECK(c->lead.opportunity_id == c->opportunity.id);
  CHECK(c->opportunity.name == "Navy");  // defaults to the company
  CHECK(c->opportunity.owner == "k-sales");
  CHECK(c->opportunity.lead_id == l.id);
  CHECK(c->opportunity.stage == OpportunityStage::kProspecting);
  CHECK(c->opportunity.currency_code == "CHF");
  CHECK_FALSE(c->customer_created);
  CHECK(f.directory.calls.empty());

  // The same request again: the same answer, nothing new.
  int writes = f.repo.writes();
  auto again = f.pipeline.ConvertLead(a, l.id, kCustomer, f.ConvertOpp());
  REQUIRE(again.ok());
  CHECK(again->opportunity.id == c->opportunity.id);
  CHECK(f.repo.writes() == writes);
  // Another body under the same key.
  app::Actor other_body = a;
  other_body.fingerprint = "fp-2";
  RequireRefused(f.pipeline.ConvertLead(other_body, l.id, kCustomer, f.ConvertOpp()).status(),
                 absl::StatusCode::kInvalidArgument, "IDEMPOTENCY_KEY_REUSED");
  // Another request: already converted.
  RequireRefused(
      f.pipeline.ConvertLead(f.ActorFor("ConvertLead"), l.id, kCustomer, f.ConvertOpp()).status(),
      absl::StatusCode::kFailedPrecondition, "LEAD_ALREADY_CONVERTED");
  auto history = f.pipeline.StageHistory(kTenant, c->opportunity.id);
  REQUIRE(history.ok());
  REQUIRE(history->size() == 1);
  CHECK((*history)[0].from == OpportunityStage::kUnspecified);
  CHECK((*history)[0].to == OpportunityStage::kProspecting);
}

TEST_CASE("ConvertLead resolves the customer through the directory",
          "[transaction][pipeline][app]") {
  Fixture f;
  Lead in = f.NewLead();
  in.phone = "+41 44 668 18 00";
  Lead l = f.CreateLead(in);
  auto c = f.pipeline.ConvertLead(f.ActorFor("ConvertLead", "conv-9"), l.id, "", f.ConvertOpp());
  INFO(c.status().ToString());
  REQUIRE(c.ok());
  CHECK(c->customer_created);
  CHECK(c->lead.customer_id == kCustomer);
  CHECK(c->opportunity.customer_id == kCustomer);
  REQUIRE(f.directory.calls.size() == 1);
  CHECK(f.directory.calls[0].key == "conv-9/customer");
  CHECK(f.directory.calls[0].email == "grace@example.com");
  CHECK(f.directory.calls[0].phone == "+41446681800");
  CHECK(f.directory.calls[0].create);
  // A retry does not resolve again: the lead is converted, the answer replayed.
  auto again = f.pipeline.ConvertLead(f.ActorFor("ConvertLead", "conv-9"), l.id, "",
                                      f.ConvertOpp());
  REQUIRE(again.ok());
  CHECK(again->customer_created);
  CHECK(f.directory.calls.size() == 1);
}

TEST_CASE("ConvertLead refusals write nothing", "[transaction][pipeline][app]") {
  Fixture f;
  Lead no_contact;
  no_contact.company_name = "ACME";
  Lead l = f.CreateLead(no_contact);
  int writes = f.repo.writes();
  RequireInvalidField(
      f.pipeline.ConvertLead(f.ActorFor("ConvertLead"), l.id, "", f.ConvertOpp()).status(),
      "customer_id");
  Opportunity bad = f.ConvertOpp();
  bad.currency_code = "ZZZ";
  RequireInvalidField(
      f.pipeline.ConvertLead(f.ActorFor("ConvertLead"), l.id, kCustomer, bad).status(),
      "opportunity.currency_code");
  bad = f.ConvertOpp();
  bad.expected_close_date = CivilDay(1, 1, 1);
  RequireInvalidField(
      f.pipeline.ConvertLead(f.ActorFor("ConvertLead"), l.id, kCustomer, bad).status(),
      "opportunity.expected_close_date");
  RequireInvalidField(
      f.pipeline.ConvertLead(f.ActorFor("ConvertLead"), l.id, "nope", f.ConvertOpp()).status(),
      "customer_id");
  Lead with_email = f.CreateLead(f.NewLead());
  writes = f.repo.writes();
  f.directory.fail = absl::UnavailableError("customer-store down");
  CHECK(f.pipeline.ConvertLead(f.ActorFor("ConvertLead"), with_email.id, "", f.ConvertOpp())
            .status()
            .code() == absl::StatusCode::kUnavailable);
  CHECK(f.repo.writes() == writes);
  RequireRefused(f.pipeline.ConvertLead(f.ActorFor("ConvertLead"), crm::common::NewUuid(), kCustomer,
                                        f.ConvertOpp())
                     .status(),
                 absl::StatusCode::kNotFound, "LEAD_NOT_FOUND");

  // Without a directory, an explicit customer is needed.
  app::Pipeline bare(f.repo, f.orders, nullptr, f.clock, f.ids);
  CHECK(bare.ConvertLead(f.ActorFor("ConvertLead"), with_email.id, "", f.ConvertOpp())
            .status()
            .code() == absl::StatusCode::kUnavailable);
  CHECK(bare.ConvertLead(f.ActorFor("ConvertLead"), with_email.id, kCustomer, f.ConvertOpp()).ok());
}

TEST_CASE("Opportunities: create, move with history, closed stages final",
          "[transaction][pipeline][app]") {
  Fixture f;
  Opportunity closed = f.NewOpp();
  closed.stage = OpportunityStage::kClosedWon;
  RequireInvalidField(
      f.pipeline.CreateOpportunity(f.ActorFor("CreateOpportunity"), closed).status(), "stage");
  Opportunity o = f.CreateOpp(f.NewOpp());
  CHECK(o.stage == OpportunityStage::kProspecting);
  CHECK(o.owner == "k-sales");

  f.clock.Advance(absl::Hours(1));
  auto m = f.pipeline.MoveStage(f.ActorFor("MoveOpportunityStage"), o.id,
                                OpportunityStage::kProposal, "1");
  REQUIRE(m.ok());
  CHECK(m->stage == OpportunityStage::kProposal);
  CHECK(m->version == 2);
  RequireInvalidField(f.pipeline
                          .MoveStage(f.ActorFor("MoveOpportunityStage"), o.id,
                                     OpportunityStage::kUnspecified, "")
                          .status(),
                      "to_stage");
  f.clock.Advance(absl::Hours(1));
  auto lost = f.pipeline.Close(f.ActorFor("CloseOpportunity"), o.id, false, " budget cut ", "",
                               std::nullopt);
  REQUIRE(lost.ok());
  CHECK(lost->stage == OpportunityStage::kClosedLost);
  CHECK(lost->close_reason == "budget cut");
  CHECK(lost->close_time != absl::InfinitePast());
  absl::Status s = f.pipeline
                       .MoveStage(f.ActorFor("MoveOpportunityStage"), o.id,
                                  OpportunityStage::kNegotiation, "")
                       .status();
  RequireRefused(s, absl::StatusCode::kFailedPrecondition, "INVALID_STAGE_TRANSITION");
  CHECK(absl::StrContains(s.message(), "closed_lost"));
  RequireRefused(f.pipeline
                     .UpdateOpportunity(f.ActorFor("UpdateOpportunity"), o.id, f.NewOpp(),
                                        {"amount_minor"}, "")
                     .status(),
                 absl::StatusCode::kFailedPrecondition, "INVALID_STAGE_TRANSITION");

  auto h = f.pipeline.StageHistory(kTenant, o.id);
  REQUIRE(h.ok());
  REQUIRE(h->size() == 3);
  CHECK((*h)[1].from == OpportunityStage::kProspecting);
  CHECK((*h)[1].to == OpportunityStage::kProposal);
  CHECK((*h)[1].at == absl::FromUnixMicros(absl::ToUnixMicros(kNow + absl::Hours(1))));
  CHECK((*h)[1].principal == "k-sales");
  CHECK((*h)[2].to == OpportunityStage::kClosedLost);
  RequireRefused(f.pipeline.StageHistory(kOtherTenant, o.id).status(),
                 absl::StatusCode::kNotFound, "OPPORTUNITY_NOT_FOUND");
  CHECK(f.repo.events() ==
        std::vector<std::string>{"opportunity.created:" + o.id,
                                 "opportunity.stage_changed:" + o.id,
                                 "opportunity.stage_changed:" + o.id, "opportunity.lost:" + o.id});
}

domain::Order OrderSpec(const std::string& sku = "SKU-1") {
  domain::Order o;
  o.lines = {{sku, 2, 125'000, 0, 0}};
  o.channel = domain::SalesChannel::kCallCenter;
  return o;
}

TEST_CASE("Close won with an order creates the order once and links it",
          "[transaction][pipeline][app]") {
  Fixture f;
  Opportunity o = f.CreateOpp(f.NewOpp());
  app::Actor a = f.ActorFor("CloseOpportunity", "close-1");
  auto won = f.pipeline.Close(a, o.id, true, "", "", OrderSpec());
  INFO(won.status().ToString());
  REQUIRE(won.ok());
  CHECK(won->stage == OpportunityStage::kClosedWon);
  REQUIRE_FALSE(won->order_id.empty());
  REQUIRE(f.order_repo.last_insert().has_value());
  CHECK(f.order_repo.last_insert()->customer_id == kCustomer);
  CHECK(f.order_repo.last_insert()->currency_code == "CHF");  // the opportunity's
  CHECK(f.order_repo.last_insert()->total_minor == 250'000);
  auto order = f.orders.Get(kTenant, won->order_id);
  REQUIRE(order.ok());
  CHECK(order->status == domain::OrderStatus::kPlaced);
  int order_writes = f.order_repo.writes();

  // Retry: the same opportunity, no second order.
  auto again = f.pipeline.Close(a, o.id, true, "", "", OrderSpec());
  REQUIRE(again.ok());
  CHECK(again->order_id == won->order_id);
  CHECK(f.order_repo.writes() == order_writes);
  // Another close: refused naming the stage, no order.
  absl::Status s =
      f.pipeline.Close(f.ActorFor("CloseOpportunity"), o.id, true, "", "", OrderSpec()).status();
  RequireRefused(s, absl::StatusCode::kFailedPrecondition, "INVALID_STAGE_TRANSITION");
  CHECK(absl::StrContains(s.message(), "closed_won"));
  CHECK(f.order_repo.writes() == order_writes);
  std::vector<std::string> events = f.repo.events();
  CHECK(events.back() == "opportunity.won:" + o.id);
}

TEST_CASE("Close with a bad order writes nothing", "[transaction][pipeline][app]") {
  Fixture f;
  Opportunity o = f.CreateOpp(f.NewOpp());
  int writes = f.repo.writes();
  RequireInvalidField(
      f.pipeline.Close(f.ActorFor("CloseOpportunity"), o.id, false, "", "", OrderSpec()).status(),
      "create_order");
  absl::Status s =
      f.pipeline.Close(f.ActorFor("CloseOpportunity"), o.id, true, "", "", OrderSpec("NOPE"))
          .status();
  CHECK(ReasonOf(s) == "UNKNOWN_SKU");
  CHECK(FieldOf(s) == "create_order.lines[0].sku");
  domain::Order empty;
  RequireInvalidField(
      f.pipeline.Close(f.ActorFor("CloseOpportunity"), o.id, true, "", "", empty).status(),
      "create_order.lines");
  RequireRefused(
      f.pipeline.Close(f.ActorFor("CloseOpportunity"), o.id, true, "", "7", OrderSpec()).status(),
      absl::StatusCode::kAborted, "ETAG_MISMATCH");
  Opportunity no_customer = f.CreateOpp(f.NewOpp(""));
  writes = f.repo.writes();
  s = f.pipeline.Close(f.ActorFor("CloseOpportunity"), no_customer.id, true, "", "", OrderSpec())
          .status();
  RequireRefused(s, absl::StatusCode::kFailedPrecondition, "OPPORTUNITY_WITHOUT_CUSTOMER");
  CHECK(f.repo.writes() == writes);
  CHECK(f.order_repo.writes() == 0);
  auto still = f.pipeline.GetOpportunity(kTenant, o.id);
  REQUIRE(still.ok());
  CHECK(still->stage == OpportunityStage::kProspecting);
}

TEST_CASE("UpdateOpportunity changes amount, close date and owner",
          "[transaction][pipeline][app]") {
  Fixture f;
  Opportunity o = f.CreateOpp(f.NewOpp());
  Opportunity patch;
  patch.amount_minor = 99;
  patch.expected_close_date = CivilDay(2026, 9, 30);
  patch.owner = "k-bob";
  auto r = f.pipeline.UpdateOpportunity(f.ActorFor("UpdateOpportunity"), o.id, patch,
                                        {"amount_minor", "expected_close_date", "owner"}, "1");
  REQUIRE(r.ok());
  CHECK(r->amount_minor == 99);
  CHECK(r->expected_close_date == CivilDay(2026, 9, 30));
  CHECK(r->owner == "k-bob");
  CHECK(r->name == "Fleet");
  patch.currency_code = "nope";
  RequireInvalidField(f.pipeline
                          .UpdateOpportunity(f.ActorFor("UpdateOpportunity"), o.id, patch,
                                             {"currency_code"}, "")
                          .status(),
                      "currency_code");
  CHECK(ReasonOf(f.pipeline
                     .UpdateOpportunity(f.ActorFor("UpdateOpportunity"), o.id, patch, {"stage"},
                                        "")
                     .status()) == "INVALID_UPDATE_MASK");
}

TEST_CASE("Probabilities and forecast through the use cases", "[transaction][pipeline][app]") {
  Fixture f;
  Opportunity a = f.NewOpp();
  a.amount_minor = 1'005;
  Opportunity oa = f.CreateOpp(a);
  REQUIRE(f.pipeline
              .MoveStage(f.ActorFor("MoveOpportunityStage"), oa.id, OpportunityStage::kProposal,
                         "")
              .ok());
  Opportunity b = f.NewOpp();
  b.amount_minor = 333;
  b.currency_code = "EUR";
  f.CreateOpp(b);

  RequireInvalidField(
      f.pipeline.UpdateProbabilities(f.ActorFor("UpdateStageProbabilities"), {{3, 120}}).status(),
      "stages[0].probability_percent");
  auto p = f.pipeline.UpdateProbabilities(f.ActorFor("UpdateStageProbabilities"), {{3, 30}});
  REQUIRE(p.ok());
  CHECK(p->Of(OpportunityStage::kProposal) == 30);

  ForecastRange range{ForecastPeriod::kMonth, CivilDay(2026, 1, 1), CivilDay(2026, 12, 31)};
  auto rows = f.pipeline.Forecast(kTenant, "", "", range);
  REQUIRE(rows.ok());
  REQUIRE(rows->size() == 2);
  CHECK((*rows)[0].currency_code == "CHF");
  CHECK((*rows)[0].weighted_amount_minor == 302);  // 1005 x 30% = 301.5
  CHECK((*rows)[1].currency_code == "EUR");
  CHECK((*rows)[1].weighted_amount_minor == 33);  // 333 x 10% = 33.3
  auto chf = f.pipeline.Forecast(kTenant, "", "chf", range);
  REQUIRE(chf.ok());
  CHECK(chf->size() == 1);
  CHECK(f.repo.last_forecast_query().currency_code == "CHF");
  RequireInvalidField(f.pipeline.Forecast(kTenant, "", "ABC", range).status(), "currency_code");
}

}  // namespace

// ---- customer ids are checked in customer-store; erasure ----

TEST_CASE("Opportunities and conversions name existing customers only",
          "[transaction][pipeline][customers]") {
  Fixture f;
  const std::string unknown = "77777777-7777-4777-8777-777777777777";
  const std::string merged = "55555555-5555-4555-8555-555555555555";
  const std::string survivor = "66666666-6666-4666-8666-666666666666";
  f.directory.book.AddCustomer(kTenant, survivor);
  f.directory.book.Merge(kTenant, merged, survivor);

  SECTION("CreateOpportunity") {
    auto r = f.pipeline.CreateOpportunity(f.ActorFor("CreateOpportunity"), f.NewOpp(unknown));
    RequireRefused(r.status(), absl::StatusCode::kFailedPrecondition, "CUSTOMER_NOT_FOUND");
    CHECK(FieldOf(r.status()) == "customer_id");
    CHECK(f.repo.writes() == 0);
    Opportunity o = f.CreateOpp(f.NewOpp(merged));
    CHECK(o.customer_id == survivor);
    // Without a customer nothing is asked.
    int calls = f.directory.book.calls;
    f.CreateOpp(f.NewOpp(""));
    CHECK(f.directory.book.calls == calls);
  }
  SECTION("UpdateOpportunity with the customer_id path") {
    Opportunity o = f.CreateOpp(f.NewOpp(""));
    Opportunity patch;
    patch.customer_id = unknown;
    auto r = f.pipeline.UpdateOpportunity(f.ActorFor("UpdateOpportunity"), o.id, patch,
                                          {"customer_id"}, "");
    RequireRefused(r.status(), absl::StatusCode::kFailedPrecondition, "CUSTOMER_NOT_FOUND");
    patch.customer_id = merged;
    auto ok = f.pipeline.UpdateOpportunity(f.ActorFor("UpdateOpportunity"), o.id, patch,
                                           {"customer_id"}, "");
    REQUIRE(ok.ok());
    CHECK(ok->customer_id == survivor);
    // Other paths do not ask customer-store.
    int calls = f.directory.book.calls;
    Opportunity amount;
    amount.amount_minor = 7;
    REQUIRE(f.pipeline
                .UpdateOpportunity(f.ActorFor("UpdateOpportunity"), o.id, amount,
                                   {"amount_minor"}, "")
                .ok());
    CHECK(f.directory.book.calls == calls);
  }
  SECTION("ConvertLead with an explicit customer_id; a replay is not checked again") {
    Lead l = f.CreateLead(f.NewLead());
    auto bad = f.pipeline.ConvertLead(f.ActorFor("ConvertLead"), l.id, unknown, f.ConvertOpp());
    RequireRefused(bad.status(), absl::StatusCode::kFailedPrecondition, "CUSTOMER_NOT_FOUND");
    app::Actor a = f.ActorFor("ConvertLead");
    auto c = f.pipeline.ConvertLead(a, l.id, kCustomer, f.ConvertOpp());
    REQUIRE(c.ok());
    int calls = f.directory.book.calls;
    f.directory.book.fail = absl::UnavailableError("customer-store down");
    auto again = f.pipeline.ConvertLead(a, l.id, kCustomer, f.ConvertOpp());
    REQUIRE(again.ok());
    CHECK(again->opportunity.id == c->opportunity.id);
    CHECK(f.directory.book.calls == calls);
  }
}

TEST_CASE("EraseCustomer clears the personal data of the customer's pipeline, once per event",
          "[transaction][pipeline][erasure]") {
  Fixture f;
  Lead converted = f.CreateLead(f.NewLead());
  auto c = f.pipeline.ConvertLead(f.ActorFor("ConvertLead"), converted.id, kCustomer,
                                  f.ConvertOpp());
  REQUIRE(c.ok());
  Lead unrelated = f.CreateLead(f.NewLead());  // same email, never converted: not this customer
  Opportunity other = f.CreateOpp(f.NewOpp(""));
  const std::string event = "88888888-8888-4888-8888-888888888888";

  RequireInvalidField(f.pipeline.EraseCustomer(kTenant, "transaction", "nope", {kCustomer}).status(),
                      "event_id");
  RequireInvalidField(f.pipeline.EraseCustomer(kTenant, "transaction", event, {"x"}).status(),
                      "customer_id");

  auto r = f.pipeline.EraseCustomer(kTenant, "transaction", event, {kCustomer});
  REQUIRE(r.ok());
  CHECK(r->applied);
  CHECK(r->leads == 1);
  CHECK(r->opportunities == 1);
  Lead erased = *f.pipeline.GetLead(kTenant, converted.id);
  CHECK(erased.given_name.empty());
  CHECK(erased.family_name.empty());
  CHECK(erased.email.empty());
  CHECK(erased.phone.empty());
  CHECK(erased.company_name == "Navy");  // business data stays
  CHECK(erased.version == c->lead.version + 1);
  Opportunity opp = *f.pipeline.GetOpportunity(kTenant, c->opportunity.id);
  CHECK(opp.name == domain::kErasedName);
  CHECK(f.pipeline.GetLead(kTenant, unrelated.id)->email == "grace@example.com");
  CHECK(f.pipeline.GetOpportunity(kTenant, other.id)->name == "Fleet");

  auto again = f.pipeline.EraseCustomer(kTenant, "transaction", event, {kCustomer});
  REQUIRE(again.ok());
  CHECK_FALSE(again->applied);
}

TEST_CASE("ErasePersonalData", "[transaction][pipeline][erasure]") {
  Lead l;
  l.given_name = "Ada";
  l.email = "ada@example.com";
  l.company_name = "Engines";
  CHECK(domain::ErasePersonalData(l));
  CHECK(l.given_name.empty());
  CHECK(l.email.empty());
  CHECK(l.company_name == "Engines");
  CHECK_FALSE(domain::ErasePersonalData(l));
  Opportunity o;
  o.name = "Ada Lovelace";
  o.close_reason = "Ada chose a rival";
  CHECK(domain::ErasePersonalData(o));
  CHECK(o.name == domain::kErasedName);
  CHECK(o.close_reason.empty());
  CHECK_FALSE(domain::ErasePersonalData(o));
}

