// The outbox relay after Redis lost its data (libs/outbox/relay.h, "Redis data
// loss"): the epoch key, the republish in outbox order within the replay
// window, several replicas, and consumers that recreate their group at 0 and
// deduplicate what comes again.
//
// Data loss is simulated by deleting every key a test uses (its streams and
// its epoch key): to the relay and the consumers that is exactly what a Redis
// restart with an empty dataset looks like, and unlike FLUSHALL it leaves the
// keys of other suites that may share the test server alone. The reliability
// suite (tests/reliability) restarts a real Redis empty.
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <catch2/catch.hpp>
#include <pqxx/pqxx>

#include "absl/strings/str_cat.h"
#include "libs/common/id.h"
#include "libs/events/consumer.h"
#include "libs/outbox/relay.h"
#include "prometheus/registry.h"
#include "tests/support/pg_test_db.h"
#include "tests/support/redis_test_db.h"

namespace {

namespace ts = crm::test_support;
using crm::events::Consumer;
using crm::events::ConsumerOptions;
using crm::events::Event;
using crm::outbox::Relay;
using crm::outbox::RelayOptions;

crm::redis::Pool& Redis() {
  static std::unique_ptr<crm::redis::Pool> pool = [] {
    auto p = ts::MakeRedisPool();
    if (!p.ok()) throw std::runtime_error(p.status().ToString());
    return std::move(p).value();
  }();
  return *pool;
}

void Exec(const std::string& sql) {
  absl::Status s = ts::ExecAsOwner(sql);
  INFO(s.ToString());
  REQUIRE(s.ok());
}

// A scratch schema with an outbox table (shaped like the services') and a
// processed_events table, dropped at the end of the test.
class Scratch final {
 public:
  Scratch() : schema_(ts::UniqueName("t_evrepub")) {
    REQUIRE(ts::RecreateSchema(schema_).ok());
    Exec(absl::StrCat("CREATE TABLE ", schema_,
                      ".outbox (id bigserial PRIMARY KEY, event_id uuid NOT NULL UNIQUE, "
                      "tenant_id uuid NOT NULL, customer_id uuid, event_type text NOT NULL, "
                      "payload jsonb NOT NULL, occurred_at timestamptz NOT NULL DEFAULT now(), "
                      "published_at timestamptz); "
                      "CREATE TABLE ",
                      schema_,
                      ".processed_events (consumer text NOT NULL, event_id uuid NOT NULL, "
                      "processed_at timestamptz NOT NULL DEFAULT now(), "
                      "PRIMARY KEY (consumer, event_id)); "
                      "CREATE TABLE ",
                      schema_, ".effects (customer_id uuid PRIMARY KEY, n int NOT NULL)"));
    auto pool = ts::MakeOwnerPool(2);
    REQUIRE(pool.ok());
    pool_ = std::move(pool).value();
  }
  ~Scratch() {
    (void)ts::ExecAsOwner(absl::StrCat("DROP SCHEMA ", schema_, " CASCADE"));
    std::vector<std::string_view> del = {"DEL"};
    std::vector<std::string> keys = Keys();
    for (const std::string& k : keys) del.push_back(k);
    (void)Redis().Command(del);
  }

  RelayOptions Options() const {
    RelayOptions o;
    o.schema = schema_;
    o.producer = "republish-test";
    o.partitions = 2;
    o.stream_prefix = absl::StrCat(schema_, ":p");
    o.epoch_key = absl::StrCat(schema_, ":epoch");
    return o;
  }
  ConsumerOptions ConsumerOpts(const std::string& consumer = "c1") const {
    ConsumerOptions co;
    co.group = schema_ + "_g";
    co.consumer = consumer;
    co.partitions = 2;
    co.stream_prefix = absl::StrCat(schema_, ":p");
    co.dead_letter_stream = schema_ + ":dead";
    co.block = absl::Milliseconds(20);
    co.claim_idle = absl::Seconds(30);
    return co;
  }
  // Every Redis key of this test.
  std::vector<std::string> Keys() const {
    return {absl::StrCat(schema_, ":p0"), absl::StrCat(schema_, ":p1"),
            absl::StrCat(schema_, ":epoch"), schema_ + ":dead"};
  }
  // What a Redis restart with an empty dataset does to this test's keys.
  void LoseRedisData() const {
    std::vector<std::string_view> del = {"DEL"};
    std::vector<std::string> keys = Keys();
    for (const std::string& k : keys) del.push_back(k);
    auto r = Redis().Command(del);
    INFO(r.status().ToString());
    REQUIRE(r.ok());
  }

