// Outbox relay side of the event backbone: the `envelope` field and
// TrimStreams(). Each test has its own scratch schema (with an outbox table
// shaped like the services') and its own stream prefix.
#include <map>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "absl/strings/str_cat.h"
#include "libs/common/id.h"
#include "libs/events/consumer.h"
#include "libs/outbox/relay.h"
#include "tests/support/pg_test_db.h"
#include "tests/support/redis_test_db.h"

namespace {

namespace ts = crm::test_support;
using crm::events::v1::EventEnvelope;
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

// A scratch schema with an outbox table, dropped at the end of the test.
class Scratch final {
 public:
  Scratch() : schema_(ts::UniqueName("t_evrelay")) {
    REQUIRE(ts::RecreateSchema(schema_).ok());
    REQUIRE(ts::ExecAsOwner(absl::StrCat(
                                "CREATE TABLE ", schema_,
                                ".outbox (id bigserial PRIMARY KEY, event_id uuid NOT NULL UNIQUE, "
                                "tenant_id uuid NOT NULL, customer_id uuid, event_type text NOT "
                                "NULL, payload jsonb NOT NULL, occurred_at timestamptz NOT NULL "
                                "DEFAULT now(), published_at timestamptz)"))
                .ok());
    auto pool = ts::MakeOwnerPool();
    REQUIRE(pool.ok());
    pool_ = std::move(pool).value();
  }
  ~Scratch() { (void)ts::ExecAsOwner(absl::StrCat("DROP SCHEMA ", schema_, " CASCADE")); }

  RelayOptions Options() const {
    RelayOptions o;
    o.schema = schema_;
    o.producer = "events-test";
    o.partitions = 2;
    o.stream_prefix = absl::StrCat(schema_, ":p");
    return o;
  }
  crm::pg::Pool& pool() { return *pool_; }
  const std::string& schema() const { return schema_; }

