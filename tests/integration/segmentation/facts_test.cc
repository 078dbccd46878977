// The segmentation engine's storage on PostgreSQL as the app role (RLS on):
// order facts keep their newest version, customer changes apply once per
// event id (merge, unmerge, erasure re-point or delete orders), behaviour
// facts are kept once per event id and stitched to the customer a visitor is
// identified as (whichever comes first), follow merges and go with erasure,
// a refit is stored and replayed through the unit of work, and every read is
// the tenant's own. Schema segmentation is reset once per process; every test
// works in tenants of its own.
#include "services/segmentation/app/facts.h"

#include <atomic>
#include <catch2/catch.hpp>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "libs/common/clock.h"
#include "libs/common/id.h"
#include "libs/pg/pool.h"
#include "services/segmentation/app/models.h"
#include "services/segmentation/storage/pg_fact_repository.h"
#include "services/segmentation/storage/pg_model_repository.h"
#include "services/segmentation/storage/pg_segment_repository.h"
#include "tests/support/pg_test_db.h"

namespace crm::segmentation::itest {
namespace {

namespace ts = crm::test_support;
using Kind = events::CustomerChange::Kind;

struct Env {
  std::unique_ptr<crm::pg::Pool> pool;
  std::unique_ptr<storage::PgFactRepository> facts_repo;
  std::unique_ptr<storage::PgModelRepository> models_repo;
  std::unique_ptr<storage::PgSegmentRepository> segments_repo;  // the settings
  common::SystemClock clock;
  std::unique_ptr<app::Facts> facts;
  std::unique_ptr<app::Models> models;
};

Env& TheEnv() {
  static Env* env = [] {
    auto* e = new Env;
    std::vector<pg::NamedQuery> q = storage::PgModelRepository::Queries();
    for (auto& s : storage::PgSegmentRepository::Queries()) q.push_back(s);
    e->pool = ts::FreshSchemaPool("segmentation", "segmentation", 4, {q});
    e->facts_repo = std::make_unique<storage::PgFactRepository>(*e->pool);
    e->models_repo = std::make_unique<storage::PgModelRepository>(*e->pool);
    e->segments_repo = std::make_unique<storage::PgSegmentRepository>(*e->pool);
    e->facts = std::make_unique<app::Facts>(*e->facts_repo);
    e->models =
        std::make_unique<app::Models>(*e->models_repo, *e->facts_repo, *e->segments_repo, e->clock);
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

events::BehaviourFact Behaviour(const std::string& tenant, const std::string& customer,
                                const std::string& visitor, absl::Time at,
                                std::string type = "product.viewed") {
  events::BehaviourFact f;
  f.tenant_id = tenant;
  f.event_id = NewId();
  f.type = std::move(type);
  f.customer_id = customer;
  f.visitor_id = visitor;
  f.occurred_time = at;
  return f;
}

events::CustomerIdentified Identified(const std::string& tenant, const std::string& customer,
                                      const std::string& visitor) {
  return {tenant, NewId(), customer, visitor};
}

std::vector<domain::CustomerEvent> BehaviourOf(const std::string& tenant,
                                               const std::string& customer) {
  auto got = TheEnv().facts_repo->BehaviourOf(tenant, {customer});
  REQUIRE(got.ok());
  for (const domain::CustomerEvent& e : *got) CHECK(e.customer_id == customer);
  return *std::move(got);
}

std::vector<domain::CustomerEvent> AllBehaviour(const std::string& tenant) {
  auto got = TheEnv().facts_repo->Behaviour(tenant);
  REQUIRE(got.ok());
  return *std::move(got);
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

TEST_CASE("behaviour facts are recorded once per event id with the properties segments read",
          "[segmentation][pg][behaviour]") {
  const std::string tenant = NewId(), other = NewId(), c = NewId();
  const absl::Time t0 = absl::FromUnixMicros(1'770'000'000'123'456);
  events::BehaviourFact full = Behaviour(tenant, c, "v-1", t0, "cart.item_added");
  full.sku = "SKU-1";
  full.category_path = {"Music", "Jazz \"live\"", "a,b{c}"};  // quoted in the array literal
  full.value = 0.1 + 0.2;
  full.currency_code = "CHF";
  full.quantity = 3;
  full.utm_campaign = "spring";
  const events::BehaviourFact bare = Behaviour(tenant, c, "", t0 + absl::Minutes(1), "x.signup");
  // Twice in one batch, again in the next: stored once.
  ApplyAll({full, bare, full});
  ApplyAll({full, bare});
  std::vector<domain::CustomerEvent> got = BehaviourOf(tenant, c);
  REQUIRE(got.size() == 2);
  const domain::SegmentEvent& e = got[0].event;  // time order
  CHECK(e.type == "cart.item_added");
  CHECK(absl::ToUnixMicros(e.time) == 1'770'000'000'123'456);
  CHECK(e.properties.size() == 6);
  CHECK(std::get<std::string>(e.properties.at("category")) == "Music/Jazz \"live\"/a,b{c}");
  CHECK(std::get<std::string>(e.properties.at("sku")) == "SKU-1");
  CHECK(std::get<double>(e.properties.at("value")) == 0.1 + 0.2);  // exactly
  CHECK(std::get<std::string>(e.properties.at("currency")) == "CHF");
  CHECK(std::get<double>(e.properties.at("quantity")) == 3.0);
  CHECK(std::get<std::string>(e.properties.at("campaign")) == "spring");
  CHECK(got[1].event.type == "x.signup");
  CHECK(got[1].event.properties.empty());
  CHECK(AllBehaviour(tenant).size() == 2);
  // Another tenant reads nothing, and its facts of the same event id are its own.
  CHECK(AllBehaviour(other).empty());
  CHECK(BehaviourOf(other, c).empty());
  events::BehaviourFact theirs = full;
  theirs.tenant_id = other;
  ApplyAll({theirs});
  CHECK(BehaviourOf(other, c).size() == 1);
  CHECK(BehaviourOf(tenant, c).size() == 2);
}

TEST_CASE("anonymous behaviour counts once for the customer its visitor is identified as",
          "[segmentation][pg][behaviour]") {
  const std::string tenant = NewId(), c = NewId(), d = NewId();
  const absl::Time t0 = absl::FromUnixSeconds(1'770'000'000);
  SECTION("events before the link") {
    ApplyAll({Behaviour(tenant, "", "v1", t0), Behaviour(tenant, "", "v1", t0 + absl::Hours(1)),
              Behaviour(tenant, "", "v2", t0)});
    CHECK(AllBehaviour(tenant).empty());  // anonymous: counted for no one yet
    const events::CustomerIdentified link = Identified(tenant, c, "v1");
    ApplyAll({link});
    CHECK(BehaviourOf(tenant, c).size() == 2);
    // A replay, and another link of the same visitor, change nothing.
    ApplyAll({link, Identified(tenant, d, "v1")});
    CHECK(BehaviourOf(tenant, c).size() == 2);
    CHECK(BehaviourOf(tenant, d).empty());
    CHECK(AllBehaviour(tenant).size() == 2);
    // Later anonymous events of the visitor count for the customer too.
    ApplyAll({Behaviour(tenant, "", "v1", t0 + absl::Hours(2))});
    CHECK(BehaviourOf(tenant, c).size() == 3);
  }
  SECTION("the link before the events") {
    ApplyAll({Identified(tenant, c, "v1"), Behaviour(tenant, "", "v1", t0),
              Behaviour(tenant, c, "v1", t0 + absl::Hours(1))});
    CHECK(BehaviourOf(tenant, c).size() == 2);
    // An event naming another customer counts for that one, whatever its visitor.
    ApplyAll({Behaviour(tenant, d, "v1", t0)});
    CHECK(BehaviourOf(tenant, c).size() == 2);
    CHECK(BehaviourOf(tenant, d).size() == 1);
  }
  SECTION("another tenant's link does not stitch") {
    const std::string other = NewId();
    ApplyAll({Behaviour(tenant, "", "v1", t0), Identified(other, c, "v1")});
    CHECK(AllBehaviour(tenant).empty());
    CHECK(AllBehaviour(other).empty());
  }
}

TEST_CASE("anonymous events and the visitor's link committing concurrently never miss each other",
          "[segmentation][pg][behaviour]") {
  const std::string tenant = NewId(), c = NewId();
  const absl::Time t0 = absl::FromUnixSeconds(1'770'000'000);
  constexpr int kVisitors = 40;
  std::vector<std::string> visitors;
  for (int i = 0; i < kVisitors; ++i) visitors.push_back(absl::StrCat("cv-", i));
  std::atomic<int> failed{0};  // Catch2's assertions are not thread-safe
  std::thread events([&] {
    for (const std::string& v : visitors) {
      for (const absl::Status& s : TheEnv().facts->Apply({Behaviour(tenant, "", v, t0)})) {
        if (!s.ok()) ++failed;
      }
    }
  });
  std::thread links([&] {
    for (const std::string& v : visitors) {
      for (const absl::Status& s : TheEnv().facts->Apply({Identified(tenant, c, v)})) {
        if (!s.ok()) ++failed;
      }
    }
  });
  events.join();
  links.join();
  CHECK(failed == 0);
  CHECK(BehaviourOf(tenant, c).size() == kVisitors);
}

TEST_CASE("behaviour follows merges and goes with erasure", "[segmentation][pg][behaviour]") {
  const std::string tenant = NewId(), a = NewId(), b = NewId(), c = NewId();
  const absl::Time t0 = absl::FromUnixSeconds(1'770'000'000);
  ApplyAll({Change(Kind::kCreated, tenant, a), Change(Kind::kCreated, tenant, b),
            Behaviour(tenant, a, "", t0), Identified(tenant, a, "va"),
            Behaviour(tenant, "", "va", t0), Behaviour(tenant, b, "", t0)});
  const events::CustomerChange merge = Change(Kind::kMerged, tenant, b, a);  // a into b
  // After the merge: named a, and anonymous of a's visitor, both count for b.
  ApplyAll({merge, Behaviour(tenant, a, "", t0 + absl::Hours(1)),
            Behaviour(tenant, "", "va", t0 + absl::Hours(1)), Identified(tenant, a, "va2"),
            Behaviour(tenant, "", "va2", t0)});
  CHECK(BehaviourOf(tenant, a).empty());
  CHECK(BehaviourOf(tenant, b).size() == 6);
  // b into c: a's behaviour follows the chain.
  ApplyAll({Change(Kind::kMerged, tenant, c, b)});
  CHECK(BehaviourOf(tenant, c).size() == 6);
  ApplyAll({Change(Kind::kUnmerged, tenant, c, b)});
  CHECK(BehaviourOf(tenant, b).size() == 1);  // b's own; a's stay with c (the known gap)
  CHECK(BehaviourOf(tenant, c).size() == 5);
  // Erasure of c (and a merged into it): its behaviour and visitor links go.
  events::CustomerChange erase = Change(Kind::kErased, tenant, c);
  erase.erased_ids = {c, a};
  ApplyAll({erase});
  CHECK(BehaviourOf(tenant, c).empty());
  CHECK(BehaviourOf(tenant, a).empty());
  CHECK(BehaviourOf(tenant, b).size() == 1);
  ApplyAll({Behaviour(tenant, "", "va", t0 + absl::Hours(3))});  // no longer linked
  CHECK(AllBehaviour(tenant).size() == 1);
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
