// Outbox relay of customer_store: repository writes -> Redis Streams.
// The relay works across tenants, so each test first drains what earlier
// tests left unpublished (ctest runs this binary's tests one at a time), and
// reads the shared streams filtered by its own tenant id.
#include <map>
#include <set>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "libs/outbox/relay.h"
#include "tests/support/scoped_env.h"
#include "tests/integration/customer_store/cs_env.h"

namespace crm::customer_store::itest {
namespace {

using domain::Customer;

constexpr int kPartitions = 13;  // unusual count: few other tests share these streams

struct Event {
  std::string stream_id;
  std::map<std::string, std::string> fields;
};

// Entries of `stream` whose tenant_id is `tenant`, in stream order.
std::vector<Event> ReadStream(const std::string& stream, const std::string& tenant) {
  auto reply = Redis().Command({"XRANGE", stream, "-", "+"});
  INFO(reply.status().ToString());
  REQUIRE(reply.ok());
  auto n = reply->ArraySize();
  REQUIRE(n.ok());
  std::vector<Event> out;
  for (size_t i = 0; i < *n; ++i) {
    auto entry = reply->Element(i);
    REQUIRE(entry.ok());
    auto id = entry->Element(0);
    auto kv = entry->Element(1);
    REQUIRE(id.ok());
    REQUIRE(kv.ok());
    Event e;
    e.stream_id = id->String().value();
    auto m = kv->ArraySize();
    REQUIRE(m.ok());
    for (size_t j = 0; j + 1 < *m; j += 2) {
      e.fields[kv->Element(j)->String().value()] = kv->Element(j + 1)->String().value();
    }
    if (e.fields["tenant_id"] == tenant) out.push_back(std::move(e));
  }
  return out;
}

outbox::RelayOptions Options() {
  outbox::RelayOptions o;
  o.schema = "customer_store";
  o.producer = "customer-store";
  o.partitions = kPartitions;
  return o;
}

void Drain(crm::redis::Pool& redis) {
  outbox::Relay relay(AppPool(), redis, Options());
  for (int i = 0; i < 100; ++i) {
    auto n = relay.RelayOnce();
    INFO(n.status().ToString());
    REQUIRE(n.ok());
    if (*n == 0) return;
  }
  FAIL("the outbox did not drain in 100 batches");
}

int64_t Unpublished(const std::string& tenant) {
  return CountIn(tenant,
                 "SELECT count(*) FROM customer_store.outbox WHERE published_at IS NULL");
}

Customer InsertOk(const std::string& tenant, const Customer& c) {
  auto r = Insert(Repo(), ActorOf(tenant, "CreateCustomer"), c);
  INFO(r.status().ToString());
  REQUIRE(r.ok());
  return *r;
}

void Rename(const std::string& tenant, const std::string& id, const std::string& name) {
  auto r = Update(Repo(), ActorOf(tenant, "UpdateCustomer"), id, "", [&](Customer& c) {
    c.given_name = name;
    return absl::OkStatus();
  });
  INFO(r.status().ToString());
  REQUIRE(r.ok());
}

TEST_CASE("RelayOnce publishes every unpublished event once", "[customer_store][outbox]") {
  Drain(Redis());
  const std::string tenant = NewTenant();
  std::vector<Customer> customers;
  for (int i = 0; i < 4; ++i) {
    customers.push_back(InsertOk(tenant, NewCustomer(absl::StrCat("R", i), {UniqueEmail()})));
  }
  Rename(tenant, customers[0].id, "R0b");
  Rename(tenant, customers[0].id, "R0c");
  domain::Consent k;
  k.channel = domain::ConsentChannel::kSms;
  k.purpose = domain::ConsentPurpose::kMarketing;
  k.status = domain::ConsentStatus::kOptedOut;
  k.record_time = absl::FromUnixMicros(1700000000000000);
  REQUIRE(AppendConsent(Repo(), ActorOf(tenant, "RecordConsent"), customers[0].id, k).ok());
  REQUIRE(Erase(Repo(), ActorOf(tenant, "EraseCustomer"), customers[3].id, "").ok());
  const int64_t expected = 4 + 2 + 1 + 1;
  REQUIRE(Unpublished(tenant) == expected);

  outbox::Relay relay(AppPool(), Redis(), Options());
  auto n = relay.RelayOnce();
  INFO(n.status().ToString());
  REQUIRE(n.ok());
  CHECK(*n == expected);
  CHECK(Unpublished(tenant) == 0);
  CHECK(CountIn(tenant, "SELECT count(*) FROM customer_store.outbox WHERE published_at IS NOT "
                        "NULL") == expected);

  auto again = relay.RelayOnce();
  REQUIRE(again.ok());
  CHECK(*again == 0);

  // Every event is in its customer's partition, nowhere else, exactly once.
  std::map<std::string, std::vector<Event>> by_customer;
  int64_t total = 0;
  for (int p = 0; p < kPartitions; ++p) {
    const std::string stream = absl::StrCat("crm:events:p", p);
    for (auto& e : ReadStream(stream, tenant)) {
      ++total;
      INFO(stream << " " << e.fields["customer_id"]);
      CHECK(outbox::StreamFor(e.fields["customer_id"], kPartitions) == stream);
      by_customer[e.fields["customer_id"]].push_back(std::move(e));
    }
  }
  CHECK(total == expected);
  REQUIRE(by_customer.size() == 4);

  // Fields of one event, checked against the outbox row.
  const Event& created = by_customer[customers[1].id].at(0);
  CHECK(created.fields.at("type") == "customer.created");
  CHECK(created.fields.at("tenant_id") == tenant);
  CHECK(created.fields.at("producer") == "customer-store");
  CHECK(common::IsUuid(created.fields.at("event_id")));
  CHECK(created.fields.at("payload").find(customers[1].id) != std::string::npos);
  CHECK(CountIn(tenant, absl::StrCat("SELECT count(*) FROM customer_store.outbox WHERE "
                                     "event_id = '",
                                     created.fields.at("event_id"), "' AND customer_id = '",
                                     customers[1].id, "'")) == 1);

  // One customer's events keep their order within its stream.
  const auto& first = by_customer[customers[0].id];
  REQUIRE(first.size() == 4);
  CHECK(first[0].fields.at("type") == "customer.created");
  CHECK(first[1].fields.at("type") == "customer.updated");
  CHECK(first[1].fields.at("payload").find("\"version\": 2") != std::string::npos);
  CHECK(first[2].fields.at("type") == "customer.updated");
  CHECK(first[2].fields.at("payload").find("\"version\": 3") != std::string::npos);
  CHECK(first[3].fields.at("type") == "consent.recorded");
  const auto& erased = by_customer[customers[3].id];
  REQUIRE(erased.size() == 2);
  CHECK(erased[0].fields.at("type") == "customer.created");
  CHECK(erased[1].fields.at("type") == "customer.erased");
  std::set<std::string> event_ids;
  for (const auto& [customer, events] : by_customer) {
    for (const auto& e : events) CHECK(event_ids.insert(e.fields.at("event_id")).second);
  }
}

TEST_CASE("RelayOnce with Redis down fails and stamps nothing", "[customer_store][outbox]") {
  Drain(Redis());
  const std::string tenant = NewTenant();
  Customer a = InsertOk(tenant, NewCustomer("Down", {UniqueEmail()}));
  Rename(tenant, a.id, "Down2");
  REQUIRE(Unpublished(tenant) == 2);

  crm::redis::PoolOptions bad;
  bad.host = "127.0.0.1";
  bad.port = 1;
  bad.size = 1;
  bad.connect_timeout = absl::Milliseconds(200);
  bad.command_timeout = absl::Milliseconds(200);
  auto down = crm::redis::Pool::Create(bad);
  REQUIRE(down.ok());
  {
    outbox::Relay relay(AppPool(), **down, Options());
    auto n = relay.RelayOnce();
    CHECK_FALSE(n.ok());
    CHECK(Unpublished(tenant) == 2);
    auto n2 = relay.RelayOnce();
    CHECK_FALSE(n2.ok());
    CHECK(Unpublished(tenant) == 2);
  }
  // Once Redis answers, the same events go out, in order.
  outbox::Relay relay(AppPool(), Redis(), Options());
  auto n = relay.RelayOnce();
  INFO(n.status().ToString());
  REQUIRE(n.ok());
  CHECK(*n == 2);
  CHECK(Unpublished(tenant) == 0);
  auto events = ReadStream(outbox::StreamFor(a.id, kPartitions), tenant);
  REQUIRE(events.size() == 2);
  CHECK(events[0].fields.at("type") == "customer.created");
  CHECK(events[1].fields.at("type") == "customer.updated");
}

TEST_CASE("Relay batches keep order across batches", "[customer_store][outbox]") {
  Drain(Redis());
  const std::string tenant = NewTenant();
  Customer a = InsertOk(tenant, NewCustomer("Batch", {UniqueEmail()}));
  for (int i = 0; i < 6; ++i) Rename(tenant, a.id, absl::StrCat("Batch", i));
  outbox::RelayOptions o = Options();
  o.batch_size = 3;
  outbox::Relay relay(AppPool(), Redis(), o);
  std::vector<int> batches;
  for (int i = 0; i < 10; ++i) {
    auto n = relay.RelayOnce();
    REQUIRE(n.ok());
    if (*n == 0) break;
    batches.push_back(*n);
  }
  CHECK(batches == std::vector<int>{3, 3, 1});
  auto events = ReadStream(outbox::StreamFor(a.id, kPartitions), tenant);
  REQUIRE(events.size() == 7);
  CHECK(events[0].fields.at("type") == "customer.created");
  for (int i = 1; i < 7; ++i) {
    INFO("event " << i);
    CHECK(events[i].fields.at("payload").find(absl::StrCat("\"version\": ", i + 1)) !=
          std::string::npos);
  }
}

// Polls until the tenant has `want` unpublished events; false after `limit`.
bool AwaitUnpublished(const std::string& tenant, int64_t want, absl::Duration limit) {
  const absl::Time end = absl::Now() + limit;
  while (absl::Now() < end) {
    if (Unpublished(tenant) == want) return true;
    absl::SleepFor(absl::Milliseconds(10));
  }
  return Unpublished(tenant) == want;
}

TEST_CASE("A running relay publishes a commit after a quiet spell at once, and the commits "
          "that follow within min_pass_interval in one later pass",
          "[customer_store][outbox]") {
  Drain(Redis());
  const std::string tenant = NewTenant();
  outbox::RelayOptions o = Options();
  o.idle_poll = absl::Seconds(30);  // only wake-ups by commits publish here
  o.min_pass_interval = absl::Seconds(1);
  outbox::Relay relay(AppPool(), Redis(), o);
  relay.Start();
  absl::SleepFor(absl::Milliseconds(1200));  // quiet for longer than the interval

  const absl::Time first_commit = absl::Now();
  InsertOk(tenant, NewCustomer("Quiet", {UniqueEmail()}));
  REQUIRE(AwaitUnpublished(tenant, 0, absl::Milliseconds(900)));  // at once, not after 30 s
  const absl::Duration first_latency = absl::Now() - first_commit;
  INFO("first commit published after " << first_latency);

  // Right after that pass: these commits wait for the interval to end and
  // go out together.
  const absl::Time burst = absl::Now();
  Customer b = InsertOk(tenant, NewCustomer("Burst", {UniqueEmail()}));
  Rename(tenant, b.id, "Burst2");
  absl::SleepFor(absl::Milliseconds(150));
  if (absl::Now() - first_commit < absl::Milliseconds(800)) CHECK(Unpublished(tenant) == 2);
  REQUIRE(AwaitUnpublished(tenant, 0, absl::Seconds(3)));
  CHECK(absl::Now() - burst < absl::Seconds(2));  // well before the 30 s poll
  relay.Stop();
  // The partition may also hold the first customer's event: b's only.
  std::vector<Event> events;
  for (auto& e : ReadStream(outbox::StreamFor(b.id, kPartitions), tenant)) {
    if (e.fields["customer_id"] == b.id) events.push_back(std::move(e));
  }
  REQUIRE(events.size() == 2);
  CHECK(events[0].fields.at("type") == "customer.created");
  CHECK(events[1].fields.at("type") == "customer.updated");
}

TEST_CASE("ApplyRelayEnvironment reads the minimum pass interval and refuses a bad one",
          "[customer_store][outbox]") {
  outbox::RelayOptions o = Options();
  {
    crm::testing::ScopedEnv env("CRM_OUTBOX_RELAY_MIN_INTERVAL", "25ms");
    REQUIRE(outbox::ApplyRelayEnvironment(o).ok());
    CHECK(o.min_pass_interval == absl::Milliseconds(25));
  }
  for (const char* bad : {"soon", "-5ms", "2s"}) {
    crm::testing::ScopedEnv env("CRM_OUTBOX_RELAY_MIN_INTERVAL", bad);
    INFO(bad);
    CHECK(outbox::ApplyRelayEnvironment(o).code() == absl::StatusCode::kInvalidArgument);
  }
}

}  // namespace
}  // namespace crm::customer_store::itest
