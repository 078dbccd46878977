// Live segments on PostgreSQL as the app role (RLS on), driven through the
// use cases with a clock the test moves: members follow orders, merges,
// erasure and time; every real change is one segment.entered / exited event
// (also after a restart, which rebuilds the memory from the tables); edits
// make versions; references are checked; tenants see only their own.
#include "services/segmentation/app/live_segments.h"

#include <catch2/catch.hpp>
#include <map>
#include <memory>
#include <pqxx/pqxx>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "libs/common/errors.h"
#include "libs/common/id.h"
#include "libs/pg/pool.h"
#include "services/segmentation/app/facts.h"
#include "services/segmentation/storage/pg_fact_repository.h"
#include "services/segmentation/storage/pg_model_repository.h"
#include "services/segmentation/storage/pg_segment_repository.h"
#include "tests/support/fakes/common_fakes.h"
#include "tests/support/pg_test_db.h"

namespace crm::segmentation::itest {
namespace {

namespace ts = crm::test_support;
using Kind = events::CustomerChange::Kind;

struct Env {
  std::unique_ptr<crm::pg::Pool> pool;
  std::unique_ptr<storage::PgFactRepository> facts_repo;
  std::unique_ptr<storage::PgModelRepository> models_repo;
  std::unique_ptr<storage::PgSegmentRepository> segments_repo;
  std::unique_ptr<app::Facts> facts;
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
    return e;
  }();
  return *env;
}

// One running engine: its own memory over the shared tables.
struct Engine {
  explicit Engine(crm::testing::FixedClock& clock)
      : live(*TheEnv().segments_repo, *TheEnv().facts_repo, *TheEnv().models_repo, clock) {}
  app::LiveSegments live;
};

int64_t CountIn(const std::string& tenant, const std::string& sql) {
  pqxx::connection c(ts::PgOwnerDsn());
  pqxx::work w(c);
  w.exec_params("SELECT set_config('app.tenant_id', $1, true)", tenant);
  return w.exec1(sql)[0].as<int64_t>();
}

int64_t Published(const std::string& tenant, const std::string& type,
                  const std::string& customer = "", const std::string& segment = "") {
  std::string sql = absl::StrCat("SELECT count(*) FROM segmentation.outbox WHERE tenant_id = '",
                                 tenant, "' AND event_type = '", type, "'");
  if (!customer.empty()) absl::StrAppend(&sql, " AND customer_id = '", customer, "'");
  if (!segment.empty()) absl::StrAppend(&sql, " AND payload->>'segment_id' = '", segment, "'");
  return CountIn(tenant, sql);
}

outbox::WriteMeta Actor(const std::string& tenant, const std::string& key = "") {
  return {tenant, "tester", "", "CreateSegment", key.empty() ? common::NewUuid() : key, "fp"};
}

domain::SegmentDefinition Draft(const std::string& id, const std::string& expression) {
  domain::SegmentDefinition d;
  d.id = id;
  d.display_name = absl::StrCat("Segment ", id);
  d.expression = expression;
  return d;
}

void Created(const std::string& tenant, const std::string& customer) {
  events::CustomerChange c;
  c.kind = Kind::kCreated;
  c.tenant_id = tenant;
  c.event_id = common::NewUuid();
  c.customer_id = customer;
  REQUIRE(TheEnv().facts->Apply({c})[0].ok());
}

void Order(const std::string& tenant, const std::string& customer, absl::Time placed,
           int64_t cents, int64_t version = 1, const std::string& order = common::NewUuid()) {
  events::OrderFact f;
  f.tenant_id = tenant;
  f.order_id = order;
  f.customer_id = customer;
  f.currency_code = "CHF";
  f.total_minor = f.net_minor = cents;
  f.status = "placed";
  f.placed_time = placed;
  f.version = version;
  REQUIRE(TheEnv().facts->Apply({f})[0].ok());
}

TEST_CASE("members follow orders and time, each change published once, across a restart",
          "[segmentation][live]") {
  const std::string tenant = common::NewUuid();
  const std::string ada = common::NewUuid(), bob = common::NewUuid();
  crm::testing::FixedClock clock(absl::FromUnixSeconds(1790000000));
  Created(tenant, ada);
  Created(tenant, bob);
  Order(tenant, ada, clock.Now() - absl::Hours(24), 12000);
  auto engine = std::make_unique<Engine>(clock);

  auto created = engine->live.Create(Actor(tenant), Draft("recent", "purchased(30d)"));
  REQUIRE(created.ok());
  CHECK(created->member_count == 1);
  CHECK(created->definition.version == 1);
  CHECK(created->definition.reads_time);
  CHECK(Published(tenant, "segment.entered", ada, "recent") == 1);
  CHECK(Published(tenant, "segment.created") == 1);

  // Bob buys: he enters at once (the consumer touches him).
  Order(tenant, bob, clock.Now(), 5000);
  REQUIRE(engine->live.Touch(tenant, {bob}).ok());
  CHECK(engine->live.Get(tenant, "recent")->member_count == 2);
  CHECK(Published(tenant, "segment.entered", bob, "recent") == 1);

  // 29 days later Ada's purchase (a day old at the start) leaves the window:
  // nothing is due one second before, she exits at the instant.
  clock.Advance(absl::Hours(24 * 29) - absl::Seconds(1));
  REQUIRE(engine->live.Tick().ok());
  CHECK(Published(tenant, "segment.exited", ada) == 0);
  clock.Advance(absl::Seconds(1));
  auto ticked = engine->live.Tick();
  REQUIRE(ticked.ok());
  CHECK(*ticked >= 1);
  CHECK(Published(tenant, "segment.exited", ada, "recent") == 1);
  CHECK(engine->live.Get(tenant, "recent")->member_count == 1);

  // A restart rebuilds the same memberships and publishes nothing again.
  engine = std::make_unique<Engine>(clock);
  REQUIRE(engine->live.LoadAll().ok());
  CHECK(engine->live.Get(tenant, "recent")->member_count == 1);
  CHECK(Published(tenant, "segment.entered") == 2);
  CHECK(Published(tenant, "segment.exited") == 1);

  // Time passes while the engine is down: the rebuild publishes Bob's exit.
  engine.reset();
  clock.Advance(absl::Hours(24 * 2));
  engine = std::make_unique<Engine>(clock);
  REQUIRE(engine->live.LoadAll().ok());
  CHECK(Published(tenant, "segment.exited", bob, "recent") == 1);
  CHECK(engine->live.Get(tenant, "recent")->member_count == 0);
  REQUIRE(engine->live.Tick().ok());
  CHECK(Published(tenant, "segment.exited") == 2);
}

TEST_CASE("an edit makes a version and publishes the enters and exits it causes",
          "[segmentation][live]") {
  const std::string tenant = common::NewUuid();
  const std::string ada = common::NewUuid(), bob = common::NewUuid();
  crm::testing::FixedClock clock(absl::FromUnixSeconds(1790000000));
  Order(tenant, ada, clock.Now() - absl::Hours(1), 20000);
  Order(tenant, bob, clock.Now() - absl::Hours(1), 3000);
  Engine engine(clock);
  auto big = engine.live.Create(Actor(tenant), Draft("big", "spent(365d) >= 100"));
  REQUIRE(big.ok());
  CHECK(big->member_count == 1);
  // A stale etag is refused and changes nothing.
  auto stale = engine.live.Update(Actor(tenant), "big", {std::nullopt, std::nullopt,
                                                         std::string("spent(365d) >= 10")},
                                  "999");
  CHECK(stale.status().code() == absl::StatusCode::kAborted);
  auto edited = engine.live.Update(Actor(tenant), "big",
                                   {std::nullopt, std::nullopt, std::string("spent(365d) >= 10")},
                                   domain::EtagOf(big->definition));
  REQUIRE(edited.ok());
  CHECK(edited->definition.version == 2);
  CHECK(edited->member_count == 2);
  CHECK(Published(tenant, "segment.entered", bob, "big") == 1);
  CHECK(Published(tenant, "segment.updated") == 1);
  // A rename keeps the version and moves no one.
  auto renamed = engine.live.Update(Actor(tenant), "big",
                                    {std::string("Big spenders"), std::nullopt, std::nullopt}, "");
  REQUIRE(renamed.ok());
  CHECK(renamed->definition.version == 2);
  CHECK(renamed->definition.display_name == "Big spenders");
  CHECK(Published(tenant, "segment.entered") == 2);
  CHECK(Published(tenant, "segment.exited") == 0);

  // Members in customer id order, in pages.
  auto page = engine.live.Members(tenant, "big", "", 1);
  REQUIRE(page.ok());
  REQUIRE(page->members.size() == 1);
  CHECK(page->member_count == 2);
  CHECK(page->members[0].customer_id == std::min(ada, bob));
  auto rest = engine.live.Members(tenant, "big", page->next_after, 1);
  REQUIRE(rest.ok());
  REQUIRE(rest->members.size() == 1);
  CHECK(rest->members[0].customer_id == std::max(ada, bob));
  CHECK(rest->next_after.empty());
  auto of_bob = engine.live.SegmentsOf(tenant, bob);
  REQUIRE(of_bob.ok());
  REQUIRE(of_bob->size() == 1);
  CHECK((*of_bob)[0].display_name == "Big spenders");
}

TEST_CASE("in_segment references are checked and read in order, a referenced segment stays",
          "[segmentation][live]") {
  const std::string tenant = common::NewUuid();
  const std::string ada = common::NewUuid(), bob = common::NewUuid();
  crm::testing::FixedClock clock(absl::FromUnixSeconds(1790000000));
  Order(tenant, ada, clock.Now() - absl::Hours(1), 20000);
  Order(tenant, ada, clock.Now() - absl::Hours(2), 20000);
  Order(tenant, bob, clock.Now() - absl::Hours(1), 20000);
  Engine engine(clock);
  REQUIRE(engine.live.Create(Actor(tenant), Draft("buyers", "purchased(365d)")).ok());
  auto repeat = engine.live.Create(
      Actor(tenant), Draft("repeat", "in_segment(\"buyers\") AND orders(365d) >= 2"));
  REQUIRE(repeat.ok());
  CHECK(repeat->member_count == 1);
  CHECK(repeat->definition.references == std::set<std::string>{"buyers"});
  // Unknown reference, cycle, duplicate id, bad id, bad expression.
  auto unknown = engine.live.Create(Actor(tenant), Draft("x", "in_segment(\"nope\")"));
  CHECK(common::ReasonOf(unknown.status()) == "SEGMENT_INVALID");
  auto cycle = engine.live.Update(Actor(tenant), "buyers",
                                  {std::nullopt, std::nullopt,
                                   std::string("in_segment(\"repeat\")")},
                                  "");
  CHECK(common::ReasonOf(cycle.status()) == "SEGMENT_CYCLE");
  auto again = engine.live.Create(Actor(tenant), Draft("buyers", "purchased(7d)"));
  CHECK(again.status().code() == absl::StatusCode::kAlreadyExists);
  CHECK(engine.live.Create(Actor(tenant), Draft("Bad Id", "purchased(7d)")).status().code() ==
        absl::StatusCode::kInvalidArgument);
  auto syntax = engine.live.Create(Actor(tenant), Draft("y", "purchased(7d) AND"));
  CHECK(common::ReasonOf(syntax.status()) == "SEGMENT_SYNTAX");
  // Deleting a referenced segment is refused; the referrer first works.
  auto in_use = engine.live.Delete(Actor(tenant), "buyers", "");
  CHECK(common::ReasonOf(in_use) == "SEGMENT_IN_USE");
  REQUIRE(engine.live.Delete(Actor(tenant), "repeat", "").ok());
  REQUIRE(engine.live.Delete(Actor(tenant), "buyers", "").ok());
  CHECK(common::ReasonOf(engine.live.Get(tenant, "buyers").status()) == "SEGMENT_NOT_FOUND");
  CHECK(Published(tenant, "segment.deleted") == 2);
  CHECK(CountIn(tenant, "SELECT count(*) FROM segmentation.memberships") == 0);
}

TEST_CASE("a retried create answers the first call, merges and erasure move members",
          "[segmentation][live]") {
  const std::string tenant = common::NewUuid();
  const std::string ada = common::NewUuid(), dup = common::NewUuid(), bob = common::NewUuid();
  crm::testing::FixedClock clock(absl::FromUnixSeconds(1790000000));
  Created(tenant, ada);
  Created(tenant, dup);
  Created(tenant, bob);
  Order(tenant, dup, clock.Now() - absl::Hours(1), 20000);
  Order(tenant, bob, clock.Now() - absl::Hours(1), 20000);
  Engine engine(clock);
  const auto actor = Actor(tenant, "create-1");
  auto first = engine.live.Create(actor, Draft("buyers", "purchased(30d)"));
  REQUIRE(first.ok());
  auto retry = engine.live.Create(actor, Draft("buyers", "purchased(30d)"));
  REQUIRE(retry.ok());
  CHECK(retry->definition.create_time == first->definition.create_time);
  CHECK(Published(tenant, "segment.created") == 1);
  CHECK(first->member_count == 2);

  // dup merged into ada: ada enters, dup exits.
  events::CustomerChange merge;
  merge.kind = Kind::kMerged;
  merge.tenant_id = tenant;
  merge.event_id = common::NewUuid();
  merge.customer_id = ada;
  merge.other_id = dup;
  REQUIRE(TheEnv().facts->Apply({merge})[0].ok());
  REQUIRE(engine.live.Touch(tenant, {ada, dup}).ok());
  CHECK(Published(tenant, "segment.entered", ada) == 1);
  CHECK(Published(tenant, "segment.exited", dup) == 1);
  // Bob erased: he exits.
  events::CustomerChange erase;
  erase.kind = Kind::kErased;
  erase.tenant_id = tenant;
  erase.event_id = common::NewUuid();
  erase.customer_id = bob;
  erase.erased_ids = {bob};
  REQUIRE(TheEnv().facts->Apply({erase})[0].ok());
  REQUIRE(engine.live.Touch(tenant, {bob}).ok());
  CHECK(Published(tenant, "segment.exited", bob) == 1);
  CHECK(engine.live.Get(tenant, "buyers")->member_count == 1);

  // Preview: a dry run counts without saving anything.
  auto preview = engine.live.Preview(tenant, "purchased(30d) AND in_segment(\"buyers\")", 10);
  REQUIRE(preview.ok());
  CHECK(preview->count == 1);
  CHECK(preview->sample == std::vector<std::string>{ada});
  CHECK(CountIn(tenant, "SELECT count(*) FROM segmentation.segments") == 1);
}

events::BehaviourFact View(const std::string& tenant, const std::string& customer,
                           const std::string& visitor, absl::Time at) {
  events::BehaviourFact f;
  f.tenant_id = tenant;
  f.event_id = common::NewUuid();
  f.type = "product.viewed";
  f.customer_id = customer;
  f.visitor_id = visitor;
  f.occurred_time = at;
  f.sku = "SKU-1";
  f.category_path = {"Music", "Jazz"};
  return f;
}

TEST_CASE("behaviour counts in windows: views enter, a stitched visitor counts, the window expires",
          "[segmentation][live][behaviour]") {
  const std::string tenant = common::NewUuid();
  const std::string ada = common::NewUuid();
  crm::testing::FixedClock clock(absl::FromUnixSeconds(1790000000));
  Created(tenant, ada);
  Engine engine(clock);
  REQUIRE(engine.live
              .Create(Actor(tenant), Draft("jazz", "count(product.viewed, category = \"Music\", "
                                                   "7d) >= 2"))
              .ok());
  // One view as Ada, one earlier as an anonymous visitor identified later.
  std::vector<app::Fact> facts{View(tenant, ada, "", clock.Now() - absl::Hours(2)),
                               View(tenant, "", "v-1", clock.Now() - absl::Hours(3))};
  for (const absl::Status& s : TheEnv().facts->Apply(facts)) REQUIRE(s.ok());
  REQUIRE(engine.live.Touch(tenant, {ada}).ok());
  CHECK(engine.live.Get(tenant, "jazz")->member_count == 0);
  events::CustomerIdentified link{tenant, common::NewUuid(), ada, "v-1"};
  REQUIRE(TheEnv().facts->Apply({link})[0].ok());
  std::map<std::string, std::set<std::string>> touched;
  app::AddTouchedCustomers(link, touched);
  REQUIRE(engine.live.Touch(tenant, {touched[tenant].begin(), touched[tenant].end()}).ok());
  CHECK(engine.live.Get(tenant, "jazz")->member_count == 1);
  CHECK(Published(tenant, "segment.entered", ada, "jazz") == 1);
  // The older view leaves the 7-day window 7 days after it happened.
  clock.Advance(absl::Hours(24 * 7) - absl::Hours(3));
  REQUIRE(engine.live.Tick().ok());
  CHECK(Published(tenant, "segment.exited", ada, "jazz") == 1);
  CHECK(engine.live.Get(tenant, "jazz")->member_count == 0);
}

TEST_CASE("behaviour retention: windows reach back no further, old facts are purged",
          "[segmentation][live][behaviour][retention]") {
  const std::string tenant = common::NewUuid(), other = common::NewUuid();
  const std::string ada = common::NewUuid(), bob = common::NewUuid();
  crm::testing::FixedClock clock(absl::FromUnixSeconds(1790000000));
  const absl::Duration day = absl::Hours(24);
  Created(tenant, ada);
  Created(other, bob);
  Engine engine(clock);
  for (const std::string& t : {tenant, other}) {
    REQUIRE(
        engine.live.Create(Actor(t), Draft("viewers", "count(product.viewed, 365d) >= 1")).ok());
  }
  std::vector<app::Fact> facts{View(tenant, ada, "", clock.Now() - 60 * day),
                               View(other, bob, "", clock.Now() - 60 * day)};
  for (const absl::Status& s : TheEnv().facts->Apply(facts)) REQUIRE(s.ok());
  REQUIRE(engine.live.Touch(tenant, {ada}).ok());
  REQUIRE(engine.live.Touch(other, {bob}).ok());
  CHECK(engine.live.Get(tenant, "viewers")->member_count == 1);

  // customer-store's behaviour.settings_updated: 30 days. Ada's view is
  // older: she leaves, once; the other tenant keeps its member.
  events::BehaviourRetention thirty{tenant, 30, 1};
  REQUIRE(TheEnv().facts->Apply({thirty})[0].ok());
  REQUIRE(engine.live.Resync(tenant).ok());
  CHECK(engine.live.Get(tenant, "viewers")->member_count == 0);
  CHECK(Published(tenant, "segment.exited", ada, "viewers") == 1);
  CHECK(engine.live.GetSettings(tenant)->behaviour_retention_days == 30);
  CHECK(engine.live.GetSettings(tenant)->version == 0);  // not this engine's settings version
  CHECK(engine.live.Get(other, "viewers")->member_count == 1);
  // A replay or an older version changes nothing; a malformed one is refused.
  REQUIRE(TheEnv().facts->Apply({events::BehaviourRetention{tenant, 0, 1}})[0].ok());
  CHECK(engine.live.GetSettings(tenant)->behaviour_retention_days == 30);
  CHECK(TheEnv().facts->Apply({events::BehaviourRetention{tenant, -1, 2}})[0].code() ==
        absl::StatusCode::kInvalidArgument);

  // The purge deletes the tenant's facts past 30 days, nobody else's.
  auto round = TheEnv().facts->PurgeExpiredBehaviour(clock.Now(),
                                                     [&](const std::string& t, absl::Time cutoff) {
                                                       engine.live.ForgetBehaviourBefore(t, cutoff);
                                                     });
  REQUIRE(round.ok());
  CHECK(round->deleted >= 1);
  CHECK(CountIn(tenant, "SELECT count(*) FROM segmentation.behaviour") == 0);
  CHECK(CountIn(other, "SELECT count(*) FROM segmentation.behaviour") == 1);
  // Keeping everything again does not bring purged behaviour back, here or
  // after a restart; nothing more is published.
  REQUIRE(TheEnv().facts->Apply({events::BehaviourRetention{tenant, 0, 2}})[0].ok());
  REQUIRE(engine.live.Resync(tenant).ok());
  CHECK(engine.live.Get(tenant, "viewers")->member_count == 0);
  Engine restarted(clock);
  CHECK(restarted.live.Get(tenant, "viewers")->member_count == 0);
  CHECK(Published(tenant, "segment.exited", ada, "viewers") == 1);
  CHECK(Published(tenant, "segment.entered", ada, "viewers") == 1);
}

TEST_CASE("a tenant's first purchase after its first segment counts at once",
          "[segmentation][live]") {
  const std::string tenant = common::NewUuid();
  const std::string ada = common::NewUuid();
  crm::testing::FixedClock clock(absl::FromUnixSeconds(1790000000));
  Created(tenant, ada);
  Engine engine(clock);
  REQUIRE(engine.live.Create(Actor(tenant), Draft("buyers", "spent(30d) >= 10")).ok());
  Order(tenant, ada, clock.Now() - absl::Hours(1), 1500);
  REQUIRE(engine.live.Touch(tenant, {ada}).ok());
  CHECK(engine.live.Get(tenant, "buyers")->member_count == 1);
}

events::ConsentFact Consent(const std::string& tenant, const std::string& customer,
                            const std::string& channel, const std::string& purpose,
                            const std::string& status, absl::Time at) {
  return {tenant, common::NewUuid(), customer, channel, purpose, status, at};
}

TEST_CASE("consents: segments read them, an objection to profiling keeps behaviour out",
          "[segmentation][live][consent]") {
  const std::string tenant = common::NewUuid();
  const std::string ada = common::NewUuid(), bob = common::NewUuid();
  crm::testing::FixedClock clock(absl::FromUnixSeconds(1790000000));
  Created(tenant, ada);
  Created(tenant, bob);
  for (const std::string& c : {ada, bob}) {
    REQUIRE(TheEnv().facts->Apply({View(tenant, c, "", clock.Now() - absl::Hours(1))})[0].ok());
    Order(tenant, c, clock.Now() - absl::Hours(1), 5000);
  }
  REQUIRE(TheEnv()
              .facts
              ->Apply({Consent(tenant, ada, "email", "marketing", "opted_in",
                               clock.Now() - absl::Hours(2))})[0]
              .ok());
  Engine engine(clock);
  REQUIRE(
      engine.live.Create(Actor(tenant), Draft("mailable", "consent.email = \"opted_in\"")).ok());
  REQUIRE(
      engine.live.Create(Actor(tenant), Draft("never-asked", "consent.sms = \"unknown\"")).ok());
  REQUIRE(
      engine.live.Create(Actor(tenant), Draft("viewers", "count(product.viewed, 7d) >= 1")).ok());
  REQUIRE(engine.live.Create(Actor(tenant), Draft("buyers", "purchased(7d)")).ok());
  CHECK(engine.live.Get(tenant, "mailable")->member_count == 1);
  CHECK(engine.live.Get(tenant, "never-asked")->member_count == 2);
  CHECK(engine.live.Get(tenant, "viewers")->member_count == 2);

  // Bob objects to profiling: he leaves the behavioural segment, keeps the
  // order-based one.
  events::ConsentFact objection =
      Consent(tenant, bob, "web", "profiling", "opted_out", clock.Now());
  REQUIRE(TheEnv().facts->Apply({objection})[0].ok());
  std::map<std::string, std::set<std::string>> touched;
  app::AddTouchedCustomers(objection, touched);
  REQUIRE(engine.live.Touch(tenant, {touched[tenant].begin(), touched[tenant].end()}).ok());
  CHECK(Published(tenant, "segment.exited", bob, "viewers") == 1);
  CHECK(engine.live.Get(tenant, "viewers")->member_count == 1);
  CHECK(engine.live.Get(tenant, "buyers")->member_count == 2);
  auto preview = engine.live.Preview(tenant, "count(product.viewed, 7d) >= 1", 10);
  REQUIRE(preview.ok());
  CHECK(preview->sample == std::vector<std::string>{ada});
  // An older event replayed later changes nothing; a newer opt-in brings him back.
  REQUIRE(TheEnv()
              .facts
              ->Apply({Consent(tenant, bob, "web", "profiling", "opted_in",
                               clock.Now() - absl::Hours(5))})[0]
              .ok());
  REQUIRE(engine.live.Touch(tenant, {bob}).ok());
  CHECK(engine.live.Get(tenant, "viewers")->member_count == 1);
  REQUIRE(TheEnv()
              .facts
              ->Apply({Consent(tenant, bob, "web", "profiling", "opted_in",
                               clock.Now() + absl::Seconds(1))})[0]
              .ok());
  REQUIRE(engine.live.Touch(tenant, {bob}).ok());
  CHECK(engine.live.Get(tenant, "viewers")->member_count == 2);
  // A restart reads the same consents.
  Engine again(clock);
  REQUIRE(again.live.LoadAll().ok());
  CHECK(again.live.Get(tenant, "mailable")->member_count == 1);
  CHECK(again.live.Get(tenant, "viewers")->member_count == 2);
}

events::CustomerChange ProfileChange(const std::string& tenant, const std::string& customer,
                                     Kind kind, int64_t version,
                                     std::map<std::string, events::ProfileValue> fields) {
  events::CustomerChange c;
  c.kind = kind;
  c.tenant_id = tenant;
  c.event_id = common::NewUuid();
  c.customer_id = customer;
  c.version = version;
  c.has_profile = true;
  c.profile = std::move(fields);
  return c;
}

TEST_CASE("profile fields and attributes: segments follow the newest version, erasure forgets them",
          "[segmentation][live][profile]") {
  const std::string tenant = common::NewUuid();
  const std::string ada = common::NewUuid(), bob = common::NewUuid();
  crm::testing::FixedClock clock(absl::FromUnixSeconds(1790000000));
  using V = events::ProfileValue;
  auto apply = [&](const events::CustomerChange& c) {
    REQUIRE(TheEnv().facts->Apply({c})[0].ok());
  };
  apply(ProfileChange(tenant, ada, Kind::kCreated, 1,
                      {{"profile.country", V(std::string("CH"))},
                       {"profile.lifecycle_stage", V(std::string("customer"))},
                       {"attr.plan", V(std::string("gold"))},
                       {"attr.seats", V(12.0)}}));
  apply(ProfileChange(tenant, bob, Kind::kCreated, 1,
                      {{"profile.country", V(std::string("DE"))}, {"attr.seats", V(3.0)}}));
  Engine engine(clock);
  REQUIRE(engine.live
              .Create(Actor(tenant), Draft("swiss-gold", R"(profile.country = "CH" AND )"
                                                         R"(attr.plan = "gold")"))
              .ok());
  REQUIRE(engine.live.Create(Actor(tenant), Draft("big", "attr.seats >= 10")).ok());
  REQUIRE(engine.live
              .Create(Actor(tenant), Draft("customers", R"(profile.lifecycle_stage = "customer")"))
              .ok());
  CHECK(engine.live.Get(tenant, "swiss-gold")->member_count == 1);
  CHECK(engine.live.Get(tenant, "big")->member_count == 1);
  CHECK(engine.live.Get(tenant, "customers")->member_count == 1);
  CHECK(Published(tenant, "segment.entered", ada, "swiss-gold") == 1);

  // Ada moves to Germany (version 2): she leaves; bob grows (an update).
  auto moved = ProfileChange(tenant, ada, Kind::kUpdated, 2,
                             {{"profile.country", V(std::string("DE"))},
                              {"attr.plan", V(std::string("gold"))},
                              {"attr.seats", V(12.0)}});
  auto grown = ProfileChange(tenant, bob, Kind::kUpdated, 2, {{"attr.seats", V(40.0)}});
  auto touch = [&](const std::vector<app::Fact>& facts) {
    for (const absl::Status& st : TheEnv().facts->Apply(facts)) REQUIRE(st.ok());
    std::map<std::string, std::set<std::string>> touched;
    for (const app::Fact& f : facts) app::AddTouchedCustomers(f, touched);
    REQUIRE(engine.live.Touch(tenant, {touched[tenant].begin(), touched[tenant].end()}).ok());
  };
  touch({moved, grown});
  CHECK(engine.live.Get(tenant, "swiss-gold")->member_count == 0);
  CHECK(Published(tenant, "segment.exited", ada, "swiss-gold") == 1);
  CHECK(engine.live.Get(tenant, "big")->member_count == 2);
  CHECK(engine.live.Get(tenant, "customers")->member_count == 0);  // no stage in version 2
  // An older version arriving late changes nothing.
  touch({ProfileChange(
      tenant, ada, Kind::kUpdated, 1,
      {{"profile.country", V(std::string("CH"))}, {"attr.plan", V(std::string("gold"))}})});
  CHECK(engine.live.Get(tenant, "swiss-gold")->member_count == 0);
  // A value of another type does not match (seats as a string).
  touch({ProfileChange(tenant, bob, Kind::kUpdated, 3, {{"attr.seats", V(std::string("40"))}})});
  CHECK(engine.live.Get(tenant, "big")->member_count == 1);
  // A restart reads the kept profiles.
  Engine again(clock);
  REQUIRE(again.live.LoadAll().ok());
  CHECK(again.live.Get(tenant, "big")->member_count == 1);
  CHECK(again.live.Get(tenant, "swiss-gold")->member_count == 0);
  // Erasure forgets the profile.
  events::CustomerChange erased;
  erased.kind = Kind::kErased;
  erased.tenant_id = tenant;
  erased.event_id = common::NewUuid();
  erased.customer_id = ada;
  erased.erased_ids = {ada};
  REQUIRE(TheEnv().facts->Apply({erased})[0].ok());
  REQUIRE(again.live.Touch(tenant, {ada}).ok());
  CHECK(again.live.Get(tenant, "big")->member_count == 0);
  CHECK(CountIn(tenant, absl::StrCat("SELECT count(*) FROM segmentation.profiles WHERE "
                                     "customer_id = '",
                                     ada, "'")) == 0);
}

TEST_CASE("order lines: sku and category filters read the bought lines and the catalog",
          "[segmentation][live][orders]") {
  const std::string tenant = common::NewUuid();
  const std::string ada = common::NewUuid(), bob = common::NewUuid();
  crm::testing::FixedClock clock(absl::FromUnixSeconds(1790000000));
  auto product = [&](const std::string& sku, int64_t version, std::vector<std::string> path) {
    events::ProductFact f;
    f.tenant_id = tenant;
    f.sku = sku;
    f.version = version;
    f.category_path = std::move(path);
    return f;
  };
  auto order = [&](const std::string& customer, std::vector<events::OrderLineFact> lines) {
    events::OrderFact f;
    f.tenant_id = tenant;
    f.order_id = common::NewUuid();
    f.customer_id = customer;
    f.currency_code = "CHF";
    f.total_minor = f.net_minor = 2000;
    f.status = "placed";
    f.placed_time = clock.Now() - absl::Hours(24);
    f.version = 1;
    f.lines = std::move(lines);
    return f;
  };
  REQUIRE(TheEnv().facts->Apply({product("JAZZ-1", 1, {"Music", "Jazz"})})[0].ok());
  Created(tenant, ada);
  Created(tenant, bob);
  // Ada bought a jazz record and a book; Bob a book, and a record he sent back.
  REQUIRE(TheEnv().facts->Apply({order(ada, {{"JAZZ-1", 1, 0}, {"BOOK-1", 2, 0}})})[0].ok());
  REQUIRE(TheEnv().facts->Apply({order(bob, {{"BOOK-1", 1, 0}, {"JAZZ-1", 1, 1}})})[0].ok());
  Engine engine(clock);
  REQUIRE(
      engine.live.Create(Actor(tenant), Draft("music", R"(bought(category = "Music", 90d))")).ok());
  REQUIRE(engine.live.Create(Actor(tenant), Draft("books", R"(bought(sku = "BOOK-1", 30d))")).ok());
  REQUIRE(engine.live.Create(Actor(tenant), Draft("readers", R"(bought(category = "Books", 90d))"))
              .ok());
  CHECK(engine.live.Get(tenant, "music")->member_count == 1);  // Ada: Bob returned his
  CHECK(engine.live.Get(tenant, "books")->member_count == 2);
  CHECK(engine.live.Get(tenant, "readers")->member_count == 0);  // no category known yet
  auto preview = engine.live.Preview(tenant, R"(bought(category = "Music/Jazz", 7d))", 10);
  REQUIRE(preview.ok());
  CHECK(preview->sample == std::vector<std::string>{ada});

  // The book's catalog event arrives after the orders: both enter.
  const app::Fact book = product("BOOK-1", 1, {"Books", "Novels"});
  REQUIRE(TheEnv().facts->Apply({book})[0].ok());
  std::map<std::string, std::set<std::string>> skus;
  app::AddChangedProducts(book, skus);
  REQUIRE(engine.live.ProductsChanged(tenant, {skus[tenant].begin(), skus[tenant].end()}).ok());
  CHECK(engine.live.Get(tenant, "readers")->member_count == 2);
  CHECK(Published(tenant, "segment.entered", bob, "readers") == 1);
  // An older version of the product changes nothing; a newer one moves it.
  REQUIRE(TheEnv().facts->Apply({product("BOOK-1", 1, {"Music", "Audiobooks"})})[0].ok());
  REQUIRE(engine.live.ProductsChanged(tenant, {"BOOK-1"}).ok());
  CHECK(engine.live.Get(tenant, "music")->member_count == 1);
  REQUIRE(TheEnv().facts->Apply({product("BOOK-1", 2, {"Music", "Audiobooks"})})[0].ok());
  REQUIRE(engine.live.ProductsChanged(tenant, {"BOOK-1"}).ok());
  CHECK(engine.live.Get(tenant, "music")->member_count == 2);
  CHECK(engine.live.Get(tenant, "readers")->member_count == 0);
  // A restart reads the same skus and categories.
  Engine again(clock);
  REQUIRE(again.live.LoadAll().ok());
  CHECK(again.live.Get(tenant, "music")->member_count == 2);
  CHECK(again.live.Get(tenant, "books")->member_count == 2);
}

TEST_CASE("settings: an opt-in requirement moves behavioural members, once, in the write",
          "[segmentation][live][consent]") {
  const std::string tenant = common::NewUuid();
  const std::string ada = common::NewUuid(), bob = common::NewUuid();
  crm::testing::FixedClock clock(absl::FromUnixSeconds(1790000000));
  for (const std::string& c : {ada, bob}) {
    Created(tenant, c);
    REQUIRE(TheEnv().facts->Apply({View(tenant, c, "", clock.Now() - absl::Hours(1))})[0].ok());
  }
  REQUIRE(TheEnv()
              .facts
              ->Apply({Consent(tenant, ada, "email", "profiling", "opted_in",
                               clock.Now() - absl::Hours(2))})[0]
              .ok());
  Engine engine(clock);
  REQUIRE(
      engine.live.Create(Actor(tenant), Draft("viewers", "count(product.viewed, 7d) >= 1")).ok());
  REQUIRE(engine.live
              .Create(Actor(tenant), Draft("known",
                                           "NOT in_segment(\"viewers\") OR "
                                           "in_segment(\"viewers\")"))
              .ok());
  CHECK(engine.live.Get(tenant, "viewers")->member_count == 2);
  auto defaults = engine.live.GetSettings(tenant);
  REQUIRE(defaults.ok());
  CHECK_FALSE(defaults->profiling_requires_opt_in);
  CHECK(defaults->version == 0);

  const outbox::WriteMeta write = Actor(tenant, "settings-1");
  auto stale = engine.live.UpdateSettings(Actor(tenant), {true}, "3");
  CHECK(common::ReasonOf(stale.status()) == "ETAG_MISMATCH");
  auto s = engine.live.UpdateSettings(write, {true}, "0");
  REQUIRE(s.ok());
  CHECK(s->profiling_requires_opt_in);
  CHECK(s->version == 1);
  CHECK(engine.live.Get(tenant, "viewers")->member_count == 1);  // bob never opted in
  CHECK(engine.live.Get(tenant, "known")->member_count == 2);    // reads no behaviour itself
  CHECK(Published(tenant, "segment.exited", bob, "viewers") == 1);
  CHECK(Published(tenant, "segmentation.settings_updated") == 1);
  // A retry answers the first call and publishes nothing again.
  auto again = engine.live.UpdateSettings(write, {true}, "0");
  REQUIRE(again.ok());
  CHECK(again->version == 1);
  CHECK(Published(tenant, "segment.exited", bob, "viewers") == 1);
  CHECK(Published(tenant, "segmentation.settings_updated") == 1);
  // A restart reads the settings: nothing to publish.
  Engine restarted(clock);
  REQUIRE(restarted.live.LoadAll().ok());
  CHECK(restarted.live.Get(tenant, "viewers")->member_count == 1);
  CHECK(Published(tenant, "segment.entered", bob, "viewers") == 1);
  // Bob opts in on another channel: he is back.
  REQUIRE(TheEnv()
              .facts->Apply({Consent(tenant, bob, "web", "profiling", "opted_in", clock.Now())})[0]
              .ok());
  REQUIRE(restarted.live.Touch(tenant, {bob}).ok());
  CHECK(restarted.live.Get(tenant, "viewers")->member_count == 2);
  CHECK(Published(tenant, "segment.entered", bob, "viewers") == 2);
  // The time zone: an unknown name is refused; a known one is kept.
  auto mars = restarted.live.UpdateSettings(Actor(tenant), {std::nullopt, "Mars/Olympus"}, "");
  CHECK(mars.status().code() == absl::StatusCode::kInvalidArgument);
  CHECK(common::FieldOf(mars.status()) == "settings.time_zone");
  auto tokyo = restarted.live.UpdateSettings(Actor(tenant), {std::nullopt, "Asia/Tokyo"}, "1");
  REQUIRE(tokyo.ok());
  CHECK(tokyo->version == 2);
  CHECK(tokyo->profiling_requires_opt_in);
  CHECK(restarted.live.Get(tenant, "viewers")->member_count == 2);  // nothing else moved
  Engine third(clock);
  REQUIRE(third.live.LoadAll().ok());
  CHECK(third.live.GetSettings(tenant)->time_zone == "Asia/Tokyo");
  // Another tenant keeps the defaults.
  auto other = third.live.GetSettings(common::NewUuid());
  REQUIRE(other.ok());
  CHECK_FALSE(other->profiling_requires_opt_in);
  CHECK(other->time_zone == "UTC");
}

TEST_CASE("segments and members are the tenant's own", "[segmentation][live][tenancy]") {
  const std::string tenant = common::NewUuid(), other = common::NewUuid();
  const std::string ada = common::NewUuid();
  crm::testing::FixedClock clock(absl::FromUnixSeconds(1790000000));
  Order(tenant, ada, clock.Now() - absl::Hours(1), 20000);
  Engine engine(clock);
  REQUIRE(engine.live.Create(Actor(tenant), Draft("buyers", "purchased(30d)")).ok());
  CHECK(common::ReasonOf(engine.live.Get(other, "buyers").status()) == "SEGMENT_NOT_FOUND");
  CHECK(engine.live.List(other, "", 10)->empty());
  CHECK(engine.live.Members(other, "buyers", "", 10).status().code() ==
        absl::StatusCode::kNotFound);
  CHECK(common::ReasonOf(engine.live.SegmentsOf(other, ada).status()) == "CUSTOMER_NOT_FOUND");
  CHECK(common::ReasonOf(engine.live.Delete(Actor(other), "buyers", "")) == "SEGMENT_NOT_FOUND");
  // A segment over another tenant's segment is refused as unknown.
  auto over = engine.live.Create(Actor(other), Draft("mine", "in_segment(\"buyers\")"));
  CHECK(common::ReasonOf(over.status()) == "SEGMENT_INVALID");
  // The other tenant's preview sees none of the first tenant's customers.
  auto preview = engine.live.Preview(other, "purchased(30d)", 10);
  REQUIRE(preview.ok());
  CHECK(preview->customers == 0);
}

// The other replicas of an engine, called in process (the gRPC adapter of
// the same port is exercised by the e2e suite's two-replica test).
class InProcessPeers final : public app::ReplicaPeers {
 public:
  std::vector<app::LiveSegments*> others;
  int size() const override { return static_cast<int>(others.size()); }
  absl::StatusOr<std::map<std::string, uint64_t>> Counts(const std::string& tenant,
                                                         const std::vector<std::string>& ids,
                                                         bool sync) override {
    std::map<std::string, uint64_t> total;
    for (app::LiveSegments* o : others) {
      auto c = o->CountsHere(tenant, ids, sync);
      if (!c.ok()) return c.status();
      for (const auto& [id, n] : *c) total[id] += n;
    }
    return total;
  }
  absl::StatusOr<std::vector<bool>> Match(const std::string& tenant, const std::string& customer_id,
                                          const std::vector<std::string>& expressions) override {
    for (app::LiveSegments* o : others) {
      auto m = o->MatchHere(tenant, customer_id, expressions);
      if (!m.ok()) return m.status();
      if (*m) return **m;
    }
    return absl::NotFoundError("customer not found");
  }
  absl::StatusOr<std::vector<app::LocalPreview>> Previews(const std::string& tenant,
                                                          const std::string& expression,
                                                          int sample_size) override {
    std::vector<app::LocalPreview> out;
    for (app::LiveSegments* o : others) {
      auto p = o->PreviewHere(tenant, expression, sample_size);
      if (!p.ok()) return p.status();
      out.push_back({p->count, p->customers, p->sample});
    }
    return out;
  }
};

// Replica `ordinal` of `replicas` (8 partitions) over the shared tables.
struct Replica {
  Replica(crm::testing::FixedClock& clock, int replicas, int ordinal)
      : live(*TheEnv().segments_repo, *TheEnv().facts_repo, *TheEnv().models_repo, clock,
             domain::FieldCatalog::Default(), absl::Hours(1), {8, replicas, ordinal}, &peers) {}
  InProcessPeers peers;
  app::LiveSegments live;
};

// Segment events of a tenant as (type, segment, label of the customer).
std::multiset<std::string> SegmentEvents(const std::string& tenant,
                                         const std::map<std::string, int>& label) {
  pqxx::connection c(ts::PgOwnerDsn());
  pqxx::work w(c);
  w.exec_params("SELECT set_config('app.tenant_id', $1, true)", tenant);
  std::multiset<std::string> out;
  for (const auto& row :
       w.exec_params("SELECT event_type, payload->>'segment_id', customer_id::text FROM "
                     "segmentation.outbox WHERE tenant_id = $1 AND event_type IN "
                     "('segment.entered', 'segment.exited')",
                     tenant)) {
    out.insert(absl::StrCat(row[0].as<std::string>(), " ", row[1].as<std::string>(), " ",
                            label.at(row[2].as<std::string>())));
  }
  return out;
}

TEST_CASE("two replicas hold half the customers each and add up to one engine",
          "[segmentation][live][replicas]") {
  crm::testing::FixedClock clock(absl::FromUnixSeconds(1790000000));
  // The same customers and orders in two tenants: one engine serves the
  // first, two replicas the second.
  const std::string one = common::NewUuid(), two = common::NewUuid();
  std::map<std::string, std::vector<std::string>> ids;
  std::map<std::string, int> label;
  for (const std::string& tenant : {one, two}) {
    for (int i = 0; i < 40; ++i) {
      ids[tenant].push_back(common::NewUuid());
      label[ids[tenant].back()] = i;
      Created(tenant, ids[tenant].back());
      if (i % 2 == 0) {
        Order(tenant, ids[tenant].back(), clock.Now() - absl::Hours(24 * (1 + i)), 1000 * i);
      }
    }
  }
  Engine single(clock);
  Replica r0(clock, 2, 0), r1(clock, 2, 1);
  r0.peers.others = {&r1.live};
  r1.peers.others = {&r0.live};

  // A create on one replica counts both (the other re-reads the segments).
  auto a = single.live.Create(Actor(one), Draft("big", "spent(365d) >= 100"));
  auto b = r0.live.Create(Actor(two), Draft("big", "spent(365d) >= 100"));
  REQUIRE(a.ok());
  REQUIRE(b.ok());
  // RFM bins against the whole tenant's breakpoints on every replica, not
  // against its own share's.
  auto rich_one = single.live.Create(Actor(one), Draft("rich", "rfm.m >= 4"));
  auto rich_two = r1.live.Create(Actor(two), Draft("rich", "rfm.m >= 4"));
  REQUIRE(rich_one.ok());
  REQUIRE(rich_two.ok());
  CHECK(rich_one->member_count == 8);  // the top 40 % of the 20 buyers
  CHECK(rich_two->member_count == rich_one->member_count);
  CHECK(a->member_count == 15);  // customers 10, 12, ..., 38 (10 CHF x i)
  CHECK(b->member_count == a->member_count);
  CHECK(r1.live.Get(two, "big")->member_count == a->member_count);
  const auto held = [&](Replica& r) { return r.live.Stats().customers; };
  CHECK(held(r0) > 0);
  CHECK(held(r1) > 0);
  CHECK(held(r0) + held(r1) == 40);
  for (int i = 0; i < 40; ++i) {
    const std::string& id = ids[two][i];
    CHECK(domain::Ownership{8, 2, 0}.Owns(id) != domain::Ownership{8, 2, 1}.Owns(id));
  }

  // An edit on the other replica, a new order (every replica is told of
  // every fact; the holder evaluates it), time passing.
  const auto patch =
      domain::SegmentPatch{std::nullopt, std::nullopt, std::string("spent(30d) >= 50")};
  REQUIRE(single.live.Update(Actor(one), "big", patch, "").ok());
  auto edited = r1.live.Update(Actor(two), "big", patch, "");
  REQUIRE(edited.ok());
  CHECK(edited->member_count == single.live.Get(one, "big")->member_count);
  Order(one, ids[one][1], clock.Now(), 9000);
  Order(two, ids[two][1], clock.Now(), 9000);
  REQUIRE(single.live.Touch(one, {ids[one][1]}).ok());
  REQUIRE(r0.live.Touch(two, {ids[two][1]}).ok());
  REQUIRE(r1.live.Touch(two, {ids[two][1]}).ok());
  clock.Advance(absl::Hours(24 * 10));
  REQUIRE(single.live.Tick().ok());
  REQUIRE(r0.live.Tick().ok());
  REQUIRE(r1.live.Tick().ok());
  const uint64_t count = single.live.Get(one, "big")->member_count;
  CHECK(count > 0);
  CHECK(r0.live.Get(two, "big")->member_count == count);
  CHECK(r1.live.Get(two, "big")->member_count == count);

  // The same enters and exits, members and dry run.
  CHECK(SegmentEvents(two, label) == SegmentEvents(one, label));
  CHECK(SegmentEvents(one, label).size() > 15);
  const auto labels = [&](const std::string& tenant, app::LiveSegments& live) {
    std::set<int> out;
    auto page = live.Members(tenant, "big", "", 1000);
    REQUIRE(page.ok());
    for (const auto& m : page->members) out.insert(label.at(m.customer_id));
    return out;
  };
  CHECK(labels(two, r1.live) == labels(one, single.live));
  // One customer's match, asked of either replica (the holder answers).
  const std::vector<std::string> rules = {"orders(3650d) >= 1", "in_segment(\"big\")",
                                          "spent(365d) >= 100"};
  for (int i : {0, 1, 12, 13, 38}) {
    auto m1 = single.live.Match(one, ids[one][i], rules);
    REQUIRE(m1.ok());
    CHECK((*m1)[0] == (i % 2 == 0 || i == 1));
    CHECK((*m1)[2] == (i >= 10 && i % 2 == 0));
    for (Replica* r : {&r0, &r1}) {
      auto m2 = r->live.Match(two, ids[two][i], rules);
      REQUIRE(m2.ok());
      CHECK(*m2 == *m1);
    }
  }
  CHECK(r0.live.Match(two, common::NewUuid(), rules).status().code() ==
        absl::StatusCode::kNotFound);
  CHECK(r0.live.Match(two, ids[two][0], {"orders(3650d) >="}).status().code() ==
        absl::StatusCode::kInvalidArgument);
  CHECK(r0.live.Match(two, ids[two][0], {"in_segment(\"nope\")"}).status().code() ==
        absl::StatusCode::kInvalidArgument);
  auto p1 = single.live.Preview(one, "orders(3650d) >= 1", 5);
  auto p2 = r1.live.Preview(two, "orders(3650d) >= 1", 5);
  REQUIRE(p1.ok());
  REQUIRE(p2.ok());
  CHECK(p2->count == p1->count);
  CHECK(p2->customers == p1->customers);
  CHECK(p2->sample.size() == 5);
  auto all = r0.live.Preview(two, "orders(3650d) >= 1", 100);  // every match
  REQUIRE(all.ok());
  REQUIRE(all->sample.size() == p1->count);
  CHECK(std::vector<std::string>(all->sample.begin(), all->sample.begin() + 5) == p2->sample);

  // A restart as one engine finds the same state and publishes nothing.
  Engine after(clock);
  REQUIRE(after.live.LoadAll().ok());
  CHECK(after.live.Get(two, "big")->member_count == count);
  CHECK(SegmentEvents(two, label) == SegmentEvents(one, label));

  // A delete on one replica: the other drops it on sync.
  REQUIRE(r0.live.Delete(Actor(two), "big", "").ok());
  CHECK(r1.live.CountsHere(two, {"big"}, false)->at("big") == 0);
}

}  // namespace
}  // namespace crm::segmentation::itest
