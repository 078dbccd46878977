// The known-customer cache of the transaction engine invalidated through the
// real consumer (libs/events batch handler, Redis Streams), and the order
// path over it with PgOrderRepository (app role, RLS on). customer-store is
// not part of this test: a scripted directory stands for it. Every test uses
// its own tenant, streams and consumer groups.
#include <map>
#include <memory>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "libs/common/clock.h"
#include "libs/common/errors.h"
#include "libs/common/id.h"
#include "libs/events/consumer.h"
#include "libs/events/tail.h"
#include "libs/pg/pool.h"
#include "services/transaction/api/customer_events.h"
#include "services/transaction/app/caching_customer_directory.h"
#include "services/transaction/app/catalog.h"
#include "services/transaction/app/known_customers.h"
#include "services/transaction/app/orders.h"
#include "services/transaction/app/pipeline.h"
#include "services/transaction/storage/pg_order_repository.h"
#include "services/transaction/storage/pg_pipeline_repository.h"
#include "services/transaction/storage/pg_product_repository.h"
#include "tests/support/pg_test_db.h"
#include "tests/support/redis_test_db.h"

namespace crm::transaction::itest {
namespace {

namespace ts = crm::test_support;

struct Env {
  std::unique_ptr<crm::pg::Pool> pool;
  std::unique_ptr<crm::redis::Pool> redis;
  std::unique_ptr<storage::PgProductRepository> products;
  std::unique_ptr<storage::PgOrderRepository> orders;
  std::unique_ptr<storage::PgPipelineRepository> pipeline_repo;
};

Env& TheEnv() {
  static Env* env = [] {
    auto* e = new Env;
    e->pool = ts::FreshSchemaPool("transaction", "txn", 4,
                                  {storage::PgProductRepository::Queries(),
                                   storage::PgOrderRepository::Queries(),
                                   storage::PgPipelineRepository::Queries()});
    auto redis = ts::MakeRedisPool();
    if (!redis.ok()) throw std::runtime_error("redis: " + redis.status().ToString());
    e->redis = std::move(redis).value();
    e->products = std::make_unique<storage::PgProductRepository>(*e->pool);
    e->orders = std::make_unique<storage::PgOrderRepository>(*e->pool);
    e->pipeline_repo =
        std::make_unique<storage::PgPipelineRepository>(*e->pool, e->orders.get());
    return e;
  }();
  return *env;
}

app::Actor ActorOf(const std::string& tenant, const std::string& method, const std::string& key) {
  return app::Actor{tenant, "user:itest", "req-itest", method, key, "fp-" + key};
}

// customer-store as seen through ResolveCustomerRefs: ids that exist read
// as themselves (or their survivor); erased ids are gone.
class ScriptedDirectory final : public app::CustomerDirectory {
 public:
  absl::StatusOr<std::vector<app::RefResolution>> ResolveBatch(
      const app::Actor&, const std::vector<app::CustomerRefInput>& refs, bool) override {
    ++calls;
    std::vector<app::RefResolution> out(refs.size());
    for (size_t i = 0; i < refs.size(); ++i) {
      auto it = reads_as.find(refs[i].customer_id);
      if (it == reads_as.end()) {
        out[i].error = common::WithField(
            common::WithReason(absl::FailedPreconditionError("customer_id names no customer"),
                               "CUSTOMER_NOT_FOUND"),
            "customer_id");
      } else {
        out[i].customer_id = it->second;
      }
    }
    return out;
  }
  absl::StatusOr<app::ResolvedCustomer> Resolve(const app::Actor&, const app::CustomerIdentities&,
                                                bool) override {
    return absl::UnimplementedError("not in this test");
  }
  std::map<std::string, std::string> reads_as;
  int calls = 0;
};

events::v1::EventEnvelope Envelope(const std::string& tenant, const std::string& type,
                                   const std::string& customer, const std::string& payload) {
  events::v1::EventEnvelope e;
  e.set_event_id(common::NewUuid());
  e.set_tenant_id(tenant);
  e.set_customer_id(customer);
  e.set_type(type);
  e.set_producer("customer-store");
  e.set_schema_version(1);
  e.set_payload_json(payload);
  return e;
}

events::v1::EventEnvelope Erased(const std::string& tenant, const std::string& customer,
                                 const std::vector<std::string>& merged) {
  std::string ids = absl::StrCat("\"", customer, "\"");
  for (const auto& m : merged) absl::StrAppend(&ids, ",\"", m, "\"");
  return Envelope(tenant, "customer.erased", customer,
                  absl::StrCat(R"({"customer_id":")", customer, R"(","erased_customer_ids":[)",
                               ids, "]}"));
}

void Publish(const std::string& stream, const events::v1::EventEnvelope& e) {
  auto r = TheEnv().redis->Command(
      {"XADD", stream, "*", "event_id", e.event_id(), "envelope", e.SerializeAsString()});
  INFO(r.status().ToString());
  REQUIRE(r.ok());
}

events::ConsumerOptions Options(const std::string& base, const std::string& group) {
  events::ConsumerOptions o;
  o.group = group;
  o.consumer = "c1";
  o.partitions = 1;
  o.stream_prefix = base + ":p";
  o.dead_letter_stream = base + ":dead";
  o.block = absl::Milliseconds(50);
  return o;
}

// Polls `consumer` until it has handled `n` entries (bounded).
void Drain(events::Consumer& consumer, int n) {
  const absl::Time deadline = absl::Now() + absl::Seconds(5);
  int handled = 0;
  while (handled < n && absl::Now() < deadline) {
    auto got = consumer.PollOnce();
    INFO(got.status().ToString());
    REQUIRE(got.ok());
    handled += *got;
  }
  REQUIRE(handled == n);
}

}  // namespace

TEST_CASE("Every replica forgets the customers of customer.erased, merged and unmerged",
          "[transaction][known_customers][integration]") {
  common::SystemClock clock;
  const std::string tenant = common::NewUuid();
  const std::string a = common::NewUuid(), b = common::NewUuid(), c = common::NewUuid(),
                    d = common::NewUuid(), e = common::NewUuid();
  // Two replicas, each with its own cache and its own tail of the streams.
  app::KnownCustomers replica1(clock, {1000, absl::Minutes(5)});
  app::KnownCustomers replica2(clock, {1000, absl::Minutes(5)});
  api::KnownCustomersInvalidator inv1(replica1), inv2(replica2);
  const std::string base = ts::UniqueName("t_known");
  events::TailOptions to;
  to.partitions = 2;
  to.stream_prefix = base + ":p";
  to.block = absl::Milliseconds(50);
  int gaps = 0;
  events::StreamTail t1(*TheEnv().redis, to,
                        [&](const std::vector<events::Event>& batch) { inv1.HandleBatch(batch); },
                        [&] {
                          ++gaps;
                          inv1.Gap();
                        });
  events::StreamTail t2(*TheEnv().redis, to,
                        [&](const std::vector<events::Event>& batch) { inv2.HandleBatch(batch); },
                        [&] { inv2.Gap(); });
  // An event published before a tail starts is not delivered to it; the
  // tail starts with a gap (everything remembered before is forgotten).
  Publish(base + ":p1", Erased(tenant, c, {}));
  replica1.Remember(replica1.Epoch(), tenant, c, c);
  REQUIRE(t1.PollOnce().ok());  // positions, then an empty read
  REQUIRE(t2.PollOnce().ok());
  CHECK(gaps == 1);
  CHECK(replica1.size() == 0);
  for (app::KnownCustomers* k : {&replica1, &replica2}) {
    k->Remember(k->Epoch(), tenant, a, a);
    k->Remember(k->Epoch(), tenant, b, a);  // b was merged into a
    k->Remember(k->Epoch(), tenant, c, c);
    k->Remember(k->Epoch(), tenant, d, d);
    k->Remember(k->Epoch(), tenant, e, d);  // e was merged into d
  }
  // An order event (ignored), an erasure of a (with b merged into it), the
  // merge of c into d, on both partitions.
  Publish(base + ":p0", Envelope(tenant, "order.placed", a, "{}"));
  Publish(base + ":p0", Erased(tenant, a, {b}));
  Publish(base + ":p1",
          Envelope(tenant, "customer.merged", d,
                   absl::StrCat(R"({"customer_id":")", d, R"(","source_customer_id":")", c,
                                R"(","merge_id":")", common::NewUuid(), R"("})")));
  auto drain = [](events::StreamTail& t, int n) {
    const absl::Time deadline = absl::Now() + absl::Seconds(5);
    int read = 0;
    while (read < n && absl::Now() < deadline) {
      auto got = t.PollOnce();
      INFO(got.status().ToString());
      REQUIRE(got.ok());
      read += *got;
    }
    REQUIRE(read == n);
  };
  drain(t1, 3);
  drain(t2, 3);
  for (app::KnownCustomers* k : {&replica1, &replica2}) {
    CHECK_FALSE(k->Find(tenant, a).has_value());
    CHECK_FALSE(k->Find(tenant, b).has_value());
    CHECK_FALSE(k->Find(tenant, c).has_value());
    CHECK(k->Find(tenant, d).value_or("") == d);
    CHECK(k->Find(tenant, e).value_or("") == d);
  }
  Publish(base + ":p0",
          Envelope(tenant, "customer.unmerged", d,
                   absl::StrCat(R"({"customer_id":")", d, R"(","restored_customer_id":")", e,
                                R"(","merge_id":")", common::NewUuid(), R"("})")));
  drain(t1, 1);
  drain(t2, 1);
  for (app::KnownCustomers* k : {&replica1, &replica2}) {
    CHECK_FALSE(k->Find(tenant, d).has_value());
    CHECK_FALSE(k->Find(tenant, e).has_value());
  }
  // The tail holds no consumer group: it cannot hold back the relay's trimming.
  auto groups = TheEnv().redis->Command({"XINFO", "GROUPS", base + ":p0"});
  REQUIRE(groups.ok());
  CHECK(groups->ArraySize().value() == 0);
  CHECK(gaps == 1);
}

TEST_CASE("An order for a known customer needs no customer-store call until its erasure is "
          "consumed, and is refused from then on",
          "[transaction][known_customers][integration]") {
  Env& env = TheEnv();
  common::SystemClock clock;
  common::RandomIdGenerator ids;
  const std::string tenant = common::NewUuid();
  const std::string customer = common::NewUuid();
  {
    domain::Product p;
    p.sku = "SKU-K1";
    p.name = "Known";
    p.category_path = {"Music"};
    p.price = {1990, "CHF"};
    p.active = true;
    p.version = 1;
    p.create_time = p.update_time = absl::FromUnixMicros(1700000000000000);
    REQUIRE(
        env.products
            ->Run<domain::Product>(ActorOf(tenant, "CreateProduct", ""), p.sku,
                                   [&](app::ProductTx& tx) { return app::WriteNewProduct(tx, p); })
            .ok());
  }
  ScriptedDirectory store;
  store.reads_as[customer] = customer;
  app::KnownCustomers known(clock, {1000, absl::Minutes(5)});
  app::CachingCustomerDirectory directory(store, known);
  app::Orders orders(*env.orders, clock, ids, &directory, env.orders.get());
  app::Pipeline pipeline(*env.pipeline_repo, orders, &directory, clock, ids);
  auto order = [&](const std::string& key) {
    domain::Order o;
    o.customer_id = customer;
    o.currency_code = "CHF";
    o.channel = domain::SalesChannel::kWeb;
    o.lines = {{"SKU-K1", 1, 1990, 0, 0}};
    return orders.Create(ActorOf(tenant, "CreateOrder", key), o);
  };

  auto first = order("k-1");
  INFO(first.status().ToString());
  REQUIRE(first.ok());
  CHECK(store.calls == 1);
  auto second = order("k-2");
  REQUIRE(second.ok());
  CHECK(store.calls == 1);  // from the cache
  auto retry = order("k-2");
  REQUIRE(retry.ok());
  CHECK(retry->id == second->id);  // the stored answer, not a second order
  CHECK(store.calls == 1);

  // customer-store erases the customer; until its event is consumed the
  // cache still accepts orders (the documented window) ...
  store.reads_as.erase(customer);
  CHECK(order("k-3").ok());
  // ... and once the transaction group has consumed it, none is accepted.
  api::CustomerEventHandler handler(pipeline, &known);
  const std::string base = ts::UniqueName("t_known_orders");
  events::Consumer consumer(*env.redis, Options(base, base + "_g"),
                            [&](const std::vector<events::Event>& batch) {
                              return handler.HandleBatch(batch);
                            });
  REQUIRE(consumer.EnsureGroups().ok());
  Publish(base + ":p0", Erased(tenant, customer, {}));
  Drain(consumer, 1);
  auto refused = order("k-4");
  CHECK(common::ReasonOf(refused.status()) == "CUSTOMER_NOT_FOUND");
  CHECK(store.calls == 2);
  // A retry of an order accepted before is still answered as it was.
  auto replay = order("k-3");
  CHECK(replay.ok());
}

}  // namespace crm::transaction::itest
