// PgPipelineRepository (and app::Pipeline over it, with the real order
// repository for won -> order) against the private PostgreSQL (app role, RLS
// on). Schema txn is reset once per process; every test works in its own
// random tenant.
#include <catch2/catch.hpp>
#include <cstdint>
#include <functional>
#include <memory>
#include <pqxx/pqxx>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "libs/common/errors.h"
#include "libs/common/id.h"
#include "libs/common/status_macros.h"
#include "libs/pg/pool.h"
#include "services/transaction/app/catalog.h"
#include "services/transaction/app/orders.h"
#include "services/transaction/app/pipeline.h"
#include "services/transaction/storage/pg_order_repository.h"
#include "services/transaction/storage/pg_pipeline_repository.h"
#include "services/transaction/storage/pg_product_repository.h"
#include "tests/support/fakes/common_fakes.h"
#include "tests/support/pg_test_db.h"

namespace crm::transaction::itest {
namespace {

namespace ts = crm::test_support;
using absl::CivilDay;
using absl::StatusCode;
using common::FieldOf;
using common::ReasonOf;
using domain::Lead;
using domain::LeadStatus;
using domain::Opportunity;
using domain::OpportunityStage;

struct Env {
  std::unique_ptr<crm::pg::Pool> pool;
  std::unique_ptr<storage::PgProductRepository> products;
  std::unique_ptr<storage::PgOrderRepository> orders;
  std::unique_ptr<storage::PgPipelineRepository> pipeline;
};

Env& TheEnv() {
  static Env* env = [] {
    auto* e = new Env;
    e->pool = ts::FreshSchemaPool("transaction", "txn", 4,
                                  {storage::PgProductRepository::Queries(),
                                   storage::PgOrderRepository::Queries(),
                                   storage::PgPipelineRepository::Queries()});
    e->products = std::make_unique<storage::PgProductRepository>(*e->pool);
    e->orders = std::make_unique<storage::PgOrderRepository>(*e->pool);
    e->pipeline = std::make_unique<storage::PgPipelineRepository>(*e->pool, e->orders.get());
    return e;
  }();
  return *env;
}

storage::PgPipelineRepository& Repo() { return *TheEnv().pipeline; }

app::Actor ActorOf(const std::string& tenant, const std::string& method,
                   const std::string& key = "", const std::string& fingerprint = "fp-1") {
  app::Actor a;
  a.tenant_id = tenant;
  a.principal = "k-itest";
  a.request_id = "req-itest";
  a.method = method;
  a.idempotency_key = key.empty() ? common::NewUuid() : key;
  a.fingerprint = fingerprint;
  return a;
}

// The writes below drive the repository through its port (app::PipelineTx)
// the way app::Pipeline does, with the test's own ids and times, so each
// statement and event of the adapter is checked on its own.
absl::StatusOr<Lead> InsertLead(const app::Actor& a, const Lead& l) {
  return Repo().Run<Lead>(a, l.id, [&](app::PipelineTx& tx) -> absl::StatusOr<Lead> {
    tx.SaveLead(l, true);
    tx.EmitLead("lead.created", l);
    return l;
  });
}
absl::StatusOr<Lead> UpdateLead(const app::Actor& a, const std::string& id,
                                const std::string& if_match,
                                const std::function<absl::Status(Lead&)>& mutate) {
  return Repo().Run<Lead>(a, id, [&](app::PipelineTx& tx) -> absl::StatusOr<Lead> {
    CRM_ASSIGN_OR_RETURN(Lead l, tx.LoadLead(id));
    CRM_ASSIGN_OR_RETURN(bool changed, domain::ApplyUpdate(l, if_match, mutate));
    if (changed) {
      tx.SaveLead(l, false);
      tx.EmitLead("lead.updated", l);
    }
    return l;
  });
}
absl::StatusOr<app::Conversion> ConvertLead(const app::Actor& a, const std::string& lead_id,
                                            const std::string& customer, bool created,
                                            const Opportunity& opportunity) {
  return Repo().Run<app::Conversion>(
      a, lead_id, [&](app::PipelineTx& tx) -> absl::StatusOr<app::Conversion> {
        CRM_ASSIGN_OR_RETURN(Lead l, tx.LoadLead(lead_id));
        Opportunity o = opportunity;
        CRM_RETURN_IF_ERROR(domain::ApplyConversion(l, o, customer));
        tx.SaveOpportunity(o, true);
        tx.AppendStageChange(o.id,
                             {OpportunityStage::kUnspecified, o.stage, o.create_time, a.principal});
        tx.SaveLead(l, false);
        tx.EmitLead("lead.converted", l);
        tx.EmitOpportunity("opportunity.created", o, OpportunityStage::kUnspecified);
        return app::Conversion{l, o, created};
      });
}
absl::StatusOr<Opportunity> InsertOpportunity(const app::Actor& a, const Opportunity& o) {
  return Repo().Run<Opportunity>(a, o.id, [&](app::PipelineTx& tx) -> absl::StatusOr<Opportunity> {
    tx.SaveOpportunity(o, true);
    tx.AppendStageChange(o.id,
                         {OpportunityStage::kUnspecified, o.stage, o.create_time, a.principal});
    tx.EmitOpportunity("opportunity.created", o, OpportunityStage::kUnspecified);
    return o;
  });
}
absl::StatusOr<Opportunity> UpdateOpportunity(
    const app::Actor& a, const std::string& id, const std::string& if_match,
    const std::function<absl::Status(Opportunity&)>& mutate) {
  return Repo().Run<Opportunity>(a, id, [&](app::PipelineTx& tx) -> absl::StatusOr<Opportunity> {
    CRM_ASSIGN_OR_RETURN(Opportunity o, tx.LoadOpportunity(id));
    CRM_ASSIGN_OR_RETURN(bool changed, domain::ApplyUpdate(o, if_match, mutate));
    if (changed) {
      tx.SaveOpportunity(o, false);
      tx.EmitOpportunity("opportunity.updated", o, OpportunityStage::kUnspecified);
    }
    return o;
  });
}
absl::StatusOr<Opportunity> MoveStage(const app::Actor& a, const std::string& id,
                                      const app::StageMove& move, absl::Time now) {
  return Repo().Run<Opportunity>(a, id, [&](app::PipelineTx& tx) -> absl::StatusOr<Opportunity> {
    CRM_ASSIGN_OR_RETURN(Opportunity o, tx.LoadOpportunity(id));
    const OpportunityStage from = o.stage;
    CRM_RETURN_IF_ERROR(domain::ApplyStageMove(o, move, now));
    tx.SaveOpportunity(o, false);
    tx.AppendStageChange(id, {from, o.stage, now, a.principal});
    for (const char* type : domain::StageMoveEventTypes(o.stage)) {
      tx.EmitOpportunity(type, o, from);
    }
    return o;
  });
}
// Through the use case (its clock at `now`).
absl::StatusOr<domain::StageProbabilities> UpdateProbabilities(
    const app::Actor& a, const std::vector<std::pair<int, int>>& changes, absl::Time now) {
  crm::testing::FixedClock clock(now);
  common::RandomIdGenerator ids;
  app::Orders orders(*TheEnv().orders, clock, ids);
  app::Pipeline pipeline(Repo(), orders, nullptr, clock, ids);
  return pipeline.UpdateProbabilities(a, changes);
}

int64_t CountIn(const std::string& tenant, const std::string& sql) {
  int64_t n = -1;
  absl::Status s = TheEnv().pool->WithTenantTx(tenant, [&](pqxx::work& tx) {
    n = tx.exec1(sql)[0].as<int64_t>();
    return absl::OkStatus();
  });
  INFO(sql << " -> " << s.ToString());
  REQUIRE(s.ok());
  return n;
}
int64_t CountEvents(const std::string& tenant, const std::string& type,
                    const std::string& subject = "") {
  std::string sql = absl::StrCat("SELECT count(*) FROM txn.outbox WHERE event_type = '", type, "'");
  if (!subject.empty()) absl::StrAppend(&sql, " AND customer_id = '", subject, "'");
  return CountIn(tenant, sql);
}

const absl::Time kT0 = absl::FromUnixMicros(1767225600000000);  // 2026-01-01T00:00:00Z

Lead NewLead() {
  Lead l;
  l.id = common::NewUuid();
  l.given_name = "Grace";
  l.family_name = "Hopper";
  l.company_name = "Navy";
  l.email = "grace@example.com";
  l.phone = "+41446681800";
  l.source = "web";
  l.status = LeadStatus::kNew;
  l.owner = "ann";
  l.score = 7;
  l.version = 1;
  l.create_time = l.update_time = kT0;
  return l;
}

Opportunity NewOpp(const std::string& customer, int64_t amount = 100'000,
                   OpportunityStage stage = OpportunityStage::kProspecting,
                   CivilDay close = CivilDay(2026, 3, 31), const std::string& owner = "ann",
                   const std::string& currency = "CHF") {
  Opportunity o;
  o.id = common::NewUuid();
  o.name = "Fleet";
  o.customer_id = customer;
  o.amount_minor = amount;
  o.currency_code = currency;
  o.expected_close_date = close;
  o.owner = owner;
  o.stage = stage;
  o.version = 1;
  o.create_time = o.update_time = kT0;
  return o;
}

Lead InsertLeadOk(const std::string& tenant, const Lead& l) {
  auto r = InsertLead(ActorOf(tenant, "CreateLead"), l);
  INFO(r.status().ToString());
  REQUIRE(r.ok());
  return *r;
}
Opportunity InsertOppOk(const std::string& tenant, const Opportunity& o) {
  auto r = InsertOpportunity(ActorOf(tenant, "CreateOpportunity"), o);
  INFO(r.status().ToString());
  REQUIRE(r.ok());
  return *r;
}
Opportunity MoveOk(const std::string& tenant, const std::string& id, OpportunityStage to,
                   absl::Time now, const std::string& key = "") {
  app::StageMove m;
  m.to = to;
  auto r = MoveStage(ActorOf(tenant, "MoveOpportunityStage", key), id, m, now);
  INFO(r.status().ToString());
  REQUIRE(r.ok());
  return *r;
}

void RequireSameLead(const Lead& a, const Lead& b) {
  CHECK(a.id == b.id);
  CHECK(a.given_name == b.given_name);
  CHECK(a.family_name == b.family_name);
  CHECK(a.company_name == b.company_name);
  CHECK(a.email == b.email);
  CHECK(a.phone == b.phone);
  CHECK(a.source == b.source);
  CHECK(a.status == b.status);
  CHECK(a.owner == b.owner);
  CHECK(a.score == b.score);
  CHECK(a.customer_id == b.customer_id);
  CHECK(a.opportunity_id == b.opportunity_id);
  CHECK(a.convert_time == b.convert_time);
  CHECK(a.version == b.version);
  CHECK(a.create_time == b.create_time);
  CHECK(a.update_time == b.update_time);
}

void RequireSameOpp(const Opportunity& a, const Opportunity& b) {
  CHECK(a.id == b.id);
  CHECK(a.name == b.name);
  CHECK(a.customer_id == b.customer_id);
  CHECK(a.lead_id == b.lead_id);
  CHECK(a.amount_minor == b.amount_minor);
  CHECK(a.currency_code == b.currency_code);
  CHECK(a.expected_close_date == b.expected_close_date);
  CHECK(a.owner == b.owner);
  CHECK(a.stage == b.stage);
  CHECK(a.order_id == b.order_id);
  CHECK(a.close_reason == b.close_reason);
  CHECK(a.close_time == b.close_time);
  CHECK(a.version == b.version);
  CHECK(a.create_time == b.create_time);
  CHECK(a.update_time == b.update_time);
}

// -------------------------------------------------------------------- leads

TEST_CASE("Leads round-trip, another tenant reads NOT_FOUND and sees no rows",
          "[transaction][pipeline][repository]") {
  const std::string tenant = common::NewUuid();
  const std::string other = common::NewUuid();
  Lead l = InsertLeadOk(tenant, NewLead());
  auto got = Repo().GetLead(tenant, l.id);
  REQUIRE(got.ok());
  RequireSameLead(*got, l);
  CHECK(CountEvents(tenant, "lead.created", l.id) == 1);

  auto foreign = Repo().GetLead(other, l.id);
  CHECK(foreign.status().code() == StatusCode::kNotFound);
  CHECK(ReasonOf(foreign.status()) == "LEAD_NOT_FOUND");
  CHECK(CountIn(other, "SELECT count(*) FROM txn.leads") == 0);
  auto upd = UpdateLead(ActorOf(other, "UpdateLead"), l.id, "", [](Lead& x) {
    x.score = 99;
    return absl::OkStatus();
  });
  CHECK(ReasonOf(upd.status()) == "LEAD_NOT_FOUND");
  auto conv =
      ConvertLead(ActorOf(other, "ConvertLead"), l.id, common::NewUuid(), false, NewOpp(""));
  CHECK(ReasonOf(conv.status()) == "LEAD_NOT_FOUND");
  CHECK(CountIn(other, "SELECT count(*) FROM txn.opportunities") == 0);
  auto still = Repo().GetLead(tenant, l.id);
  REQUIRE(still.ok());
  CHECK(still->score == 7);
  // Without a tenant, RLS shows nothing at all.
  int64_t n = -1;
  REQUIRE(TheEnv().pool->WithTx([&](pqxx::work& tx) {
    n = tx.exec1("SELECT count(*) FROM txn.leads")[0].as<int64_t>();
    return absl::OkStatus();
  }).ok());
  CHECK(n == 0);
}

TEST_CASE("InsertLead is strictly idempotent", "[transaction][pipeline][repository]") {
  const std::string tenant = common::NewUuid();
  Lead l = NewLead();
  app::Actor a = ActorOf(tenant, "CreateLead", "lead-key-1");
  auto first = InsertLead(a, l);
  REQUIRE(first.ok());
  Lead retry = NewLead();  // a retry computes a new id; the first answer wins
  auto second = InsertLead(a, retry);
  REQUIRE(second.ok());
  RequireSameLead(*second, *first);
  CHECK(CountIn(tenant, "SELECT count(*) FROM txn.leads") == 1);
  CHECK(CountEvents(tenant, "lead.created") == 1);
  app::Actor other_body = ActorOf(tenant, "CreateLead", "lead-key-1", "fp-2");
  auto reused = InsertLead(other_body, NewLead());
  CHECK(reused.status().code() == StatusCode::kInvalidArgument);
  CHECK(ReasonOf(reused.status()) == "IDEMPOTENCY_KEY_REUSED");
  CHECK(FieldOf(reused.status()) == "request_id");
  // Keys are per tenant.
  const std::string other = common::NewUuid();
  CHECK(InsertLead(ActorOf(other, "CreateLead", "lead-key-1", "fp-2"), NewLead()).ok());
}

TEST_CASE("UpdateLead: etag, no-op writes nothing, changes bump the version",
          "[transaction][pipeline][repository]") {
  const std::string tenant = common::NewUuid();
  Lead l = InsertLeadOk(tenant, NewLead());
  auto stale = UpdateLead(ActorOf(tenant, "UpdateLead"), l.id, "9", [](Lead& x) {
    x.score = 1;
    return absl::OkStatus();
  });
  CHECK(stale.status().code() == StatusCode::kAborted);
  CHECK(ReasonOf(stale.status()) == "ETAG_MISMATCH");
  auto same = UpdateLead(ActorOf(tenant, "UpdateLead"), l.id, "1", [](Lead& x) {
    x.update_time = kT0 + absl::Hours(1);
    return absl::OkStatus();
  });
  REQUIRE(same.ok());
  CHECK(same->version == 1);
  CHECK(CountEvents(tenant, "lead.updated") == 0);
  auto changed = UpdateLead(ActorOf(tenant, "UpdateLead"), l.id, "1", [](Lead& x) {
    x.status = LeadStatus::kWorking;
    x.score = 55;
    x.update_time = kT0 + absl::Hours(2);
    return absl::OkStatus();
  });
  REQUIRE(changed.ok());
  CHECK(changed->version == 2);
  auto got = Repo().GetLead(tenant, l.id);
  REQUIRE(got.ok());
  RequireSameLead(*got, *changed);
  CHECK(CountEvents(tenant, "lead.updated", l.id) == 1);
}

TEST_CASE("ConvertLead: one transaction, replayed, refused the second time",
          "[transaction][pipeline][repository]") {
  const std::string tenant = common::NewUuid();
  const std::string customer = common::NewUuid();
  Lead l = InsertLeadOk(tenant, NewLead());
  Opportunity o = NewOpp("");
  o.create_time = o.update_time = kT0 + absl::Minutes(5);
  app::Actor a = ActorOf(tenant, "ConvertLead", "conv-key");
  auto c = ConvertLead(a, l.id, customer, true, o);
  INFO(c.status().ToString());
  REQUIRE(c.ok());
  CHECK(c->customer_created);
  CHECK(c->lead.status == LeadStatus::kConverted);
  CHECK(c->lead.customer_id == customer);
  CHECK(c->lead.opportunity_id == o.id);
  CHECK(c->lead.convert_time == o.create_time);
  CHECK(c->lead.version == 2);
  CHECK(c->opportunity.customer_id == customer);
  CHECK(c->opportunity.lead_id == l.id);
  auto got_lead = Repo().GetLead(tenant, l.id);
  REQUIRE(got_lead.ok());
  RequireSameLead(*got_lead, c->lead);
  auto got_opp = Repo().GetOpportunity(tenant, o.id);
  REQUIRE(got_opp.ok());
  RequireSameOpp(*got_opp, c->opportunity);
  CHECK(CountEvents(tenant, "lead.converted", customer) == 1);
  CHECK(CountEvents(tenant, "opportunity.created", customer) == 1);
  auto history = Repo().StageHistory(tenant, o.id);
  REQUIRE(history.ok());
  REQUIRE(history->size() == 1);

  auto again = ConvertLead(a, l.id, customer, true, NewOpp(""));
  REQUIRE(again.ok());
  RequireSameOpp(again->opportunity, c->opportunity);
  RequireSameLead(again->lead, c->lead);
  CHECK(again->customer_created);
  CHECK(CountIn(tenant, "SELECT count(*) FROM txn.opportunities") == 1);

  auto second = ConvertLead(ActorOf(tenant, "ConvertLead"), l.id, customer, false, NewOpp(""));
  CHECK(second.status().code() == StatusCode::kFailedPrecondition);
  CHECK(ReasonOf(second.status()) == "LEAD_ALREADY_CONVERTED");
  CHECK(CountIn(tenant, "SELECT count(*) FROM txn.opportunities") == 1);
}

TEST_CASE("Leads list newest first with filters and pages",
          "[transaction][pipeline][repository]") {
  const std::string tenant = common::NewUuid();
  std::vector<std::string> ann;
  for (int i = 0; i < 5; ++i) {
    Lead l = NewLead();
    l.owner = i % 2 == 0 ? "ann" : "bob";
    l.create_time = l.update_time = kT0 + absl::Seconds(i);
    InsertLeadOk(tenant, l);
    if (l.owner == "ann") ann.insert(ann.begin(), l.id);
  }
  app::LeadQuery q;
  q.owner = "ann";
  q.limit = 2;
  std::vector<std::string> seen;
  for (int page = 0; page < 5; ++page) {
    auto r = Repo().ListLeads(tenant, q);
    REQUIRE(r.ok());
    for (const auto& l : r->items) seen.push_back(l.id);
    if (r->next_cursor.empty()) break;
    q.before_cursor = r->next_cursor;
  }
  CHECK(seen == ann);
  app::LeadQuery working;
  working.status = LeadStatus::kWorking;
  auto none = Repo().ListLeads(tenant, working);
  REQUIRE(none.ok());
  CHECK(none->items.empty());
  app::LeadQuery bad;
  bad.before_cursor = "x|y";
  CHECK(ReasonOf(Repo().ListLeads(tenant, bad).status()) == "INVALID_PAGE_TOKEN");
}

// ------------------------------------------------------------ opportunities

TEST_CASE("Stage moves write history, closed stages are final and refusals replay",
          "[transaction][pipeline][repository]") {
  const std::string tenant = common::NewUuid();
  const std::string customer = common::NewUuid();
  Opportunity o = InsertOppOk(tenant, NewOpp(customer));
  MoveOk(tenant, o.id, OpportunityStage::kQualification, kT0 + absl::Hours(1));
  MoveOk(tenant, o.id, OpportunityStage::kNegotiation, kT0 + absl::Hours(2));
  app::StageMove win;
  win.to = OpportunityStage::kClosedWon;
  win.close_reason = "signed";
  auto won = MoveStage(ActorOf(tenant, "CloseOpportunity"), o.id, win, kT0 + absl::Hours(3));
  REQUIRE(won.ok());
  CHECK(won->stage == OpportunityStage::kClosedWon);
  CHECK(won->version == 4);
  CHECK(won->close_time == kT0 + absl::Hours(3));
  CHECK(won->order_id.empty());  // closed without an order
  auto got = Repo().GetOpportunity(tenant, o.id);
  REQUIRE(got.ok());
  RequireSameOpp(*got, *won);

  auto h = Repo().StageHistory(tenant, o.id);
  REQUIRE(h.ok());
  REQUIRE(h->size() == 4);
  using S = OpportunityStage;
  std::vector<std::pair<S, S>> moves;
  for (const auto& c : *h) moves.emplace_back(c.from, c.to);
  CHECK(moves == std::vector<std::pair<S, S>>{{S::kUnspecified, S::kProspecting},
                                              {S::kProspecting, S::kQualification},
                                              {S::kQualification, S::kNegotiation},
                                              {S::kNegotiation, S::kClosedWon}});
  CHECK((*h)[0].at == kT0);
  CHECK((*h)[2].at == kT0 + absl::Hours(2));
  CHECK((*h)[3].principal == "k-itest");
  CHECK(CountEvents(tenant, "opportunity.stage_changed", customer) == 3);
  CHECK(CountEvents(tenant, "opportunity.won", customer) == 1);

  app::StageMove back;
  back.to = OpportunityStage::kProposal;
  app::Actor a = ActorOf(tenant, "MoveOpportunityStage", "move-closed");
  auto refused = MoveStage(a, o.id, back, kT0 + absl::Hours(4));
  CHECK(refused.status().code() == StatusCode::kFailedPrecondition);
  CHECK(ReasonOf(refused.status()) == "INVALID_STAGE_TRANSITION");
  CHECK(absl::StrContains(refused.status().message(), "closed_won"));
  auto replayed = MoveStage(a, o.id, back, kT0 + absl::Hours(5));
  CHECK(replayed.status().code() == refused.status().code());
  CHECK(replayed.status().message() == refused.status().message());
  CHECK(ReasonOf(replayed.status()) == "INVALID_STAGE_TRANSITION");
  CHECK(Repo().StageHistory(tenant, o.id)->size() == 4);

  const std::string other = common::NewUuid();
  CHECK(ReasonOf(Repo().StageHistory(other, o.id).status()) == "OPPORTUNITY_NOT_FOUND");
  CHECK(ReasonOf(MoveStage(ActorOf(other, "MoveOpportunityStage"), o.id, back, kT0).status()) ==
        "OPPORTUNITY_NOT_FOUND");
  CHECK(CountIn(other, "SELECT count(*) FROM txn.opportunity_stage_history") == 0);
}

TEST_CASE("A replayed move answers the first result even after later moves",
          "[transaction][pipeline][repository]") {
  const std::string tenant = common::NewUuid();
  Opportunity o = InsertOppOk(tenant, NewOpp(""));
  Opportunity first = MoveOk(tenant, o.id, OpportunityStage::kProposal, kT0 + absl::Hours(1),
                             "move-1");
  MoveOk(tenant, o.id, OpportunityStage::kNegotiation, kT0 + absl::Hours(2));
  Opportunity again = MoveOk(tenant, o.id, OpportunityStage::kProposal, kT0 + absl::Hours(3),
                             "move-1");
  RequireSameOpp(again, first);
  // Subject without a customer: the opportunity's own id.
  CHECK(CountEvents(tenant, "opportunity.stage_changed", o.id) == 2);
}

TEST_CASE("UpdateOpportunity writes the changed fields and an event",
          "[transaction][pipeline][repository]") {
  const std::string tenant = common::NewUuid();
  Opportunity o = InsertOppOk(tenant, NewOpp(""));
  const std::string customer = common::NewUuid();
  auto r = UpdateOpportunity(ActorOf(tenant, "UpdateOpportunity"), o.id, "1", [&](Opportunity& x) {
    x.amount_minor = 42;
    x.customer_id = customer;
    x.expected_close_date = CivilDay(2027, 1, 31);
    x.update_time = kT0 + absl::Hours(1);
    return absl::OkStatus();
  });
  REQUIRE(r.ok());
  CHECK(r->version == 2);
  auto got = Repo().GetOpportunity(tenant, o.id);
  REQUIRE(got.ok());
  RequireSameOpp(*got, *r);
  CHECK(CountEvents(tenant, "opportunity.updated", customer) == 1);
}

// ------------------------------------------------ probabilities and forecast

TEST_CASE("Stage probabilities per tenant", "[transaction][pipeline][repository]") {
  const std::string tenant = common::NewUuid();
  const std::string other = common::NewUuid();
  auto d = Repo().GetProbabilities(tenant);
  REQUIRE(d.ok());
  CHECK(d->percent == domain::StageProbabilities{}.percent);
  app::Actor a = ActorOf(tenant, "UpdateStageProbabilities", "prob-1");
  auto p = UpdateProbabilities(a, {{3, 65}, {4, 40}}, kT0);
  REQUIRE(p.ok());
  CHECK(p->Of(OpportunityStage::kProposal) == 65);
  CHECK(p->Of(OpportunityStage::kNegotiation) == 40);
  auto p2 = UpdateProbabilities(ActorOf(tenant, "UpdateStageProbabilities"), {{1, 5}}, kT0);
  REQUIRE(p2.ok());
  CHECK(p2->Of(OpportunityStage::kProposal) == 65);
  CHECK(p2->Of(OpportunityStage::kProspecting) == 5);
  auto replay = UpdateProbabilities(a, {{3, 65}, {4, 40}}, kT0);
  REQUIRE(replay.ok());
  CHECK(replay->Of(OpportunityStage::kProspecting) == 10);  // the first answer
  CHECK(Repo().GetProbabilities(tenant)->Of(OpportunityStage::kProspecting) == 5);
  CHECK(Repo().GetProbabilities(other)->percent == domain::StageProbabilities{}.percent);
  CHECK(CountEvents(tenant, "pipeline.stage_probabilities_updated") == 2);
}

TEST_CASE("Forecast figures over real rows", "[transaction][pipeline][repository]") {
  const std::string tenant = common::NewUuid();
  const std::string c = common::NewUuid();
  using S = OpportunityStage;
  // ann, CHF, January: 100000 @10% + 1005 @50% (-> 503); February: 999 @80% (-> 799)
  InsertOppOk(tenant, NewOpp(c, 100'000, S::kProspecting, CivilDay(2026, 1, 15)));
  InsertOppOk(tenant, NewOpp(c, 1'005, S::kProposal, CivilDay(2026, 1, 31)));
  InsertOppOk(tenant, NewOpp(c, 999, S::kNegotiation, CivilDay(2026, 2, 1)));
  // ann, EUR, January: 2503 @20% (-> 501)
  InsertOppOk(tenant, NewOpp(c, 2'503, S::kQualification, CivilDay(2026, 1, 2), "ann", "EUR"));
  // bob, CHF, January: 50000 @80%
  InsertOppOk(tenant, NewOpp(c, 50'000, S::kNegotiation, CivilDay(2026, 1, 10), "bob"));
  // ann: won on 2026-01-20 (expected in December): counted in January
  Opportunity w = InsertOppOk(tenant, NewOpp(c, 7'000, S::kProposal, CivilDay(2025, 12, 1)));
  MoveOk(tenant, w.id, S::kClosedWon, absl::FromUnixSeconds(1768946399));  // 2026-01-20T23:59:59Z
  // lost, out of range: ignored
  Opportunity l = InsertOppOk(tenant, NewOpp(c, 1'000'000, S::kProspecting, CivilDay(2026, 1, 9)));
  MoveOk(tenant, l.id, S::kClosedLost, kT0);
  InsertOppOk(tenant, NewOpp(c, 1'000'000, S::kProspecting, CivilDay(2025, 12, 31)));
  InsertOppOk(tenant, NewOpp(c, 1'000'000, S::kProspecting, CivilDay(2026, 3, 1)));
  // another tenant's opportunity in range: never seen
  InsertOppOk(common::NewUuid(), NewOpp(c, 1'000'000, S::kProspecting, CivilDay(2026, 1, 9)));

  common::SystemClock clock;
  common::RandomIdGenerator ids;
  app::Orders orders(*TheEnv().orders, clock, ids);
  app::Pipeline pipeline(Repo(), orders, nullptr, clock, ids);
  domain::ForecastRange range{domain::ForecastPeriod::kMonth, CivilDay(2026, 1, 1),
                              CivilDay(2026, 2, 28)};
  auto rows = pipeline.Forecast(tenant, "", "", range);
  INFO(rows.status().ToString());
  REQUIRE(rows.ok());
  REQUIRE(rows->size() == 4);
  const auto& a = (*rows)[0];
  CHECK((a.owner == "ann" && a.period == "2026-01" && a.currency_code == "CHF"));
  CHECK(a.open_count == 2);
  CHECK(a.open_amount_minor == 101'005);
  CHECK(a.weighted_amount_minor == 10'503);
  CHECK(a.won_count == 1);
  CHECK(a.won_amount_minor == 7'000);
  CHECK(((*rows)[1].currency_code == "EUR" && (*rows)[1].weighted_amount_minor == 501));
  CHECK(((*rows)[2].period == "2026-02" && (*rows)[2].weighted_amount_minor == 799));
  CHECK(((*rows)[3].owner == "bob" && (*rows)[3].weighted_amount_minor == 40'000));

  // The tenant's probabilities weight the figures; filters by owner and currency.
  REQUIRE(UpdateProbabilities(ActorOf(tenant, "UpdateStageProbabilities"), {{1, 25}}, kT0).ok());
  auto ann_chf = pipeline.Forecast(tenant, "ann", "chf", range);
  REQUIRE(ann_chf.ok());
  REQUIRE(ann_chf->size() == 2);
  CHECK((*ann_chf)[0].weighted_amount_minor == 25'000 + 503);
  CHECK((*ann_chf)[1].weighted_amount_minor == 799);
  domain::ForecastRange quarter{domain::ForecastPeriod::kQuarter, CivilDay(2026, 1, 1),
                                CivilDay(2026, 3, 31)};
  auto q = pipeline.Forecast(tenant, "ann", "CHF", quarter);
  REQUIRE(q.ok());
  REQUIRE(q->size() == 1);
  CHECK((*q)[0].period == "2026-Q1");
  CHECK((*q)[0].open_count == 4);
  CHECK((*q)[0].open_amount_minor == 1'102'004);
  CHECK((*q)[0].weighted_amount_minor == 25'000 + 503 + 799 + 250'000);
}

// ----------------------------------------------------------- won -> order

TEST_CASE("Close won creates the order in the same service, once",
          "[transaction][pipeline][repository]") {
  const std::string tenant = common::NewUuid();
  const std::string customer = common::NewUuid();
  domain::Product p;
  p.sku = "PIPE-1";
  p.name = "Pipeline product";
  p.category_path = {"Services", "Consulting"};
  p.price = {125'000, "CHF"};
  p.active = true;
  p.version = 1;
  p.create_time = p.update_time = kT0;
  REQUIRE(
      TheEnv()
          .products
          ->Run<domain::Product>(ActorOf(tenant, "CreateProduct", "", ""), p.sku,
                                 [&](app::ProductTx& tx) { return app::WriteNewProduct(tx, p); })
          .ok());

  crm::testing::FixedClock clock(kT0 + absl::Hours(10));
  common::RandomIdGenerator ids;
  app::Orders orders(*TheEnv().orders, clock, ids);
  app::Pipeline pipeline(Repo(), orders, nullptr, clock, ids);
  Opportunity o = InsertOppOk(tenant, NewOpp(customer, 250'000));
  domain::Order spec;
  spec.lines = {{"PIPE-1", 2, 125'000, 0, 0}};
  app::Actor a = ActorOf(tenant, "CloseOpportunity", "close-won-1");
  auto won = pipeline.Close(a, o.id, true, "signed", "1", spec);
  INFO(won.status().ToString());
  REQUIRE(won.ok());
  CHECK(won->stage == OpportunityStage::kClosedWon);
  REQUIRE(common::IsUuid(won->order_id));
  auto order = orders.Get(tenant, won->order_id);
  REQUIRE(order.ok());
  CHECK(order->customer_id == customer);
  CHECK(order->currency_code == "CHF");
  CHECK(order->total_minor == 250'000);

  auto again = pipeline.Close(a, o.id, true, "signed", "1", spec);
  REQUIRE(again.ok());
  RequireSameOpp(*again, *won);
  CHECK(CountIn(tenant, "SELECT count(*) FROM txn.orders") == 1);
  CHECK(CountEvents(tenant, "order.placed", customer) == 1);
  CHECK(CountEvents(tenant, "opportunity.won", customer) == 1);

  // An unknown SKU: refused on the nested field, nothing written.
  Opportunity o2 = InsertOppOk(tenant, NewOpp(customer));
  spec.lines[0].sku = "NOPE-1";
  auto bad = pipeline.Close(ActorOf(tenant, "CloseOpportunity"), o2.id, true, "", "", spec);
  CHECK(ReasonOf(bad.status()) == "UNKNOWN_SKU");
  CHECK(FieldOf(bad.status()) == "create_order.lines[0].sku");
  CHECK(CountIn(tenant, "SELECT count(*) FROM txn.orders") == 1);
  CHECK(Repo().GetOpportunity(tenant, o2.id)->stage == OpportunityStage::kProspecting);

  // Concurrent closes with different request ids: one wins with its order,
  // the others are refused and leave no order behind.
  Opportunity o3 = InsertOppOk(tenant, NewOpp(customer));
  spec.lines[0].sku = "PIPE-1";
  std::vector<std::thread> closers;
  std::vector<absl::Status> results(4);
  for (int i = 0; i < 4; ++i) {
    closers.emplace_back([&, i] {
      results[i] = pipeline
                       .Close(ActorOf(tenant, "CloseOpportunity", absl::StrCat("race-", i)),
                              o3.id, true, "", "", spec)
                       .status();
    });
  }
  for (auto& t : closers) t.join();
  int ok = 0;
  for (const auto& s : results) {
    INFO(s.ToString());
    if (s.ok()) {
      ++ok;
    } else {
      CHECK(ReasonOf(s) == "INVALID_STAGE_TRANSITION");
    }
  }
  CHECK(ok == 1);
  CHECK(CountIn(tenant, "SELECT count(*) FROM txn.orders") == 2);
  CHECK(CountIn(tenant, absl::StrCat("SELECT count(*) FROM txn.opportunities o JOIN txn.orders r "
                                     "ON r.tenant_id = o.tenant_id AND r.id = o.order_id WHERE "
                                     "o.id = '",
                                     o3.id, "'")) == 1);
}

}  // namespace
}  // namespace crm::transaction::itest