 private:
  std::string schema_;
  std::unique_ptr<crm::pg::Pool> pool_;
};

struct Entry {
  std::string id;
  std::map<std::string, std::string> fields;
};

std::vector<Entry> Range(const std::string& stream) {
  auto r = Redis().Command({"XRANGE", stream, "-", "+"});
  INFO(r.status().ToString());
  REQUIRE(r.ok());
  std::vector<Entry> out;
  size_t n = r->ArraySize().value();
  for (size_t i = 0; i < n; ++i) {
    auto e = r->Element(i);
    REQUIRE(e.ok());
    Entry x;
    x.id = e->Element(0)->String().value();
    auto kv = e->Element(1);
    REQUIRE(kv.ok());
    size_t m = kv->ArraySize().value();
    for (size_t j = 0; j + 1 < m; j += 2) {
      x.fields[kv->Element(j)->String().value()] = kv->Element(j + 1)->String().value();
    }
    out.push_back(std::move(x));
  }
  return out;
}

std::vector<std::string> Ids(const std::string& stream) {
  std::vector<std::string> ids;
  for (const Entry& e : Range(stream)) ids.push_back(e.id);
  return ids;
}

std::vector<std::string> AddEntries(const std::string& stream, int n) {
  std::vector<std::string> ids;
  for (int i = 0; i < n; ++i) {
    auto r = Redis().Command({"XADD", stream, "*", "n", absl::StrCat(i)});
    REQUIRE(r.ok());
    ids.push_back(r->String().value());
  }
  return ids;
}

void Cmd(const std::vector<std::string_view>& argv) {
  auto r = Redis().Command(argv);
  INFO(argv[0] << ": " << r.status().ToString());
  REQUIRE(r.ok());
}

// Delivers up to n new entries to (group, consumer); returns their ids.
std::vector<std::string> Deliver(const std::string& stream, const std::string& group, int n) {
  const std::string count = absl::StrCat(n);
  auto r = Redis().Command(
      {"XREADGROUP", "GROUP", group, "c", "COUNT", count, "STREAMS", stream, ">"});
  INFO(r.status().ToString());
  REQUIRE(r.ok());
  std::vector<std::string> ids;
  if (r->ArraySize().value() == 0) return ids;
  auto entries = r->Element(0)->Element(1);
  REQUIRE(entries.ok());
  for (size_t i = 0; i < entries->ArraySize().value(); ++i) {
    ids.push_back(entries->Element(i)->Element(0)->String().value());
  }
  return ids;
}

void Ack(const std::string& stream, const std::string& group, const std::vector<std::string>& ids) {
  for (const std::string& id : ids) Cmd({"XACK", stream, group, id});
}

std::vector<std::string> Slice(const std::vector<std::string>& v, size_t from, size_t to) {
  return std::vector<std::string>(v.begin() + static_cast<std::ptrdiff_t>(from),
                                  v.begin() + static_cast<std::ptrdiff_t>(to));
}

int64_t Trim(Relay& relay) {
  auto n = relay.TrimStreams();
  INFO(n.status().ToString());
  REQUIRE(n.ok());
  return *n;
}

TEST_CASE("the relay writes an envelope field that parses back", "[events][relay]") {
  Scratch db;
  const std::string tenant = crm::common::NewUuid();
  const std::string customer = crm::common::NewUuid();
  const std::string event_a = crm::common::NewUuid();
  const std::string event_b = crm::common::NewUuid();
  REQUIRE(ts::ExecAsOwner(absl::StrCat(
                              "INSERT INTO ", db.schema(),
                              ".outbox (event_id, tenant_id, customer_id, event_type, payload, "
                              "occurred_at) VALUES ('",
                              event_a, "', '", tenant, "', '", customer,
                              "', 'customer.created', '{\"customer_id\": \"", customer,
                              "\", \"version\": 1}', '2024-01-02 03:04:05.123456+00'), ('",
                              event_b, "', '", tenant,
                              "', NULL, 'tenant.thing', '{}', '2024-01-02 03:04:06+00')"))
              .ok());
  RelayOptions o = db.Options();
  Relay relay(db.pool(), Redis(), o);
  auto n = relay.RelayOnce();
  INFO(n.status().ToString());
  REQUIRE(n.ok());
  CHECK(*n == 2);

  std::map<std::string, Entry> by_event;
  for (int p = 0; p < o.partitions; ++p) {
    for (Entry& e : Range(absl::StrCat(o.stream_prefix, p))) {
      by_event[e.fields["event_id"]] = e;
    }
  }
  REQUIRE(by_event.size() == 2);
  const Entry& a = by_event[event_a];
  CHECK(Ids(crm::outbox::StreamFor(customer, o.partitions, o.stream_prefix)).size() >= 1);
  EventEnvelope env;
  REQUIRE(a.fields.count("envelope") == 1);
  REQUIRE(env.ParseFromString(a.fields.at("envelope")));
  CHECK(env.event_id() == event_a);
  CHECK(env.tenant_id() == tenant);
  CHECK(env.customer_id() == customer);
  CHECK(env.type() == "customer.created");
  CHECK(env.producer() == "events-test");
  CHECK(env.schema_version() == 1);
  CHECK(env.occurred_at().seconds() == 1704164645);
  CHECK(env.occurred_at().nanos() == 123456000);
  CHECK(env.payload_json() == a.fields.at("payload"));
  CHECK(env.payload_json().find(customer) != std::string::npos);
  // The flat fields are still there.
  CHECK(a.fields.at("occurred_at_us") == "1704164645123456");
  CHECK(a.fields.at("type") == "customer.created");

  EventEnvelope env_b;
  REQUIRE(env_b.ParseFromString(by_event[event_b].fields.at("envelope")));
  CHECK(env_b.customer_id().empty());
  CHECK(env_b.payload_json() == "{}");
}

TEST_CASE("a consumer receives what the relay published", "[events][relay][consumer]") {
  Scratch db;
  const std::string tenant = crm::common::NewUuid();
  std::vector<std::string> customers = {crm::common::NewUuid(), crm::common::NewUuid()};
  std::vector<std::string> expected;
  for (int i = 0; i < 6; ++i) {
    const std::string ev = crm::common::NewUuid();
    expected.push_back(ev);
    REQUIRE(ts::ExecAsOwner(absl::StrCat("INSERT INTO ", db.schema(),
                                         ".outbox (event_id, tenant_id, customer_id, event_type, "
                                         "payload) VALUES ('",
                                         ev, "', '", tenant, "', '", customers[i % 2],
                                         "', 'customer.updated', '{}')"))
                .ok());
  }
  RelayOptions ro = db.Options();
  Relay relay(db.pool(), Redis(), ro);
  REQUIRE(relay.RelayOnce().ok());

  crm::events::ConsumerOptions co;
  co.group = db.schema() + "_g";
  co.consumer = "c1";
  co.partitions = ro.partitions;
  co.stream_prefix = ro.stream_prefix;
  co.dead_letter_stream = db.schema() + ":dead";
  co.block = absl::Milliseconds(50);
  std::map<std::string, std::vector<std::string>> per_customer;
  crm::events::Consumer consumer(Redis(), co, [&](const crm::events::Event& e) {
    per_customer[e.envelope.customer_id()].push_back(e.envelope.event_id());
    return absl::OkStatus();
  });
  const absl::Time deadline = absl::Now() + absl::Seconds(5);
  size_t total = 0;
  while (total < expected.size() && absl::Now() < deadline) {
    auto n = consumer.PollOnce();
    REQUIRE(n.ok());
    total += static_cast<size_t>(*n);
  }
  REQUIRE(total == expected.size());
  for (int c = 0; c < 2; ++c) {
    std::vector<std::string> want;
    for (size_t i = static_cast<size_t>(c); i < expected.size(); i += 2) {
      want.push_back(expected[i]);
    }
    CHECK(per_customer[customers[static_cast<size_t>(c)]] == want);
  }
}

TEST_CASE("TrimStreams leaves streams without consumer groups alone", "[events][trim]") {
  Scratch db;
  RelayOptions o = db.Options();
  Relay relay(db.pool(), Redis(), o);
  const std::string stream = o.stream_prefix + "0";
  AddEntries(stream, 5);
  CHECK(Trim(relay) == 0);  // p1 does not even exist
  CHECK(Range(stream).size() == 5);
}

TEST_CASE("TrimStreams never drops pending or undelivered entries", "[events][trim]") {
  Scratch db;
  RelayOptions o = db.Options();
  Relay relay(db.pool(), Redis(), o);
  const std::string stream = o.stream_prefix + "0";
  const std::string other = o.stream_prefix + "1";
  const std::vector<std::string> e = AddEntries(stream, 10);
  AddEntries(other, 3);  // no group on p1: never trimmed
  const std::string g1 = db.schema() + "_g1";
  const std::string g2 = db.schema() + "_g2";
  Cmd({"XGROUP", "CREATE", stream, g1, "0"});

  // Nothing delivered yet: everything is still needed.
  CHECK(Trim(relay) == 0);
  CHECK(Ids(stream) == e);

  // g1 read e0..e3, acknowledged e0, e1; e2, e3 pending.
  REQUIRE(Deliver(stream, g1, 4) == Slice(e, 0, 4));
  Ack(stream, g1, {e[0], e[1]});
  CHECK(Trim(relay) == 2);
  CHECK(Ids(stream) == Slice(e, 2, 10));
  // Pending e2 is kept even though e3 is acknowledged.
  Ack(stream, g1, {e[3]});
  CHECK(Trim(relay) == 0);
  CHECK(Ids(stream) == Slice(e, 2, 10));

  // A second group that has seen up to e5 does not lower the threshold.
  Cmd({"XGROUP", "CREATE", stream, g2, e[5]});
  CHECK(Trim(relay) == 0);

  // g1 done up to e7: g2 (next e6) is now the slowest.
  Ack(stream, g1, {e[2]});
  REQUIRE(Deliver(stream, g1, 4) == Slice(e, 4, 8));
  Ack(stream, g1, Slice(e, 4, 8));
  CHECK(Trim(relay) == 4);  // e2..e5
  CHECK(Ids(stream) == Slice(e, 6, 10));

  // g2 finishes everything; g1 has e8 pending and e9 undelivered.
  REQUIRE(Deliver(stream, g2, 10) == Slice(e, 6, 10));
  Ack(stream, g2, Slice(e, 6, 10));
  REQUIRE(Deliver(stream, g1, 1) == Slice(e, 8, 9));
  CHECK(Trim(relay) == 2);  // e6, e7
  CHECK(Ids(stream) == Slice(e, 8, 10));

  // Both groups done: only what comes after survives (nothing).
  Ack(stream, g1, {e[8]});
  REQUIRE(Deliver(stream, g1, 5) == Slice(e, 9, 10));
  Ack(stream, g1, {e[9]});
  CHECK(Trim(relay) == 2);
  CHECK(Range(stream).empty());
  CHECK(Range(other).size() == 3);
}

TEST_CASE("the relay loop trims streams every trim_interval", "[events][trim]") {
  Scratch db;
  RelayOptions o = db.Options();
  o.trim_interval = absl::Milliseconds(100);
  Relay relay(db.pool(), Redis(), o);
  const std::string stream = o.stream_prefix + "1";
  const std::vector<std::string> e = AddEntries(stream, 4);
  const std::string g = db.schema() + "_g";
  Cmd({"XGROUP", "CREATE", stream, g, "0"});
  relay.Start();
  REQUIRE(Deliver(stream, g, 2) == Slice(e, 0, 2));
  Ack(stream, g, Slice(e, 0, 2));
  const absl::Time deadline = absl::Now() + absl::Seconds(5);
  while (Range(stream).size() > 2 && absl::Now() < deadline) {
    absl::SleepFor(absl::Milliseconds(20));
  }
  relay.Stop();
  CHECK(Ids(stream) == Slice(e, 2, 4));
}

}  // namespace
