// The purchase projection fed in batches: the real consumer (libs/events
// batch handler, Redis Streams) -> OrderEventHandler::HandleBatch ->
// PurchaseProjector::ApplyBatch -> PgCustomerRepository::RecordOrders
// (app role, RLS on). Every test uses its own tenant, streams and group.
#include <map>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "absl/time/clock.h"
#include "libs/events/consumer.h"
#include "services/customer_store/api/order_events.h"
#include "services/customer_store/app/purchases.h"
#include "tests/integration/customer_store/cs_env.h"

namespace crm::customer_store::itest {
namespace {

// A view cache that only counts invalidations (the Redis cache is not part
// of this test).
class CountingViewCache final : public app::ViewCache {
 public:
  Lookup Get(const std::string&, const std::string&) override { return Lookup{}; }
  void Put(const std::string&, const std::string&, const std::string&,
           const std::string&) override {}
  void Invalidate(const std::string&, const std::string&) override { ++invalidations; }
  int invalidate_calls() const { return invalidations; }
  int invalidations = 0;
};

// The real repository, counting how the projection reached it.
class CountingPurchases final : public app::PurchaseRepository {
 public:
  absl::StatusOr<Change> RecordOrder(const domain::OrderFact& f) override {
    ++single;
    return Repo().RecordOrder(f);
  }
  absl::StatusOr<std::vector<Change>> RecordOrders(
      const std::vector<domain::OrderFact>& facts) override {
    ++batches;
    auto r = Repo().RecordOrders(facts);
    if (!r.ok()) ++failed_batches;
    return r;
  }
  int single = 0;
  int batches = 0;
  int failed_batches = 0;
};

events::v1::EventEnvelope OrderEvent(const std::string& tenant, const std::string& customer,
                                     const std::string& order, int version,
                                     const std::string& status, int64_t total,
                                     const std::string& placed_us = "1700000000000000") {
  events::v1::EventEnvelope e;
  e.set_event_id(common::NewUuid());
  e.set_tenant_id(tenant);
  e.set_customer_id(customer);
  e.set_type(absl::StrCat("order.", status));
  e.set_producer("transaction");
  e.set_schema_version(1);
  e.set_payload_json(absl::StrCat(
      R"({"order_id":")", order, R"(","customer_id":")", customer,
      R"(","currency_code":"CHF","status":")", status, R"(","version":)", version,
      R"(,"total_minor":")", total, R"(","placed_at_us":")", placed_us, R"("})"));
  return e;
}

void Publish(const std::string& stream, const events::v1::EventEnvelope& e) {
  auto r = Redis().Command(
      {"XADD", stream, "*", "event_id", e.event_id(), "envelope", e.SerializeAsString()});
  INFO(r.status().ToString());
  REQUIRE(r.ok());
}

events::ConsumerOptions Options(const std::string& base) {
  events::ConsumerOptions o;
  o.group = base + "_g";
  o.consumer = "c1";
  o.partitions = 1;
  o.stream_prefix = base + ":p";
  o.dead_letter_stream = base + ":dead";
  o.block = absl::Milliseconds(50);
  o.claim_idle = absl::Milliseconds(100);
  o.max_deliveries = 2;
  return o;
}

int64_t Pending(const events::ConsumerOptions& o) {
  auto r = Redis().Command({"XPENDING", o.stream_prefix + "0", o.group});
  REQUIRE(r.ok());
  return r->Element(0)->Integer().value();
}

int64_t StreamLength(const std::string& stream) {
  auto r = Redis().Command({"XLEN", stream});
  REQUIRE(r.ok());
  return r->Integer().value();
}

domain::PurchaseAggregate Aggregate(const std::string& tenant, const std::string& customer) {
  auto view = Repo().LoadView(tenant, customer, 20);
  INFO(view.status().ToString());
  REQUIRE(view.ok());
  REQUIRE(view->purchases.size() == 1);
  return view->purchases[0];
}

int64_t PurchaseEntries(const std::string& tenant, const std::string& customer) {
  return CountIn(tenant, absl::StrCat("SELECT count(*) FROM customer_store.interactions WHERE "
                                      "kind = 6 AND customer_id = '",
                                      customer, "'"));
}

std::string NewBuyer(const std::string& tenant) {
  domain::Customer c = NewCustomer("Buyer", {UniqueEmail()});
  REQUIRE(Insert(Repo(), ActorOf(tenant, "CreateCustomer"), c).ok());
  return c.id;
}

}  // namespace

