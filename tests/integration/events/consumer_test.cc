// crm::events::Consumer against the shared test Redis. Every test uses its own
// stream prefix, group and dead-letter stream (UniqueName), so tests never see
// each other's entries.
#include <atomic>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include <catch2/catch.hpp>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "libs/common/id.h"
#include "libs/events/consumer.h"
#include "prometheus/registry.h"
#include "tests/support/pg_test_db.h"
#include "tests/support/redis_test_db.h"

namespace {

namespace ts = crm::test_support;
using crm::events::Consumer;
using crm::events::ConsumerOptions;
using crm::events::Event;
using crm::events::v1::EventEnvelope;

crm::redis::Pool& Redis() {
  static std::unique_ptr<crm::redis::Pool> pool = [] {
    auto p = ts::MakeRedisPool();
    if (!p.ok()) throw std::runtime_error(p.status().ToString());
    return std::move(p).value();
  }();
  return *pool;
}

ConsumerOptions Options(const std::string& consumer = "c1") {
  ConsumerOptions o;
  const std::string base = ts::UniqueName("t_events");
  o.group = base + "_g";
  o.consumer = consumer;
  o.partitions = 2;
  o.stream_prefix = base + ":p";
  o.dead_letter_stream = base + ":dead";
  o.block = absl::Milliseconds(50);
  o.claim_idle = absl::Milliseconds(100);
  return o;
}

EventEnvelope Envelope(const std::string& event_id, const std::string& type = "test.event") {
  EventEnvelope e;
  e.set_event_id(event_id);
  e.set_tenant_id(crm::common::NewUuid());
  e.set_type(type);
  e.set_customer_id(crm::common::NewUuid());
  e.mutable_occurred_at()->set_seconds(1700000000);
  e.set_producer("test");
  e.set_schema_version(1);
  e.set_payload_json("{}");
  return e;
}

std::string Publish(const std::string& stream, const EventEnvelope& e) {
  auto r = Redis().Command({"XADD", stream, "*", "event_id", e.event_id(), "envelope",
                            e.SerializeAsString()});
  INFO(r.status().ToString());
  REQUIRE(r.ok());
  return r->String().value();
}

std::map<std::string, std::string> Fields(const crm::redis::Reply& kv) {
  std::map<std::string, std::string> out;
  size_t n = kv.ArraySize().value();
  for (size_t j = 0; j + 1 < n; j += 2) {
    out[kv.Element(j)->String().value()] = kv.Element(j + 1)->String().value();
  }
  return out;
}

// All entries of a stream: (id, fields).
std::vector<std::pair<std::string, std::map<std::string, std::string>>> Range(
    const std::string& stream) {
  auto r = Redis().Command({"XRANGE", stream, "-", "+"});
  REQUIRE(r.ok());
  std::vector<std::pair<std::string, std::map<std::string, std::string>>> out;
  size_t n = r->ArraySize().value();
  for (size_t i = 0; i < n; ++i) {
    auto e = r->Element(i);
    REQUIRE(e.ok());
    out.emplace_back(e->Element(0)->String().value(), Fields(e->Element(1).value()));
  }
  return out;
}

int64_t PendingCount(const std::string& stream, const std::string& group) {
  auto r = Redis().Command({"XPENDING", stream, group});
  INFO(r.status().ToString());
  REQUIRE(r.ok());
  return r->Element(0)->Integer().value();
}

// Polls until `done` or the deadline; returns the total handled.
template <typename Done>
int PollUntil(Consumer& c, Done done, absl::Duration limit = absl::Seconds(5)) {
  const absl::Time deadline = absl::Now() + limit;
  int total = 0;
  while (!done() && absl::Now() < deadline) {
    auto n = c.PollOnce();
    INFO(n.status().ToString());
    REQUIRE(n.ok());
    total += *n;
  }
  return total;
}

// Thread-safe record of handler calls.
struct Calls {
  absl::Mutex mu;
  std::vector<Event> events;
  void Add(const Event& e) {
    absl::MutexLock l(&mu);
    events.push_back(e);
  }
  size_t size() {
    absl::MutexLock l(&mu);
    return events.size();
  }
};

TEST_CASE("EnsureGroups creates the group on every partition, twice is fine",
          "[events][consumer]") {
  ConsumerOptions o = Options();
  Consumer c(Redis(), o, [](const Event&) { return absl::OkStatus(); });
  REQUIRE(c.EnsureGroups().ok());
  REQUIRE(c.EnsureGroups().ok());
  for (int p = 0; p < o.partitions; ++p) {
    auto r = Redis().Command({"XINFO", "GROUPS", absl::StrCat(o.stream_prefix, p)});
    INFO(r.status().ToString());
    REQUIRE(r.ok());
    REQUIRE(r->ArraySize().value() == 1);
    auto g = r->Element(0);
    REQUIRE(g.ok());
    std::string name;
    for (size_t f = 0; f + 1 < g->ArraySize().value(); f += 2) {
      if (g->Element(f)->String().value() == "name") name = g->Element(f + 1)->String().value();
    }
    CHECK(name == o.group);
  }
}

TEST_CASE("events are delivered in per-stream order and acknowledged", "[events][consumer]") {
  ConsumerOptions o = Options();
  std::vector<Event> seen;
  Consumer c(Redis(), o, [&](const Event& e) {
    seen.push_back(e);
    return absl::OkStatus();
  });
  REQUIRE(c.EnsureGroups().ok());
  std::map<std::string, std::vector<std::string>> published;  // stream -> event ids
  for (int i = 0; i < 30; ++i) {
    const std::string stream = absl::StrCat(o.stream_prefix, i % 2);
    const std::string id = absl::StrCat("ev-", i);
    Publish(stream, Envelope(id));
    published[stream].push_back(id);
  }
  PollUntil(c, [&] { return seen.size() >= 30; });
  REQUIRE(seen.size() == 30);
  std::map<std::string, std::vector<std::string>> got;
  for (const Event& e : seen) {
    got[e.stream].push_back(e.envelope.event_id());
    CHECK(e.deliveries == 1);
    CHECK(e.envelope.schema_version() == 1);
  }
  CHECK(got == published);
  for (int p = 0; p < o.partitions; ++p) {
    CHECK(PendingCount(absl::StrCat(o.stream_prefix, p), o.group) == 0);
  }
}

TEST_CASE("stream workers handle streams in parallel and keep each stream's order",
          "[events][consumer]") {
  ConsumerOptions o = Options();
  o.stream_workers = 4;
  Calls calls;
  std::atomic<int> in_handler{0};
  std::atomic<int> max_parallel{0};
  Consumer c(Redis(), o, [&](const Event& e) {
    int now = ++in_handler;
    int prev = max_parallel.load();
    while (now > prev && !max_parallel.compare_exchange_weak(prev, now)) {
    }
    absl::SleepFor(absl::Milliseconds(5));  // a handler's database round trip
    calls.Add(e);
    --in_handler;
    return absl::OkStatus();
  });
  REQUIRE(c.EnsureGroups().ok());
  std::map<std::string, std::vector<std::string>> published;
  for (int i = 0; i < 80; ++i) {
    const std::string stream = absl::StrCat(o.stream_prefix, i % o.partitions);
    published[stream].push_back(absl::StrCat("w-", i));
    Publish(stream, Envelope(published[stream].back()));
  }
  PollUntil(c, [&] { return calls.size() >= 80; });
  REQUIRE(calls.size() == 80);
  std::map<std::string, std::vector<std::string>> got;
  {
    absl::MutexLock l(&calls.mu);
    for (const Event& e : calls.events) got[e.stream].push_back(e.envelope.event_id());
  }
  CHECK(got == published);
  CHECK(max_parallel.load() > 1);
  CHECK(max_parallel.load() <= 4);
  for (int p = 0; p < o.partitions; ++p) {
    CHECK(PendingCount(absl::StrCat(o.stream_prefix, p), o.group) == 0);
  }
}

TEST_CASE("small batches keep per-stream order", "[events][consumer]") {
  ConsumerOptions o = Options();
  o.batch = 3;
  std::vector<std::string> seen;
  Consumer c(Redis(), o, [&](const Event& e) {
    seen.push_back(e.envelope.event_id());
    return absl::OkStatus();
  });
  REQUIRE(c.EnsureGroups().ok());
  std::vector<std::string> published;
  for (int i = 0; i < 10; ++i) {
    published.push_back(absl::StrCat("b-", i));
    Publish(o.stream_prefix + "1", Envelope(published.back()));
  }
  PollUntil(c, [&] { return seen.size() >= 10; });
  CHECK(seen == published);
}

TEST_CASE("a failed event is claimed by another consumer after claim_idle",
          "[events][consumer]") {
  ConsumerOptions o1 = Options("c1");
  o1.claim_idle = absl::Seconds(1);
  const std::string stream = o1.stream_prefix + "0";
  int first_calls = 0;
  {
    Consumer first(Redis(), o1, [&](const Event& e) {
      ++first_calls;
      CHECK(e.deliveries == 1);
      return absl::UnavailableError("downstream down");
    });
    REQUIRE(first.EnsureGroups().ok());
    Publish(stream, Envelope("retry-1"));
    auto n = first.PollOnce();
    REQUIRE(n.ok());
    CHECK(*n == 1);
    CHECK(first_calls == 1);
  }  // the first consumer is gone; its entry stays pending
  CHECK(PendingCount(stream, o1.group) == 1);

  ConsumerOptions o2 = o1;
  o2.consumer = "c2";
  std::vector<Event> seen;
  Consumer second(Redis(), o2, [&](const Event& e) {
    seen.push_back(e);
    return absl::OkStatus();
  });
  auto early = second.PollOnce();  // well within claim_idle: not claimable yet
  REQUIRE(early.ok());
  CHECK(*early == 0);
  CHECK(seen.empty());
  PollUntil(second, [&] { return !seen.empty(); });
  REQUIRE(seen.size() == 1);
  CHECK(seen[0].envelope.event_id() == "retry-1");
  CHECK(seen[0].deliveries == 2);
  CHECK(PendingCount(stream, o1.group) == 0);
  CHECK(first_calls == 1);
}

TEST_CASE("a restarted consumer re-reads its own pending entries first", "[events][consumer]") {
  ConsumerOptions o = Options("c1");
  o.claim_idle = absl::Minutes(10);  // only the own-pending read can bring them back
  const std::string stream = o.stream_prefix + "0";
  {
    Consumer before(Redis(), o, [](const Event&) { return absl::InternalError("crash"); });
    REQUIRE(before.EnsureGroups().ok());
    Publish(stream, Envelope("p-1"));
    Publish(stream, Envelope("p-2"));
    auto n = before.PollOnce();
    REQUIRE(n.ok());
    CHECK(*n == 2);
    // Not retried by the same object before claim_idle.
    auto again = before.PollOnce();
    REQUIRE(again.ok());
    CHECK(*again == 0);
  }
  CHECK(PendingCount(stream, o.group) == 2);
  Publish(stream, Envelope("p-3"));

  std::vector<Event> seen;
  Consumer after(Redis(), o, [&](const Event& e) {
    seen.push_back(e);
    return absl::OkStatus();
  });
  auto n = after.PollOnce();
  INFO(n.status().ToString());
  REQUIRE(n.ok());
  CHECK(*n == 3);
  REQUIRE(seen.size() == 3);
  CHECK(seen[0].envelope.event_id() == "p-1");
  CHECK(seen[0].deliveries == 2);
  CHECK(seen[1].envelope.event_id() == "p-2");
  CHECK(seen[1].deliveries == 2);
  CHECK(seen[2].envelope.event_id() == "p-3");
  CHECK(seen[2].deliveries == 1);
  CHECK(PendingCount(stream, o.group) == 0);
}

TEST_CASE("poison events land in the dead-letter stream and are acknowledged",
          "[events][consumer]") {
  ConsumerOptions o = Options();
  o.max_deliveries = 3;
  const std::string stream = o.stream_prefix + "1";
  int calls = 0;
  Consumer c(Redis(), o, [&](const Event& e) {
    ++calls;
    return absl::InvalidArgumentError(absl::StrCat("boom on delivery ", e.deliveries));
  });
  REQUIRE(c.EnsureGroups().ok());
  const std::string entry = Publish(stream, Envelope("poison-1"));
  PollUntil(c, [&] { return !Range(o.dead_letter_stream).empty(); });
  auto dead = Range(o.dead_letter_stream);
  REQUIRE(dead.size() == 1);
  CHECK(calls == 3);
  auto& f = dead[0].second;
  CHECK(f["stream"] == stream);
  CHECK(f["entry_id"] == entry);
  CHECK(f["group"] == o.group);
  CHECK(f["deliveries"] == "3");
  CHECK(f["error"].find("boom on delivery 3") != std::string::npos);
  EventEnvelope env;
  REQUIRE(env.ParseFromString(f["envelope"]));
  CHECK(env.event_id() == "poison-1");
  CHECK(PendingCount(stream, o.group) == 0);

  // Not handled again afterwards.
  absl::SleepFor(o.claim_idle * 2);
  auto n = c.PollOnce();
  REQUIRE(n.ok());
  CHECK(*n == 0);
  CHECK(calls == 3);
}

TEST_CASE("entries without a parsable envelope are dead-lettered at once",
          "[events][consumer]") {
  ConsumerOptions o = Options();
  const std::string stream = o.stream_prefix + "0";
  int calls = 0;
  Consumer c(Redis(), o, [&](const Event&) {
    ++calls;
    return absl::OkStatus();
  });
  REQUIRE(c.EnsureGroups().ok());
  auto a = Redis().Command({"XADD", stream, "*", "event_id", "x", "payload", "{}"});
  REQUIRE(a.ok());
  auto b = Redis().Command({"XADD", stream, "*", "envelope", "\xff\xff\xff not a proto"});
  REQUIRE(b.ok());
  PollUntil(c, [&] { return Range(o.dead_letter_stream).size() >= 2; });
  auto dead = Range(o.dead_letter_stream);
  REQUIRE(dead.size() == 2);
  CHECK(calls == 0);
  CHECK(dead[0].second["entry_id"] == a->String().value());
  CHECK(dead[1].second["entry_id"] == b->String().value());
  CHECK(dead[0].second["error"].find("envelope") != std::string::npos);
  CHECK(PendingCount(stream, o.group) == 0);
}

TEST_CASE("a republished event id is handled once per process", "[events][consumer]") {
  ConsumerOptions o = Options();
  std::vector<std::string> seen;
  Consumer c(Redis(), o, [&](const Event& e) {
    seen.push_back(e.envelope.event_id());
    return absl::OkStatus();
  });
  REQUIRE(c.EnsureGroups().ok());
  const EventEnvelope dup = Envelope("dup-1");
  Publish(o.stream_prefix + "0", dup);
  Publish(o.stream_prefix + "0", Envelope("other-1"));
  Publish(o.stream_prefix + "0", dup);  // relay crashed between XADD and commit
  PollUntil(c, [&] {
    return PendingCount(o.stream_prefix + "0", o.group) == 0 && seen.size() >= 2;
  });
  // One more round: nothing else may arrive.
  auto n = c.PollOnce();
  REQUIRE(n.ok());
  CHECK(seen == std::vector<std::string>{"dup-1", "other-1"});
  CHECK(PendingCount(o.stream_prefix + "0", o.group) == 0);
}

TEST_CASE("metrics families are exported", "[events][consumer][metrics]") {
  prometheus::Registry registry;
  ConsumerOptions o = Options();
  o.metrics = &registry;
  o.max_deliveries = 1;
  Consumer c(Redis(), o, [](const Event& e) {
    if (e.envelope.event_id() == "bad") return absl::InternalError("no");
    return absl::OkStatus();
  });
  REQUIRE(c.EnsureGroups().ok());
  Publish(o.stream_prefix + "0", Envelope("good"));
  Publish(o.stream_prefix + "0", Envelope("bad"));
  PollUntil(c, [&] { return PendingCount(o.stream_prefix + "0", o.group) == 0; });
  REQUIRE(PendingCount(o.stream_prefix + "0", o.group) == 0);
  REQUIRE(c.PollOnce().ok());

  std::map<std::string, prometheus::MetricFamily> families;
  for (auto& f : registry.Collect()) families[f.name] = f;
  REQUIRE(families.count("crm_events_consumed_total"));
  REQUIRE(families.count("crm_events_consumer_lag"));
  REQUIRE(families.count("crm_events_handle_seconds"));
  std::map<std::string, double> by_outcome;
  for (const auto& m : families["crm_events_consumed_total"].metric) {
    std::string outcome;
    bool ours = false;
    for (const auto& l : m.label) {
      if (l.name == "outcome") outcome = l.value;
      if (l.name == "group" && l.value == o.group) ours = true;
    }
    if (ours) by_outcome[outcome] = m.counter.value;
  }
  CHECK(by_outcome["ok"] == 1);
  CHECK(by_outcome["dead"] == 1);
  CHECK(by_outcome["retry"] == 0);
  bool lag_seen = false;
  for (const auto& m : families["crm_events_consumer_lag"].metric) {
    for (const auto& l : m.label) {
      if (l.name == "stream" && l.value == o.stream_prefix + "0") {
        lag_seen = true;
        CHECK(m.gauge.value == 0);
      }
    }
  }
  CHECK(lag_seen);
  REQUIRE(families["crm_events_handle_seconds"].metric.size() == 1);
  CHECK(families["crm_events_handle_seconds"].metric[0].histogram.sample_count == 2);
}

TEST_CASE("Start and Stop run the loop in the background", "[events][consumer]") {
  ConsumerOptions o = Options();
  Calls calls;
  Consumer c(Redis(), o, [&](const Event& e) {
    calls.Add(e);
    return absl::OkStatus();
  });
  REQUIRE(c.EnsureGroups().ok());
  c.Start();
  Publish(o.stream_prefix + "1", Envelope("bg-1"));
  const absl::Time deadline = absl::Now() + absl::Seconds(5);
  while (calls.size() < 1 && absl::Now() < deadline) absl::SleepFor(absl::Milliseconds(10));
  const absl::Time stop_start = absl::Now();
  c.Stop();
  CHECK(absl::Now() - stop_start < absl::Seconds(2));
  CHECK(calls.size() == 1);
}

TEST_CASE("MarkProcessed records an event id once per consumer", "[events][idempotency]") {
  const std::string schema = ts::UniqueName("t_events");
  REQUIRE(ts::RecreateSchema(schema).ok());
  REQUIRE(ts::ExecAsOwner(absl::StrCat(
                              "CREATE TABLE ", schema,
                              ".processed_events (consumer text NOT NULL, event_id uuid NOT NULL, "
                              "processed_at timestamptz NOT NULL DEFAULT now(), "
                              "PRIMARY KEY (consumer, event_id))"))
              .ok());
  auto pool = ts::MakeOwnerPool();
  REQUIRE(pool.ok());
  const std::string event_id = crm::common::NewUuid();
  auto mark = [&](const std::string& consumer, const std::string& id) {
    absl::StatusOr<bool> result = absl::InternalError("not run");
    absl::Status s = (*pool)->WithTx([&](pqxx::work& tx) -> absl::Status {
      result = crm::events::MarkProcessed(tx, schema, consumer, id);
      return result.status();
    });
    if (!s.ok()) return absl::StatusOr<bool>(s);
    return result;
  };
  auto first = mark("segmentation", event_id);
  INFO(first.status().ToString());
  REQUIRE(first.ok());
  CHECK(*first);
  auto second = mark("segmentation", event_id);
  REQUIRE(second.ok());
  CHECK_FALSE(*second);
  auto other = mark("delivery", event_id);
  REQUIRE(other.ok());
  CHECK(*other);
  CHECK(mark("segmentation", "not-a-uuid").status().code() == absl::StatusCode::kInvalidArgument);
  {
    absl::Status s = (*pool)->WithTx([&](pqxx::work& tx) -> absl::Status {
      auto r = crm::events::MarkProcessed(tx, "x; DROP TABLE y", "c", event_id);
      CHECK(r.status().code() == absl::StatusCode::kInvalidArgument);
      return absl::OkStatus();
    });
    CHECK(s.ok());
  }
  // A rolled-back transaction leaves nothing behind.
  const std::string rolled = crm::common::NewUuid();
  absl::Status rb = (*pool)->WithTx([&](pqxx::work& tx) -> absl::Status {
    auto r = crm::events::MarkProcessed(tx, schema, "segmentation", rolled);
    CHECK(r.ok());
    return absl::AbortedError("roll back");
  });
  CHECK(rb.code() == absl::StatusCode::kAborted);
  auto again = mark("segmentation", rolled);
  REQUIRE(again.ok());
  CHECK(*again);
  CHECK(ts::ExecAsOwner(absl::StrCat("DROP SCHEMA ", schema, " CASCADE")).ok());
}

}  // namespace
