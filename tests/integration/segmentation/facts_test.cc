// The segmentation engine's storage on PostgreSQL as the app role (RLS on):
// order facts keep their newest version, customer changes apply once per
// event id (merge, unmerge, erasure re-point or delete orders), a refit is
// stored and replayed through the unit of work, and every read is the
// tenant's own. Schema segmentation is reset once per process; every test
// works in tenants of its own.
#include "services/segmentation/app/facts.h"

#include <catch2/catch.hpp>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "libs/common/clock.h"
#include "libs/common/id.h"
#include "libs/pg/pool.h"
#include "services/segmentation/app/models.h"
#include "services/segmentation/storage/pg_fact_repository.h"
#include "services/segmentation/storage/pg_model_repository.h"
#include "tests/support/pg_test_db.h"

namespace crm::segmentation::itest {
namespace {

namespace ts = crm::test_support;
using Kind = events::CustomerChange::Kind;

struct Env {
  std::unique_ptr<crm::pg::Pool> pool;
  std::unique_ptr<storage::PgFactRepository> facts_repo;
  std::unique_ptr<storage::PgModelRepository> models_repo;
  common::SystemClock clock;
  std::unique_ptr<app::Facts> facts;
  std::unique_ptr<app::Models> models;
};

Env& TheEnv() {
  static Env* env = [] {
    auto* e = new Env;
    e->pool = ts::FreshSchemaPool("segmentation", "segmentation", 4,
                                  {storage::PgModelRepository::Queries()});
    e->facts_repo = std::make_unique<storage::PgFactRepository>(*e->pool);
    e->models_repo = std::make_unique<storage::PgModelRepository>(*e->pool);
    e->facts = std::make_unique<app::Facts>(*e->facts_repo);
    e->models = std::make_unique<app::Models>(*e->models_repo, *e->facts_repo, e->clock);
    return e;
  }();
  return *env;
}

std::string NewId() { return common::NewUuid(); }

events::OrderFact Fact(const std::string& tenant, const std::string& order,
                       const std::string& customer, absl::CivilDay day, int64_t cents,
                       int64_t version = 1, std::string status = "placed") {
  events::OrderFact f;
  f.tenant_id = tenant;
  f.order_id = order;
  f.customer_id = customer;
  f.currency_code = "CHF";
  f.total_minor = f.net_minor = cents;
  f.status = std::move(status);
  f.placed_time = absl::FromCivil(day, absl::UTCTimeZone()) + absl::Hours(12);
  f.version = version;
  return f;
}

events::CustomerChange Change(Kind kind, const std::string& tenant, const std::string& customer,
                              const std::string& other = "") {
  events::CustomerChange c;
  c.kind = kind;
  c.tenant_id = tenant;
  c.event_id = NewId();
  c.customer_id = customer;
  c.other_id = other;
  if (kind == Kind::kErased) c.erased_ids = {customer};
  return c;
}

int64_t OrdersOf(const std::string& tenant, const std::string& customer) {
  auto s = TheEnv().models->Scores(tenant, customer, absl::CivilDay(2030, 1, 1));
  if (s.status().code() == absl::StatusCode::kNotFound) return -1;
  REQUIRE(s.ok());
  return s->orders;
}

void ApplyAll(const std::vector<app::Fact>& facts) {
  for (const absl::Status& s : TheEnv().facts->Apply(facts)) REQUIRE(s.ok());
}

TEST_CASE("order facts keep the newest version of each order", "[segmentation][pg]") {
  const std::string tenant = NewId(), customer = NewId(), order = NewId();
  const absl::CivilDay d(2024, 3, 1);
  ApplyAll({Fact(tenant, order, customer, d, 1000, 2),
            Fact(tenant, order, customer, d, 5000, 1),  // older: ignored
            Fact(tenant, NewId(), customer, d + 1, 700, 1, "cancelled")});
  auto p = TheEnv().facts_repo->Purchases(tenant);  // the tenant has this customer only
  REQUIRE(p.ok());
  REQUIRE(p->size() == 2);
  auto s = TheEnv().models->Scores(tenant, customer, absl::CivilDay(2024, 4, 1));
  REQUIRE(s.ok());
  CHECK(s->orders == 1);
  CHECK(s->monetary == 10.0);
  // A newer version (partially returned) replaces it.
  ApplyAll({Fact(tenant, order, customer, d, 400, 3, "partially_returned")});
  CHECK(TheEnv().models->Scores(tenant, customer, absl::CivilDay(2024, 4, 1))->monetary == 4.0);
}

TEST_CASE("merge, unmerge and erasure re-point or delete a customer's orders once",
          "[segmentation][pg]") {
  const std::string tenant = NewId(), a = NewId(), b = NewId();
  const absl::CivilDay d(2024, 3, 1);
  ApplyAll({Change(Kind::kCreated, tenant, a), Change(Kind::kCreated, tenant, b),
            Fact(tenant, NewId(), a, d, 100), Fact(tenant, NewId(), b, d, 100)});
  events::CustomerChange merge = Change(Kind::kMerged, tenant, b, a);  // a into b
  ApplyAll({merge, Fact(tenant, NewId(), a, d + 1, 100)});  // placed by a after the merge
  CHECK(OrdersOf(tenant, b) == 3);
  CHECK(OrdersOf(tenant, a) == 0);  // still known (created), no orders of its own now
  ApplyAll({Change(Kind::kUnmerged, tenant, b, a), merge});  // the replayed merge does nothing
  CHECK(OrdersOf(tenant, a) == 2);
  CHECK(OrdersOf(tenant, b) == 1);
  ApplyAll({Change(Kind::kErased, tenant, a)});
  CHECK(OrdersOf(tenant, a) == -1);  // not found: no customer, no orders
  CHECK(OrdersOf(tenant, b) == 1);
}

TEST_CASE("a refit is stored, replayed by its key, and read by its tenant only",
          "[segmentation][pg]") {
  const std::string tenant = NewId(), other = NewId();
  // 300 customers drawn from the models' own processes (fixed seed): Poisson
  // purchases while alive, a drop-out chance after each purchase, spend
  // heterogeneous across customers.
  std::mt19937 rng(42);
  std::gamma_distribution<double> rate(0.5, 0.05);  // purchases per day
  std::vector<app::Fact> facts;
  for (int c = 0; c < 300; ++c) {
    const std::string customer = NewId();
    const double lambda = rate(rng);
    const double p = std::uniform_real_distribution<double>(0.05, 0.6)(rng);
    std::exponential_distribution<double> gap(lambda);
    // Spend per purchase ~ Gamma(6, mean / 6), the mean differing by customer.
    std::gamma_distribution<double> spend(6, std::gamma_distribution<double>(4, 10)(rng) / 6);
    double day = std::uniform_real_distribution<double>(0, 90)(rng);
    while (day < 365) {
      facts.emplace_back(Fact(tenant, NewId(), customer,
                              absl::CivilDay(2023, 1, 1) + static_cast<int>(day),
                              static_cast<int64_t>(100 * spend(rng)) + 1));
      if (std::bernoulli_distribution(p)(rng)) break;
      day += gap(rng);
    }
  }
  ApplyAll(facts);
  app::RefitRequest req;
  req.as_of = absl::CivilDay(2023, 12, 31);
  outbox::WriteMeta actor{tenant, "it", "rq", "RefitClvModel", NewId(), "fp"};
  auto m = TheEnv().models->RefitClv(actor, req);
  INFO(m.status().ToString());
  REQUIRE(m.ok());
  CHECK(m->purchases.customers == 300);
  CHECK(m->currency_code == "CHF");
  auto again = TheEnv().models->RefitClv(actor, req);
  REQUIRE(again.ok());
  // The stored answer (microseconds), not a new fit.
  CHECK(absl::ToUnixMicros(again->fitted_at) == absl::ToUnixMicros(m->fitted_at));
  auto got = TheEnv().models->GetClv(tenant);
  REQUIRE(got.ok());
  CHECK(got->purchases.params.r == m->purchases.params.r);
  CHECK(got->spend.params.gamma == m->spend.params.gamma);
  CHECK(TheEnv().models->GetClv(other).status().code() == absl::StatusCode::kNotFound);
  // The scheduler's read across tenants (app.scheduler policy) finds it.
  auto due = TheEnv().models_repo->ModelsFittedBefore(absl::Now() + absl::Hours(1), 100000);
  REQUIRE(due.ok());
  bool found = false;
  for (const app::TenantModel& t : *due) found = found || t.tenant_id == tenant;
  CHECK(found);
  auto not_yet = TheEnv().models_repo->ModelsFittedBefore(m->fitted_at - absl::Hours(1), 100000);
  REQUIRE(not_yet.ok());
  for (const app::TenantModel& t : *not_yet) CHECK(t.tenant_id != tenant);
  auto none = TheEnv().facts_repo->Purchases(other);
  REQUIRE(none.ok());
  CHECK(none->empty());
}

}  // namespace
}  // namespace crm::segmentation::itest