  // Inserts one outbox row; returns its event id.
  std::string Add(const std::string& tenant, const std::string& customer, int version) {
    const std::string ev = crm::common::NewUuid();
    Exec(absl::StrCat("INSERT INTO ", schema_,
                      ".outbox (event_id, tenant_id, customer_id, event_type, payload) VALUES ('",
                      ev, "', '", tenant, "', '", customer, "', 'order.placed', '{\"version\": ",
                      version, "}')"));
    return ev;
  }

  crm::pg::Pool& pool() { return *pool_; }
  const std::string& schema() const { return schema_; }

 private:
  std::string schema_;
  std::unique_ptr<crm::pg::Pool> pool_;
};

// Event ids of a stream, in stream order.
std::vector<std::string> EventIds(const std::string& stream) {
  auto r = Redis().Command({"XRANGE", stream, "-", "+"});
  INFO(r.status().ToString());
  REQUIRE(r.ok());
  std::vector<std::string> out;
  for (size_t i = 0; i < r->ArraySize().value(); ++i) {
    auto kv = r->Element(i)->Element(1);
    REQUIRE(kv.ok());
    for (size_t j = 0; j + 1 < kv->ArraySize().value(); j += 2) {
      if (kv->Element(j)->String().value() == "event_id") {
        out.push_back(kv->Element(j + 1)->String().value());
      }
    }
  }
  return out;
}

bool Exists(const std::string& key) {
  auto r = Redis().Command({"EXISTS", key});
  REQUIRE(r.ok());
  return r->Integer().value() == 1;
}

std::string Get(const std::string& key) {
  auto r = Redis().Command({"GET", key});
  REQUIRE(r.ok());
  return r->is_nil() ? std::string() : r->String().value();
}

int64_t Count(Scratch& db, const std::string& where) {
  int64_t n = -1;
  REQUIRE(db.pool()
              .WithTx([&](pqxx::work& tx) {
                n = tx.exec(absl::StrCat("SELECT count(*) FROM ", db.schema(), ".outbox WHERE ",
                                         where))[0][0]
                        .as<int64_t>();
                return absl::OkStatus();
              })
              .ok());
  return n;
}

// Counter value of `name` whose labels include label=value.
double CounterValue(prometheus::Registry& registry, const std::string& name,
                    const std::string& label, const std::string& value) {
  for (const auto& f : registry.Collect()) {
    if (f.name != name) continue;
    for (const auto& m : f.metric) {
      for (const auto& l : m.label) {
        if (l.name == label && l.value == value) return m.counter.value;
      }
    }
  }
  return -1;
}

int RelayOnce(Relay& relay) {
  auto n = relay.RelayOnce();
  INFO(n.status().ToString());
  REQUIRE(n.ok());
  return *n;
}

template <typename Done>
void PollUntil(Consumer& c, Done done, absl::Duration limit = absl::Seconds(10)) {
  const absl::Time deadline = absl::Now() + limit;
  while (!done() && absl::Now() < deadline) {
    auto n = c.PollOnce();
    INFO(n.status().ToString());
    REQUIRE(n.ok());
  }
}

TEST_CASE("after redis lost its data the relay republishes the outbox in order",
          "[events][relay][republish]") {
  Scratch db;
  prometheus::Registry relay_metrics;
  prometheus::Registry consumer_metrics;
  RelayOptions o = db.Options();
  o.metrics = &relay_metrics;
  o.batch_size = 5;  // the republish pages through the outbox
  const std::string tenant = crm::common::NewUuid();
  const std::vector<std::string> customers = {crm::common::NewUuid(), crm::common::NewUuid(),
                                              crm::common::NewUuid()};
  std::vector<std::pair<std::string, std::string>> events;  // (customer, event id), outbox order
  for (int i = 0; i < 12; ++i) {
    const std::string& c = customers[static_cast<size_t>(i) % 3];
    events.emplace_back(c, db.Add(tenant, c, i + 1));
  }
  Relay relay(db.pool(), Redis(), o);
  // First start: no epoch yet, nothing stamped: an empty republish sets it.
  CHECK(RelayOnce(relay) == 5);
  const std::string first_epoch = relay.epoch();
  CHECK(!first_epoch.empty());
  CHECK(Get(o.epoch_key) == first_epoch);
  CHECK(RelayOnce(relay) == 5);
  CHECK(RelayOnce(relay) == 2);
  CHECK(Count(db, "published_at IS NULL") == 0);

  ConsumerOptions co = db.ConsumerOpts();
  co.metrics = &consumer_metrics;
  std::map<std::string, int> handled;  // event id -> handler calls
  Consumer consumer(Redis(), co, [&](const Event& e) {
    ++handled[e.envelope.event_id()];
    return absl::OkStatus();
  });
  PollUntil(consumer, [&] { return handled.size() == 12; });
  REQUIRE(handled.size() == 12);

  db.LoseRedisData();
  for (int i = 0; i < 3; ++i) events.emplace_back(customers[0], db.Add(tenant, customers[0], 20 + i));

  // The next batch finds no epoch: it adds nothing and is rolled back.
  CHECK(RelayOnce(relay) == 0);
  CHECK(!Exists(o.stream_prefix + "0"));
  CHECK(!Exists(o.stream_prefix + "1"));
  CHECK(Count(db, "published_at IS NULL") == 3);
  // Then: republish (12, in pages of 5) before any new event, new epoch.
  CHECK(RelayOnce(relay) == 3);
  const std::string second_epoch = relay.epoch();
  CHECK(!second_epoch.empty());
  CHECK(second_epoch != first_epoch);
  CHECK(Get(o.epoch_key) == second_epoch);
  CHECK(Count(db, "published_at IS NULL") == 0);

  // Each stream holds its customers' events exactly once, in outbox order.
  std::map<std::string, std::vector<std::string>> want;
  for (const auto& [customer, ev] : events) {
    want[crm::outbox::StreamFor(customer, o.partitions, o.stream_prefix)].push_back(ev);
  }
  for (int p = 0; p < o.partitions; ++p) {
    const std::string stream = absl::StrCat(o.stream_prefix, p);
    CHECK(EventIds(stream) == want[stream]);
  }
  CHECK(CounterValue(relay_metrics, "crm_outbox_republished_total", "producer", o.producer) == 12);
  // One for the first start (no epoch yet), one for the loss.
  CHECK(CounterValue(relay_metrics, "crm_outbox_epoch_resets_total", "producer", o.producer) == 2);
  CHECK(CounterValue(relay_metrics, "crm_outbox_published_total", "producer", o.producer) == 15);

  // The consumer finds its group gone, recreates it at 0, reads everything
  // again and calls the handler only for the 3 new events.
  PollUntil(consumer, [&] { return handled.size() == 15; });
  REQUIRE(handled.size() == 15);
  for (int i = 0; i < 5; ++i) REQUIRE(consumer.PollOnce().ok());
  for (const auto& [ev, calls] : handled) CHECK(calls == 1);
  CHECK(CounterValue(consumer_metrics, "crm_events_group_resets_total", "group", co.group) == 1);
  auto duplicates = [&] {
    for (const auto& f : consumer_metrics.Collect()) {
      if (f.name != "crm_events_consumed_total") continue;
      for (const auto& m : f.metric) {
        for (const auto& l : m.label) {
          if (l.name == "outcome" && l.value == "duplicate") return m.counter.value;
        }
      }
    }
    return -1.0;
  };
  CHECK(duplicates() == 12);
  for (int p = 0; p < o.partitions; ++p) {
    auto r = Redis().Command({"XPENDING", absl::StrCat(o.stream_prefix, p), co.group});
    REQUIRE(r.ok());
    CHECK(r->Element(0)->Integer().value() == 0);
  }
}

TEST_CASE("a restarted consumer deduplicates republished events through PostgreSQL",
          "[events][relay][republish]") {
  Scratch db;
  RelayOptions o = db.Options();
  const std::string tenant = crm::common::NewUuid();
  const std::vector<std::string> customers = {crm::common::NewUuid(), crm::common::NewUuid()};
  for (int i = 0; i < 10; ++i) db.Add(tenant, customers[static_cast<size_t>(i) % 2], i + 1);
  Relay relay(db.pool(), Redis(), o);
  CHECK(RelayOnce(relay) == 10);

  // The handler's effect and MarkProcessed share one transaction.
  int effects = 0;
  auto handler = [&](const Event& e) -> absl::Status {
    return db.pool().WithTx([&](pqxx::work& tx) -> absl::Status {
      auto first = crm::events::MarkProcessed(tx, db.schema(), "g", e.envelope.event_id());
      if (!first.ok()) return first.status();
      if (!*first) return absl::OkStatus();
      tx.exec_params(absl::StrCat("INSERT INTO ", db.schema(),
                                  ".effects VALUES ($1::uuid, 1) ON CONFLICT (customer_id) DO "
                                  "UPDATE SET n = effects.n + 1"),
                     e.envelope.customer_id());
      ++effects;
      return absl::OkStatus();
    });
  };
  {
    Consumer before(Redis(), db.ConsumerOpts(), handler);
    PollUntil(before, [&] { return effects == 10; });
    REQUIRE(effects == 10);
  }
  // Redis restarts empty while the consumer process restarts too (no memory).
  db.LoseRedisData();
  db.Add(tenant, customers[0], 11);
  CHECK(RelayOnce(relay) == 0);  // epoch gone: rolled back
  CHECK(RelayOnce(relay) == 1);  // republish of 10, then the new one
  int calls = 0;
  Consumer after(Redis(), db.ConsumerOpts(), [&](const Event& e) {
    ++calls;
    return handler(e);
  });
  PollUntil(after, [&] { return calls == 11; });
  CHECK(calls == 11);
  CHECK(effects == 11);
  std::map<std::string, int> per_customer;
  REQUIRE(db.pool()
              .WithTx([&](pqxx::work& tx) {
                for (const auto& r : tx.exec(absl::StrCat("SELECT customer_id::text, n FROM ",
                                                          db.schema(), ".effects"))) {
                  per_customer[r[0].as<std::string>()] = r[1].as<int>();
                }
                return absl::OkStatus();
              })
              .ok());
  CHECK(per_customer[customers[0]] == 6);
  CHECK(per_customer[customers[1]] == 5);
}

TEST_CASE("only rows published within the replay window are republished",
          "[events][relay][republish]") {
  Scratch db;
  RelayOptions o = db.Options();
  o.replay_window = absl::Hours(1);
  const std::string tenant = crm::common::NewUuid();
  const std::string customer = crm::common::NewUuid();
  const std::string old_event = db.Add(tenant, customer, 1);
  Exec(absl::StrCat("UPDATE ", db.schema(),
                    ".outbox SET published_at = now() - interval '2 hours'"));
  const std::string recent = db.Add(tenant, customer, 2);
  Relay relay(db.pool(), Redis(), o);
  CHECK(RelayOnce(relay) == 1);
  db.LoseRedisData();
  auto n = relay.CheckEpoch();
  INFO(n.status().ToString());
  REQUIRE(n.ok());
  CHECK(*n == 1);
  CHECK(EventIds(crm::outbox::StreamFor(customer, o.partitions, o.stream_prefix)) ==
        std::vector<std::string>{recent});
  (void)old_event;

  // A zero window only re-creates the epoch.
  o.replay_window = absl::ZeroDuration();
  Relay none(db.pool(), Redis(), o);
  db.LoseRedisData();
  auto m = none.CheckEpoch();
  REQUIRE(m.ok());
  CHECK(*m == 0);
  CHECK(!none.epoch().empty());
  CHECK(Get(o.epoch_key) == none.epoch());
}

TEST_CASE("replicas: one republishes, the others wait and adopt its epoch",
          "[events][relay][republish]") {
  Scratch db;
  RelayOptions o = db.Options();
  const std::string tenant = crm::common::NewUuid();
  const std::string customer = crm::common::NewUuid();
  for (int i = 0; i < 4; ++i) db.Add(tenant, customer, i + 1);
  Relay a(db.pool(), Redis(), o);
  Relay b(db.pool(), Redis(), o);
  CHECK(RelayOnce(a) == 4);
  auto adopted = b.CheckEpoch();
  REQUIRE(adopted.ok());
  CHECK(*adopted == 0);
  CHECK(b.epoch() == a.epoch());
  const std::string stream = crm::outbox::StreamFor(customer, o.partitions, o.stream_prefix);
  CHECK(EventIds(stream).size() == 4);

  db.LoseRedisData();
  db.Add(tenant, customer, 5);
  {
    // Another replica is republishing (it holds the schema's lock): b
    // publishes nothing, and does not republish either.
    pqxx::connection conn(ts::PgOwnerDsn());
    pqxx::work holder(conn);
    holder.exec_params(
        "SELECT pg_advisory_xact_lock(hashtext('crm.outbox.relay'), hashtext($1))", db.schema());
    CHECK(RelayOnce(b) == 0);
    CHECK(RelayOnce(b) == 0);
    CHECK(!Exists(stream));
    CHECK(Count(db, "published_at IS NULL") == 1);
    holder.abort();
  }
  // a's batch finds the epoch gone (rolled back); then a republishes the 4
  // stamped rows and publishes the new one.
  CHECK(RelayOnce(a) == 0);
  CHECK(!Exists(stream));
  CHECK(RelayOnce(a) == 1);
  CHECK(EventIds(stream).size() == 5);
  // b adopts a's epoch instead of republishing again.
  CHECK(RelayOnce(b) == 0);
  CHECK(b.epoch() == a.epoch());
  CHECK(EventIds(stream).size() == 5);
}

TEST_CASE("an unfinished republish (relay died midway) is done again",
          "[events][relay][republish]") {
  Scratch db;
  RelayOptions o = db.Options();
  const std::string tenant = crm::common::NewUuid();
  const std::string customer = crm::common::NewUuid();
  for (int i = 0; i < 3; ++i) db.Add(tenant, customer, i + 1);
  Relay relay(db.pool(), Redis(), o);
  CHECK(RelayOnce(relay) == 3);
  db.LoseRedisData();
  // A replica set its marker, added one entry, and died.
  auto set = Redis().Command({"SET", o.epoch_key, "republishing:dead-relay"});
  REQUIRE(set.ok());
  Relay fresh(db.pool(), Redis(), o);
  auto n = fresh.CheckEpoch();
  INFO(n.status().ToString());
  REQUIRE(n.ok());
  CHECK(*n == 3);
  CHECK(fresh.epoch().rfind("republishing:", 0) == std::string::npos);
  CHECK(Get(o.epoch_key) == fresh.epoch());
  CHECK(EventIds(crm::outbox::StreamFor(customer, o.partitions, o.stream_prefix)).size() == 3);
}

}  // namespace