TEST_CASE("One consumer read of order events is projected in one transaction, duplicates "
          "included",
          "[customer_store][purchases][batch][integration]") {
  const std::string tenant = NewTenant();
  const std::string c1 = NewBuyer(tenant), c2 = NewBuyer(tenant);
  const std::string o1 = common::NewUuid(), o2 = common::NewUuid(), o3 = common::NewUuid();
  CountingPurchases repo;
  CountingViewCache cache;
  app::PurchaseProjector projector(repo, cache);
  api::OrderEventHandler handler(projector);
  const std::string base = ts::UniqueName("t_pbatch");
  const events::ConsumerOptions opts = Options(base);
  events::Consumer consumer(Redis(), opts, [&](const std::vector<events::Event>& batch) {
    return handler.HandleBatch(batch);
  });
  REQUIRE(consumer.EnsureGroups().ok());

  const auto placed1 = OrderEvent(tenant, c1, o1, 1, "placed", 2500);
  Publish(base + ":p0", placed1);
  Publish(base + ":p0", OrderEvent(tenant, c1, o2, 1, "placed", 1000));
  Publish(base + ":p0", OrderEvent(tenant, c1, o1, 2, "paid", 2500));  // the same order, later
  Publish(base + ":p0", OrderEvent(tenant, c2, o3, 1, "placed", 700));
  Publish(base + ":p0", placed1);  // the relay published it twice

  auto n = consumer.PollOnce();
  INFO(n.status().ToString());
  REQUIRE(n.ok());
  CHECK(*n == 5);
  CHECK(repo.batches == 1);  // one transaction for the read
  CHECK(repo.single == 0);
  CHECK(Pending(opts) == 0);  // all acknowledged
  CHECK(Aggregate(tenant, c1).order_count == 2);
  CHECK(Aggregate(tenant, c1).total_spend_minor == 3500);
  CHECK(Aggregate(tenant, c2).order_count == 1);
  CHECK(PurchaseEntries(tenant, c1) == 2);  // one timeline entry per order
  CHECK(PurchaseEntries(tenant, c2) == 1);

  SECTION("the whole read delivered again (another consumer, no memory) changes nothing") {
    const std::string base2 = ts::UniqueName("t_pbatch_again");
    events::Consumer again(Redis(), Options(base2), [&](const std::vector<events::Event>& b) {
      return handler.HandleBatch(b);
    });
    REQUIRE(again.EnsureGroups().ok());
    Publish(base2 + ":p0", placed1);
    Publish(base2 + ":p0", OrderEvent(tenant, c1, o1, 2, "paid", 2500));
    Publish(base2 + ":p0", OrderEvent(tenant, c1, o1, 1, "placed", 2500));  // late, older
    const int invalidations = cache.invalidate_calls();
    auto m = again.PollOnce();
    REQUIRE(m.ok());
    CHECK(*m == 3);
    CHECK(Aggregate(tenant, c1).order_count == 2);
    CHECK(Aggregate(tenant, c1).total_spend_minor == 3500);
    CHECK(PurchaseEntries(tenant, c1) == 2);
    CHECK(cache.invalidate_calls() == invalidations);
  }
}

TEST_CASE("A failing event in a batch fails alone: the others are projected and acknowledged",
          "[customer_store][purchases][batch][integration]") {
  const std::string tenant = NewTenant();
  const std::string c1 = NewBuyer(tenant), c2 = NewBuyer(tenant);
  const std::string o1 = common::NewUuid(), o2 = common::NewUuid(), bad = common::NewUuid();
  CountingPurchases repo;
  CountingViewCache cache;
  app::PurchaseProjector projector(repo, cache);
  api::OrderEventHandler handler(projector);
  const std::string base = ts::UniqueName("t_pbatch_poison");
  const events::ConsumerOptions opts = Options(base);
  events::Consumer consumer(Redis(), opts, [&](const std::vector<events::Event>& batch) {
    return handler.HandleBatch(batch);
  });
  REQUIRE(consumer.EnsureGroups().ok());

  Publish(base + ":p0", OrderEvent(tenant, c1, o1, 1, "placed", 2500));
  // Parses, but PostgreSQL refuses it (a placed time out of timestamptz's
  // range): the batch's transaction fails, then this fact alone.
  Publish(base + ":p0", OrderEvent(tenant, c1, bad, 1, "placed", 900, "-9000000000000000000"));
  auto malformed = OrderEvent(tenant, c2, common::NewUuid(), 1, "placed", 1);
  malformed.set_payload_json("{\"order_id\": 7}");  // refused before the database
  Publish(base + ":p0", malformed);
  Publish(base + ":p0", OrderEvent(tenant, c2, o2, 1, "placed", 700));

  auto n = consumer.PollOnce();
  INFO(n.status().ToString());
  REQUIRE(n.ok());
  CHECK(*n == 4);
  CHECK(repo.batches == 1);
  CHECK(repo.failed_batches == 1);
  CHECK(repo.single == 3);  // o1, bad, o2 each alone
  CHECK(Aggregate(tenant, c1).order_count == 1);
  CHECK(Aggregate(tenant, c2).order_count == 1);
  CHECK(Pending(opts) == 2);  // the two failures wait for their retry

  // Retried until max_deliveries (2), then dead-lettered; nothing else moves.
  const absl::Time deadline = absl::Now() + absl::Seconds(10);
  while (StreamLength(opts.dead_letter_stream) < 2 && absl::Now() < deadline) {
    auto r = consumer.PollOnce();
    REQUIRE(r.ok());
    absl::SleepFor(absl::Milliseconds(60));
  }
  CHECK(StreamLength(opts.dead_letter_stream) == 2);
  CHECK(Pending(opts) == 0);
  CHECK(Aggregate(tenant, c1).order_count == 1);
  CHECK(Aggregate(tenant, c2).order_count == 1);
  CHECK(PurchaseEntries(tenant, c1) == 1);
}

}  // namespace crm::customer_store::itest
