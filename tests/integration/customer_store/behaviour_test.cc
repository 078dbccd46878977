// Behaviour events against PostgreSQL: TrackEvents into the month-
// partitioned table (one INSERT per batch, events through the outbox),
// IdentifyCustomer (visitor links, read-time attribution), the 360 view's
// sessions, the export and the erasure.
#include "services/customer_store/app/behaviour.h"

#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "libs/common/clock.h"
#include "services/customer_store/app/behaviour_retention.h"
#include "services/customer_store/app/customer_store.h"
#include "services/customer_store/app/merge.h"
#include "tests/integration/customer_store/cs_env.h"
#include "tests/support/fakes/customer_store/fake_view_cache.h"

namespace crm::customer_store::itest {
namespace {

using domain::BehaviourInput;

struct Tracker {
  crm::testing::FakeViewCache cache;
  common::SystemClock clock;
  common::RandomIdGenerator ids;
  app::BehaviourTracker tracker{Repo(), cache, clock, ids};
};

BehaviourInput Ev(const std::string& type, absl::Duration ago = absl::ZeroDuration()) {
  BehaviourInput in;
  in.type = type;
  in.occur_time = absl::Now() - ago;
  in.properties.path = "/" + type;
  return in;
}
BehaviourInput ForCustomer(const std::string& id, const std::string& type = "page.viewed",
                           absl::Duration ago = absl::ZeroDuration()) {
  BehaviourInput in = Ev(type, ago);
  in.customer_id = id;
  return in;
}
BehaviourInput ForVisitor(const std::string& v, const std::string& type = "page.viewed",
                          absl::Duration ago = absl::ZeroDuration()) {
  BehaviourInput in = Ev(type, ago);
  in.visitor_id = v;
  return in;
}

std::string CreateCustomer(const std::string& tenant, const std::string& email = "") {
  domain::Customer c = NewCustomer(
      "Ada", email.empty() ? std::vector<std::string>{} : std::vector<std::string>{email});
  auto r = Insert(Repo(), ActorOf(tenant, "CreateCustomer"), c);
  INFO(r.status().ToString());
  REQUIRE(r.ok());
  return c.id;
}

int64_t CountEvents(const std::string& tenant, const std::string& where = "true") {
  return CountIn(tenant, "SELECT count(*) FROM customer_store.behaviour_events WHERE " + where);
}

// Events listed in the tenant's behaviour.tracked outbox events that pass
// `where` (over e, one listed event, and n, its position in its batch).
int64_t Tracked(const std::string& tenant, const std::string& where = "true") {
  return CountIn(tenant, absl::StrCat("SELECT count(*) FROM customer_store.outbox o, "
                                      "jsonb_array_elements(o.payload->'events') WITH ORDINALITY "
                                      "AS x(e, n) WHERE o.event_type = 'behaviour.tracked' AND (",
                                      where, ")"));
}

TEST_CASE("TrackEvents stores a batch in month partitions and publishes it through the outbox",
          "[customer_store][behaviour]") {
  const std::string tenant = NewTenant();
  const std::string email = UniqueEmail("bh");
  const std::string ada = CreateCustomer(tenant, email);
  Tracker t;
  BehaviourInput by_email = Ev("search.performed");
  by_email.email = email;
  by_email.properties.search_query = "running shoes";
  BehaviourInput with_ctx = ForVisitor("v-anon", "product.viewed", absl::Hours(24 * 60));
  with_ctx.ip = "203.0.113.200";
  with_ctx.user_agent = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) Chrome/120";
  with_ctx.properties.sku = "SKU-9";
  with_ctx.properties.category_path = {"shoes", "running"};
  with_ctx.properties.value = 89.5;
  with_ctx.properties.currency_code = "CHF";
  std::vector<BehaviourInput> batch = {ForCustomer(ada), by_email, with_ctx,
                                       ForCustomer(common::NewUuid()), Ev("x.bad type")};
  batch.back().visitor_id = "v-anon";

