// crm::events::Consumer with a BatchHandler against the shared test Redis:
// the entries of one read in one call, each entry with its own outcome. Every test uses its own streams, group and dead-letter stream.
#include <map>
#include <stdexcept>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "libs/common/id.h"
#include "libs/events/consumer.h"
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

ConsumerOptions Options() {
  ConsumerOptions o;
  const std::string base = ts::UniqueName("t_batch");
  o.group = base + "_g";
  o.consumer = "c1";
  o.partitions = 2;
  o.stream_prefix = base + ":p";
  o.dead_letter_stream = base + ":dead";
  o.block = absl::Milliseconds(50);
  o.claim_idle = absl::Milliseconds(100);
  o.max_deliveries = 3;
  return o;
}

EventEnvelope Envelope(const std::string& event_id, const std::string& payload = "{}") {
  EventEnvelope e;
  e.set_event_id(event_id);
  e.set_tenant_id(crm::common::NewUuid());
  e.set_type("test.event");
  e.set_producer("test");
  e.set_schema_version(1);
  e.set_payload_json(payload);
  return e;
}

void Publish(const std::string& stream, const EventEnvelope& e) {
  auto r = Redis().Command({"XADD", stream, "*", "event_id", e.event_id(), "envelope",
                            e.SerializeAsString()});
  INFO(r.status().ToString());
  REQUIRE(r.ok());
}

void PublishRaw(const std::string& stream, const std::string& envelope) {
  auto r = Redis().Command({"XADD", stream, "*", "event_id", "x", "envelope", envelope});
  REQUIRE(r.ok());
}

int64_t Pending(const ConsumerOptions& o, int p) {
  auto r = Redis().Command({"XPENDING", absl::StrCat(o.stream_prefix, p), o.group});
  REQUIRE(r.ok());
  return r->Element(0)->Integer().value();
}

int64_t Length(const std::string& stream) {
  auto r = Redis().Command({"XLEN", stream});
  REQUIRE(r.ok());
  return r->Integer().value();
}

}  // namespace

TEST_CASE("A batch handler gets every entry of one read in one call, each stream in order",
          "[events][consumer][batch]") {
  ConsumerOptions o = Options();
  o.stream_workers = 4;  // does not apply to a batch handler
  std::vector<std::vector<std::string>> calls;  // payloads per call
  Consumer c(Redis(), o, [&](const std::vector<Event>& batch) {
    std::vector<std::string> payloads;
    for (const Event& e : batch) payloads.push_back(e.envelope.payload_json());
    calls.push_back(payloads);
    return std::vector<absl::Status>(batch.size());
  });
  REQUIRE(c.EnsureGroups().ok());
  for (int i = 0; i < 5; ++i) Publish(o.stream_prefix + "0", Envelope(crm::common::NewUuid(),
                                                                      absl::StrCat("a", i)));
  for (int i = 0; i < 3; ++i) Publish(o.stream_prefix + "1", Envelope(crm::common::NewUuid(),
                                                                      absl::StrCat("b", i)));
  auto n = c.PollOnce();
  INFO(n.status().ToString());
  REQUIRE(n.ok());
  CHECK(*n == 8);
  REQUIRE(calls.size() == 1);
  std::map<char, std::vector<std::string>> by_stream;
  for (const auto& payload : calls[0]) by_stream[payload[0]].push_back(payload);
  CHECK(by_stream['a'] == std::vector<std::string>{"a0", "a1", "a2", "a3", "a4"});
  CHECK(by_stream['b'] == std::vector<std::string>{"b0", "b1", "b2"});
  CHECK(Pending(o, 0) == 0);
  CHECK(Pending(o, 1) == 0);
}

TEST_CASE("In a batch, a failed entry is retried alone, and duplicates and poison never reach the "
          "handler",
          "[events][consumer][batch]") {
  ConsumerOptions o = Options();
  const std::string stream = o.stream_prefix + "0";
  std::map<std::string, int> seen;  // payload -> deliveries to the handler
  Consumer c(Redis(), o, [&](const std::vector<Event>& batch) {
    std::vector<absl::Status> out;
    for (const Event& e : batch) {
      ++seen[e.envelope.payload_json()];
      out.push_back(e.envelope.payload_json() == "fail" ? absl::UnavailableError("no")
                                                        : absl::OkStatus());
    }
    return out;
  });
  REQUIRE(c.EnsureGroups().ok());
  const std::string dup = crm::common::NewUuid();
  Publish(stream, Envelope(dup, "first"));
  REQUIRE(c.PollOnce().ok());
  Publish(stream, Envelope(crm::common::NewUuid(), "ok1"));
  Publish(stream, Envelope(crm::common::NewUuid(), "fail"));
  PublishRaw(stream, "not a protobuf envelope");
  Publish(stream, Envelope(dup, "first"));  // published twice: handled already
  Publish(stream, Envelope(crm::common::NewUuid(), "ok2"));
  auto n = c.PollOnce();
  REQUIRE(n.ok());
  CHECK(*n == 5);
  CHECK(seen["first"] == 1);
  CHECK(seen["ok1"] == 1);
  CHECK(seen["ok2"] == 1);
  CHECK(seen["fail"] == 1);
  CHECK(Pending(o, 0) == 1);     // only the failed one
  CHECK(Length(o.dead_letter_stream) == 1);  // the poison entry

  // Redelivered (claimed after claim_idle) until max_deliveries, then dead.
  const absl::Time deadline = absl::Now() + absl::Seconds(10);
  while (Length(o.dead_letter_stream) < 2 && absl::Now() < deadline) {
    REQUIRE(c.PollOnce().ok());
    absl::SleepFor(absl::Milliseconds(60));
  }
  CHECK(seen["fail"] == 3);
  CHECK(seen["ok1"] == 1);
  CHECK(Length(o.dead_letter_stream) == 2);
  CHECK(Pending(o, 0) == 0);
}

TEST_CASE("A batch handler that throws or answers another number of statuses fails the batch",
          "[events][consumer][batch]") {
  ConsumerOptions o = Options();
  const std::string stream = o.stream_prefix + "0";
  int mode = 0;  // 0 throw, 1 wrong size, 2 ok
  int calls = 0;
  Consumer c(Redis(), o, [&](const std::vector<Event>& batch) -> std::vector<absl::Status> {
    ++calls;
    if (mode == 0) throw std::runtime_error("boom");
    if (mode == 1) return {absl::OkStatus()};
    return std::vector<absl::Status>(batch.size());
  });
  REQUIRE(c.EnsureGroups().ok());
  Publish(stream, Envelope(crm::common::NewUuid()));
  Publish(stream, Envelope(crm::common::NewUuid()));
  REQUIRE(c.PollOnce().ok());
  CHECK(Pending(o, 0) == 2);
  mode = 1;
  absl::SleepFor(absl::Milliseconds(150));
  REQUIRE(c.PollOnce().ok());  // claimed again: 2 entries, 1 answer
  CHECK(Pending(o, 0) == 2);
  mode = 2;
  absl::SleepFor(absl::Milliseconds(150));
  REQUIRE(c.PollOnce().ok());
  CHECK(Pending(o, 0) == 0);
  CHECK(calls == 3);
  CHECK(Length(o.dead_letter_stream) == 0);
}