  absl::StatusOr<app::TrackOutcome> out = t.tracker.Track(ActorOf(tenant, "TrackEvents"), batch);
  INFO(out.status().ToString());
  REQUIRE(out.ok());
  CHECK(out->accepted == 3);
  CHECK(out->refused == 2);
  CHECK(out->results[3].reason == "CUSTOMER_NOT_FOUND");
  CHECK(out->results[4].reason == "UNKNOWN_EVENT_TYPE");
  CHECK(out->results[1].customer_id == ada);

  CHECK(CountEvents(tenant) == 3);
  CHECK(CountEvents(tenant, "customer_id = '" + ada + "'") == 2);
  CHECK(CountEvents(tenant, "customer_id IS NULL AND visitor_id = 'v-anon'") == 1);
  // Stored reduced: the /24 prefix and a device class, never the address or the agent.
  CHECK(CountEvents(tenant, "ip_prefix = '203.0.113.0' AND device_class = 1") == 1);
  CHECK(CountEvents(tenant, "properties::text LIKE '%203.0.113.200%'") == 0);
  CHECK(CountEvents(tenant,
                    "properties->>'sku' = 'SKU-9' AND properties->'category_path'->>1 = "
                    "'running' AND (properties->>'value')::float8 = 89.5") == 1);
  // Every row is in its month's partition, none in the default one.
  CHECK(CountEvents(tenant,
                    "tableoid::regclass::text = 'customer_store.behaviour_events_default'") == 0);
  CHECK(CountIn(tenant, "SELECT count(DISTINCT tableoid) FROM customer_store.behaviour_events") >=
        2);  // today and 60 days ago
  // One behaviour.tracked outbox event for the batch, on the tenant's
  // partition (no customer), listing the accepted events in order.
  CHECK(CountOutbox(tenant, "", "behaviour.tracked") == 1);
  CHECK(CountIn(tenant,
                "SELECT count(*) FROM customer_store.outbox WHERE event_type = "
                "'behaviour.tracked' AND customer_id IS NULL") == 1);
  CHECK(Tracked(tenant) == 3);
  CHECK(Tracked(tenant, "e->>'customer_id' = '" + ada + "' AND e->>'type' = 'page.viewed'") == 1);
  CHECK(Tracked(tenant, "e->>'customer_id' = '" + ada + "' AND e->>'type' = 'search.performed'") ==
        1);
  CHECK(Tracked(tenant,
                "e->>'type' = 'product.viewed' AND e->>'visitor_id' = 'v-anon' AND "
                "e->>'customer_id' = '' AND e->>'sku' = 'SKU-9'") == 1);
  CHECK(Tracked(tenant, "e->>'event_id' = '" + out->results[0].event_id + "' AND n = 1") == 1);
  CHECK(CountAudit(tenant, "TrackEvents", "OK") == 1);
}

TEST_CASE("TrackEvents with request_id answers a retry without storing twice",
          "[customer_store][behaviour]") {
  const std::string tenant = NewTenant();
  const std::string ada = CreateCustomer(tenant);
  Tracker t;
  app::Actor actor = ActorOf(tenant, "TrackEvents", common::NewUuid());
  actor.fingerprint = "fp-1";
  std::vector<BehaviourInput> batch = {ForCustomer(ada), ForVisitor("v1")};
  auto first = t.tracker.Track(actor, batch);
  REQUIRE(first.ok());
  auto again = t.tracker.Track(actor, batch);
  REQUIRE(again.ok());
  REQUIRE(again->results.size() == 2);
  CHECK(again->results[0].event_id == first->results[0].event_id);
  CHECK(again->results[1].event_id == first->results[1].event_id);
  CHECK(CountEvents(tenant) == 2);
  CHECK(CountOutbox(tenant, "", "behaviour.tracked") == 1);  // the retry publishes nothing
  CHECK(Tracked(tenant, "e->>'type' = 'page.viewed'") == 2);
  actor.fingerprint = "fp-2";
  CHECK(ReasonOf(t.tracker.Track(actor, batch).status()) == "IDEMPOTENCY_KEY_REUSED");
}

TEST_CASE("A 500-event batch is one write", "[customer_store][behaviour]") {
  const std::string tenant = NewTenant();
  const std::string ada = CreateCustomer(tenant);
  Tracker t;
  std::vector<BehaviourInput> batch;
  for (int i = 0; i < domain::kMaxTrackBatch; ++i) {
    batch.push_back(i % 2 ? ForCustomer(ada, "product.viewed", absl::Seconds(i))
                          : ForVisitor("v" + std::to_string(i % 7)));
  }
  auto out = t.tracker.Track(ActorOf(tenant, "TrackEvents"), batch);
  REQUIRE(out.ok());
  CHECK(out->accepted == domain::kMaxTrackBatch);
  CHECK(CountEvents(tenant) == domain::kMaxTrackBatch);
  CHECK(CountOutbox(tenant, "", "behaviour.tracked") == 1);  // one event for the batch
  CHECK(Tracked(tenant) == domain::kMaxTrackBatch);
  CHECK(CountAudit(tenant, "TrackEvents", "OK") == 1);
}

TEST_CASE("Identify: a visitor's earlier and later events count for the customer once",
          "[customer_store][behaviour]") {
  const std::string tenant = NewTenant();
  const std::string ada = CreateCustomer(tenant);
  const std::string bob = CreateCustomer(tenant);
  Tracker t;
  // Two anonymous visits of v-7 (2 h apart), and one event of Ada herself.
  REQUIRE(t.tracker
              .Track(ActorOf(tenant, "TrackEvents"),
                     {ForVisitor("v-7", "page.viewed", absl::Hours(3)),
                      ForVisitor("v-7", "product.viewed", absl::Hours(3) - absl::Minutes(5)),
                      ForVisitor("v-7", "page.viewed", absl::Hours(1)),
                      ForCustomer(ada, "page.viewed", absl::Minutes(10))})
              .ok());
  auto before = Repo().LoadView(tenant, ada, 20);
  REQUIRE(before.ok());
  CHECK(before->recent_sessions.size() == 1);  // only her own event

  auto linked = t.tracker.Identify(ActorOf(tenant, "IdentifyCustomer"), ada, "v-7");
  INFO(linked.status().ToString());
  REQUIRE(linked.ok());
  CHECK(linked->linked);
  CHECK(linked->earlier_events == 3);
  CHECK(CountOutbox(tenant, ada, "customer.identified") == 1);
  auto again = t.tracker.Identify(ActorOf(tenant, "IdentifyCustomer"), ada, "v-7");
  REQUIRE(again.ok());
  CHECK_FALSE(again->linked);
  CHECK(CountOutbox(tenant, ada, "customer.identified") == 1);
  CHECK(ReasonOf(t.tracker.Identify(ActorOf(tenant, "IdentifyCustomer"), bob, "v-7").status()) ==
        "IDENTITY_TAKEN");

  // Later events of the visitor are stored for Ada directly.
  auto later = t.tracker.Track(ActorOf(tenant, "TrackEvents"), {ForVisitor("v-7")});
  REQUIRE(later.ok());
  CHECK(later->results[0].customer_id == ada);
  CHECK(Tracked(tenant, "e->>'customer_id' = '" + ada + "' AND e->>'type' = 'page.viewed'") == 2);

  auto view = Repo().LoadView(tenant, ada, 20);
  REQUIRE(view.ok());
  // Sessions, newest first: the last 10 minutes (2 events), 1 h ago (1),
  // 3 h ago (2).
  REQUIRE(view->recent_sessions.size() == 3);
  CHECK(view->recent_sessions[0].event_count == 2);
  CHECK(view->recent_sessions[1].event_count == 1);
  CHECK(view->recent_sessions[2].event_count == 2);
  CHECK(view->recent_sessions[2].product_views == 1);
  CHECK(view->recent_sessions[2].visitor_id == "v-7");
  bool visitor_identity = false;
  for (const auto& i : view->identities) {
    visitor_identity |= i.kind == domain::IdentityKind::kVisitor && i.value == "v-7";
  }
  CHECK(visitor_identity);

  auto exported = Repo().LoadExport(tenant, ada);
  REQUIRE(exported.ok());
  CHECK(exported->behaviour_events.size() == 5);  // counted once each
  auto of_bob = Repo().LoadExport(tenant, bob);
  REQUIRE(of_bob.ok());
  CHECK(of_bob->behaviour_events.empty());
}

TEST_CASE("The export carries the stored events with their properties",
          "[customer_store][behaviour]") {
  const std::string tenant = NewTenant();
  const std::string ada = CreateCustomer(tenant);
  Tracker t;
  REQUIRE(t.tracker.Track(ActorOf(tenant, "TrackEvents"), {ForCustomer(ada)}).ok());
  auto e = Repo().LoadExport(tenant, ada);
  REQUIRE(e.ok());
  REQUIRE(e->behaviour_events.size() == 1);
  CHECK(e->behaviour_events[0].type == "page.viewed");
  CHECK(e->behaviour_events[0].properties.path == "/page.viewed");
}

TEST_CASE("Merges are read through: the survivor counts the source's behaviour until the unmerge",
          "[customer_store][behaviour]") {
  const std::string tenant = NewTenant();
  const std::string ada = CreateCustomer(tenant);
  const std::string dup = CreateCustomer(tenant);
  Tracker t;
  REQUIRE(t.tracker
              .Track(ActorOf(tenant, "TrackEvents"),
                     {ForCustomer(ada), ForCustomer(dup, "product.viewed"), ForVisitor("v-dup")})
              .ok());
  REQUIRE(t.tracker.Identify(ActorOf(tenant, "IdentifyCustomer"), dup, "v-dup").ok());
  app::CustomerMerger merger(Repo(), t.cache, t.clock);
  auto m = merger.Merge(ActorOf(tenant, "MergeCustomers"), ada, dup);
  INFO(m.status().ToString());
  REQUIRE(m.ok());
  auto e = Repo().LoadExport(tenant, ada);
  REQUIRE(e.ok());
  CHECK(e->behaviour_events.size() == 3);
  // The source's visitor counts for the survivor: linking it again is no news.
  auto again = t.tracker.Identify(ActorOf(tenant, "IdentifyCustomer"), ada, "v-dup");
  REQUIRE(again.ok());
  CHECK_FALSE(again->linked);
  // A merged id as subject is stored for the survivor.
  auto later =
      t.tracker.Track(ActorOf(tenant, "TrackEvents"), {ForCustomer(dup), ForVisitor("v-dup")});
  REQUIRE(later.ok());
  CHECK(later->results[0].customer_id == ada);
  CHECK(later->results[1].customer_id == ada);

  auto u = merger.Unmerge(ActorOf(tenant, "UnmergeCustomer"), ada, m->merge_id);
  REQUIRE(u.ok());
  auto back = Repo().LoadExport(tenant, dup);
  REQUIRE(back.ok());
  CHECK(back->behaviour_events.size() == 2);  // its own event and the visitor's anonymous one
  auto survivor = Repo().LoadExport(tenant, ada);
  REQUIRE(survivor.ok());
  CHECK(survivor->behaviour_events.size() == 3);  // its own and the two stored for it later
}

TEST_CASE("Erasure deletes the customer's behaviour and linked visitors, nobody else's",
          "[customer_store][behaviour]") {
  const std::string tenant = NewTenant();
  const std::string ada = CreateCustomer(tenant);
  const std::string bob = CreateCustomer(tenant);
  Tracker t;
  REQUIRE(t.tracker
              .Track(ActorOf(tenant, "TrackEvents"), {ForVisitor("v-ada"), ForCustomer(ada),
                                                      ForCustomer(bob), ForVisitor("v-other")})
              .ok());
  REQUIRE(t.tracker.Identify(ActorOf(tenant, "IdentifyCustomer"), ada, "v-ada").ok());
  REQUIRE(t.tracker.Track(ActorOf(tenant, "TrackEvents"), {ForVisitor("v-ada")}).ok());
  CHECK(CountEvents(tenant) == 5);

  auto erased = Erase(Repo(), ActorOf(tenant, "DeleteCustomer"), ada, "");
  INFO(erased.status().ToString());
  REQUIRE(erased.ok());
  CHECK(erased->behaviour_events_erased == 3);
  CHECK(erased->identities_erased == 1);  // the visitor link
  CHECK(CountEvents(tenant) == 2);
  CHECK(CountEvents(tenant, "visitor_id = 'v-ada'") == 0);
  CHECK(CountIn(tenant, "SELECT count(*) FROM customer_store.visitor_links") == 0);
  // The visitor is anonymous again: its new events are stored without a customer.
  auto after = t.tracker.Track(ActorOf(tenant, "TrackEvents"), {ForVisitor("v-ada")});
  REQUIRE(after.ok());
  CHECK(after->results[0].customer_id.empty());
}

TEST_CASE("Behaviour rows are tenant-scoped", "[customer_store][behaviour][rls]") {
  const std::string a = NewTenant(), b = NewTenant();
  const std::string ada = CreateCustomer(a);
  Tracker t;
  REQUIRE(t.tracker.Track(ActorOf(a, "TrackEvents"), {ForCustomer(ada), ForVisitor("v")}).ok());
  REQUIRE(t.tracker.Identify(ActorOf(a, "IdentifyCustomer"), ada, "v").ok());
  CHECK(CountEvents(b) == 0);
  CHECK(CountIn(b, "SELECT count(*) FROM customer_store.visitor_links") == 0);
  // Another tenant's customer id is not found; its visitor id is its own.
  auto out = t.tracker.Track(ActorOf(b, "TrackEvents"), {ForCustomer(ada), ForVisitor("v")});
  REQUIRE(out.ok());
  CHECK(out->results[0].reason == "CUSTOMER_NOT_FOUND");
  CHECK(out->results[1].customer_id.empty());
  CHECK(ReasonOf(t.tracker.Identify(ActorOf(b, "IdentifyCustomer"), ada, "v").status()) ==
        "CUSTOMER_NOT_FOUND");
}

TEST_CASE("GetVisit: the visit running at an instant, by visitor or customer, tenant-scoped",
          "[customer_store][behaviour]") {
  const std::string a = NewTenant(), b = NewTenant();
  const std::string ada = CreateCustomer(a);
  Tracker t;
  // v-9's earlier visit (3 h ago) and the current one (20, 10, 2 minutes
  // ago); Ada's own event now; another visitor's.
  REQUIRE(t.tracker
              .Track(ActorOf(a, "TrackEvents"),
                     {ForVisitor("v-9", "page.viewed", absl::Hours(3)),
                      ForVisitor("v-9", "page.viewed", absl::Minutes(20)),
                      ForVisitor("v-9", "product.viewed", absl::Minutes(10)),
                      ForVisitor("v-9", "search.performed", absl::Minutes(2)),
                      ForVisitor("v-other", "page.viewed", absl::Minutes(1)),
                      ForCustomer(ada, "cart.item_added", absl::Minutes(1))})
              .ok());
  crm::testing::FakeViewCache cache;
  common::SystemClock clock;
  common::RandomIdGenerator ids;
  app::CustomerStore store(Repo(), cache, clock, ids);

  app::VisitQuery q;
  q.visitor_id = "v-9";
  auto v = store.VisitAt(a, q);
  INFO(v.status().ToString());
  REQUIRE(v.ok());
  REQUIRE(v->found);
  CHECK_FALSE(v->partial);
  REQUIRE(v->events.size() == 3);
  CHECK(v->events[0].properties.path == "/page.viewed");
  CHECK(v->events[2].type == "search.performed");
  CHECK(v->session.product_views == 1);
  CHECK(v->session.searches == 1);
  // At an instant inside the earlier visit: that one.
  q.at = absl::Now() - absl::Hours(3) + absl::Minutes(1);
  v = store.VisitAt(a, q);
  REQUIRE(v.ok());
  REQUIRE(v->found);
  CHECK(v->events.size() == 1);
  // Between the visits: none.
  q.at = absl::Now() - absl::Hours(1);
  v = store.VisitAt(a, q);
  REQUIRE(v.ok());
  CHECK_FALSE(v->found);

  // By customer: her own event (the visitor is not linked).
  app::VisitQuery by_customer;
  by_customer.customer_id = ada;
  v = store.VisitAt(a, by_customer);
  REQUIRE(v.ok());
  REQUIRE(v->found);
  REQUIRE(v->events.size() == 1);
  CHECK(v->events[0].type == "cart.item_added");
  CHECK(v->events[0].customer_id == ada);

  // Another tenant: its visitor id is its own (none), Ada is not found.
  q.at = absl::InfinitePast();
  v = store.VisitAt(b, q);
  REQUIRE(v.ok());
  CHECK_FALSE(v->found);
  CHECK(store.VisitAt(b, by_customer).status().code() == absl::StatusCode::kNotFound);
  // Bad requests.
  CHECK(common::FieldOf(store.VisitAt(a, app::VisitQuery{}).status()) == "visitor_id");
  app::VisitQuery both = by_customer;
  both.visitor_id = "v-9";
  CHECK(common::FieldOf(store.VisitAt(a, both).status()) == "visitor_id");
  q.visitor_id = "has space";
  CHECK(common::FieldOf(store.VisitAt(a, q).status()) == "visitor_id");
  q.visitor_id = "v-9";
  q.event_limit = domain::kMaxVisitEvents + 1;
  CHECK(common::FieldOf(store.VisitAt(a, q).status()) == "event_limit");
}

TEST_CASE("Partitions: created on demand, rows of the default partition moved in",
          "[customer_store][behaviour]") {
  EnsureSchema();
  // The app role may run the function (and nothing else of the DDL).
  int created = -1;
  REQUIRE(AppPool()
              .WithTenantTx(NewTenant(),
                            [&](pqxx::work& w) {
                              created = w.exec1(
                                             "SELECT customer_store.ensure_behaviour_partitions("
                                             "'2031-01-15Z', '2031-02-01Z')")[0]
                                            .as<int>();
                              return absl::OkStatus();
                            })
              .ok());
  CHECK(created == 2);
  // A row that landed in the default partition (its month had none) moves
  // when the month's partition is created.
  const std::string tenant = NewTenant();
  REQUIRE(AppPool()
              .WithTenantTx(tenant,
                            [&](pqxx::work& w) {
                              w.exec_params(
                                  "INSERT INTO customer_store.behaviour_events (tenant_id, id, "
                                  "occurred_at, received_at, type) VALUES ($1, gen_random_uuid(), "
                                  "'2032-05-05Z', now(), 'page.viewed')",
                                  tenant);
                              return absl::OkStatus();
                            })
              .ok());
  CHECK(CountEvents(tenant,
                    "tableoid::regclass::text = 'customer_store.behaviour_events_default'") == 1);
  REQUIRE(AppPool()
              .WithTenantTx(NewTenant(),
                            [&](pqxx::work& w) {
                              created = w.exec1(
                                             "SELECT customer_store.ensure_behaviour_partitions("
                                             "'2032-05-01Z', '2032-05-01Z')")[0]
                                            .as<int>();
                              return absl::OkStatus();
                            })
              .ok());
  CHECK(created == 1);
  CHECK(CountEvents(tenant,
                    "tableoid::regclass::text = 'customer_store.behaviour_events_203205'") == 1);
  // The app role may not update (append-only) nor create tables.
  CHECK(SqlStateOf([&] {
          pqxx::connection c(ts::PgAppDsn());
          pqxx::work w(c);
          w.exec("UPDATE customer_store.behaviour_events SET type = 'x.y'");
        }) == "42501");
}

// `n` anonymous events of `tenant` at `when` (SQL literal), inserted as the
// app role (the month's partition must exist or the row lands in default).
void InsertEventsAt(const std::string& tenant, int n, const std::string& when) {
  REQUIRE(AppPool()
              .WithTenantTx(tenant,
                            [&](pqxx::work& w) {
                              w.exec_params(
                                  "INSERT INTO customer_store.behaviour_events (tenant_id, id, "
                                  "occurred_at, received_at, type, visitor_id) SELECT $1, "
                                  "gen_random_uuid(), $2::timestamptz, now(), 'page.viewed', 'v' "
                                  "FROM generate_series(1, $3)",
                                  tenant, when, n);
                              return absl::OkStatus();
                            })
              .ok());
}

bool PartitionExists(const std::string& name) {
  pqxx::connection c(ts::PgOwnerDsn());
  pqxx::work w(c);
  return !w.exec1("SELECT to_regclass('customer_store." + name + "') IS NULL")[0].as<bool>();
}

TEST_CASE("Retention: settings per tenant, purge in bounded batches, empty old months dropped",
          "[customer_store][behaviour][retention]") {
  EnsureSchema();
  const std::string a = NewTenant(), b = NewTenant();
  REQUIRE(AppPool()
              .WithTenantTx(a,
                            [&](pqxx::work& w) {
                              w.exec(
                                  "SELECT customer_store.ensure_behaviour_partitions("
                                  "'2019-01-01Z', '2019-02-28Z')");
                              return absl::OkStatus();
                            })
              .ok());
  InsertEventsAt(a, 5, "2019-01-10Z");
  InsertEventsAt(b, 2, "2019-01-20Z");
  Tracker t;
  REQUIRE(t.tracker.Track(ActorOf(a, "TrackEvents"), {ForVisitor("v")}).ok());  // now
  common::SystemClock clock;
  app::BehaviourRetention retention(Repo(), Repo(), clock, app::RetentionLimits{2, 100});

  // The defaults until written; a write is one version, its event and audit.
  auto s = retention.Settings(a);
  REQUIRE(s.ok());
  CHECK((s->retention_days == 0 && s->version == 0));
  auto set = retention.UpdateSettings(ActorOf(a, "UpdateBehaviourSettings", "rk-1"), 30, "0");
  REQUIRE(set.ok());
  CHECK((set->retention_days == 30 && set->version == 1));
  CHECK(CountIn(a,
                "SELECT count(*) FROM customer_store.outbox WHERE event_type = "
                "'behaviour.settings_updated' AND payload->>'retention_days' = '30'") == 1);
  CHECK(CountAudit(a, "UpdateBehaviourSettings", "OK") == 1);
  // The retry answers the first call (even with a now stale etag).
  auto again = retention.UpdateSettings(ActorOf(a, "UpdateBehaviourSettings", "rk-1"), 30, "0");
  REQUIRE(again.ok());
  CHECK(again->version == 1);
  CHECK(
      ReasonOf(retention.UpdateSettings(ActorOf(a, "UpdateBehaviourSettings"), 7, "0").status()) ==
      "ETAG_MISMATCH");
  // Tenant-scoped: b sees its defaults and no row of a's.
  CHECK(retention.Settings(b)->version == 0);
  CHECK(CountIn(b, "SELECT count(*) FROM customer_store.behaviour_settings") == 0);
  // Across tenants only under app.maintenance.
  auto listed = Repo().TenantsWithRetention();
  REQUIRE(listed.ok());
  bool found = false;
  for (const auto& [tenant, settings] : *listed) {
    CHECK(settings.retention_days > 0);
    found = found || (tenant == a && settings.retention_days == 30);
  }
  CHECK(found);

  // A round: a's five old events go in batches of two; a's recent one and
  // all of b's (no retention) stay; 2019-02 (empty) is dropped, 2019-01
  // (b's rows) is not.
  auto round = retention.PurgeOnce();
  REQUIRE(round.ok());
  CHECK(round->deleted == 5);
  CHECK(round->complete);
  CHECK(CountEvents(a) == 1);
  CHECK(CountEvents(b) == 2);
  CHECK(PartitionExists("behaviour_events_201901"));
  CHECK_FALSE(PartitionExists("behaviour_events_201902"));

  // b sets a retention too: its rows go and 2019-01 with them.
  REQUIRE(retention.UpdateSettings(ActorOf(b, "UpdateBehaviourSettings"), 365, "").ok());
  round = retention.PurgeOnce();
  REQUIRE(round.ok());
  CHECK(round->deleted == 2);
  CHECK(round->partitions_dropped >= 1);
  CHECK(CountEvents(b) == 0);
  CHECK_FALSE(PartitionExists("behaviour_events_201901"));
  // Tracking still works afterwards (a month dropped in this process is
  // asked for again).
  REQUIRE(t.tracker.Track(ActorOf(a, "TrackEvents"), {ForVisitor("v")}).ok());
  CHECK(CountEvents(a) == 2);

  // The app role may not drop or read other tenants' settings by itself.
  CHECK(SqlStateOf([&] {
          pqxx::connection c(ts::PgAppDsn());
          pqxx::work w(c);
          w.exec("DROP TABLE customer_store.behaviour_events_default");
        }) == "42501");
}

}  // namespace
}  // namespace crm::customer_store::itest
