// customer.erased consumed by the transaction engine: the real consumer
// (libs/events, Redis Streams) with api::CustomerEventHandler over
// app::Pipeline and PgPipelineRepository (app role, RLS on). Schema txn is
// reset once per process; every test works in its own random tenant and its
// own streams and consumer group.
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include <catch2/catch.hpp>
#include <pqxx/pqxx>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "libs/common/clock.h"
#include "libs/common/id.h"
#include "libs/events/consumer.h"
#include "libs/pg/pool.h"
#include "services/transaction/api/customer_events.h"
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
using absl::CivilDay;
using domain::Lead;
using domain::Opportunity;

struct Env {
  std::unique_ptr<crm::pg::Pool> pool;
  std::unique_ptr<crm::redis::Pool> redis;
  std::unique_ptr<storage::PgOrderRepository> orders;
  std::unique_ptr<storage::PgPipelineRepository> pipeline_repo;
  common::SystemClock clock;
  common::RandomIdGenerator ids;
  std::unique_ptr<app::Orders> orders_app;
  std::unique_ptr<app::Pipeline> pipeline;
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
    e->orders = std::make_unique<storage::PgOrderRepository>(*e->pool);
    e->pipeline_repo =
        std::make_unique<storage::PgPipelineRepository>(*e->pool, e->orders.get());
    e->orders_app = std::make_unique<app::Orders>(*e->orders, e->clock, e->ids);
    // No directory: customer ids are not checked here (customer-store is not
    // part of this test).
    e->pipeline = std::make_unique<app::Pipeline>(*e->pipeline_repo, *e->orders_app, nullptr,
                                                  e->clock, e->ids);
    return e;
  }();
  return *env;
}

app::Actor ActorOf(const std::string& tenant, const std::string& method) {
  return app::Actor{tenant, "k-itest", "req-itest", method, common::NewUuid(), "fp"};
}

Lead NewLead(const std::string& email) {
  Lead l;
  l.given_name = "Grace";
  l.family_name = "Hopper";
  l.company_name = "Navy";
  l.email = email;
  l.phone = "+41446681800";
  return l;
}

Opportunity ConvertOpp() {
  Opportunity o;
  o.currency_code = "CHF";
  o.amount_minor = 1000;
  o.expected_close_date = CivilDay(2026, 6, 30);
  return o;
}

// A lead converted into `customer`; returns the conversion.
app::Conversion Converted(const std::string& tenant, const std::string& customer,
                          const app::Actor& convert) {
  auto l = TheEnv().pipeline->CreateLead(ActorOf(tenant, "CreateLead"), NewLead("g@example.com"));
  REQUIRE(l.ok());
  auto c = TheEnv().pipeline->ConvertLead(convert, l->id, customer, ConvertOpp());
  INFO(c.status().ToString());
  REQUIRE(c.ok());
  return *c;
}

events::v1::EventEnvelope Erased(const std::string& tenant, const std::string& event_id,
                                 const std::string& customer,
                                 const std::vector<std::string>& merged) {
  events::v1::EventEnvelope e;
  e.set_event_id(event_id);
  e.set_tenant_id(tenant);
  e.set_customer_id(customer);
  e.set_type("customer.erased");
  e.set_producer("customer-store");
  e.set_schema_version(1);
  std::string ids = absl::StrCat("\"", customer, "\"");
  for (const auto& m : merged) absl::StrAppend(&ids, ",\"", m, "\"");
  e.set_payload_json(absl::StrCat(R"({"customer_id":")", customer,
                                  R"(","erased_customer_ids":[)", ids, "]}"));
  return e;
}

events::ConsumerOptions Options(const std::string& base) {
  events::ConsumerOptions o;
  o.group = base + "_g";
  o.consumer = "c1";
  o.partitions = 1;
  o.stream_prefix = base + ":p";
  o.dead_letter_stream = base + ":dead";
  o.block = absl::Milliseconds(50);
  return o;
}

void Publish(const std::string& stream, const events::v1::EventEnvelope& e) {
  auto r = TheEnv().redis->Command(
      {"XADD", stream, "*", "event_id", e.event_id(), "envelope", e.SerializeAsString()});
  INFO(r.status().ToString());
  REQUIRE(r.ok());
}

// Polls a fresh consumer (so its in-memory dedup knows nothing) until it has
// handled one entry.
void ConsumeOne(const std::string& base, api::CustomerEventHandler& handler) {
  events::Consumer consumer(*TheEnv().redis, Options(base), [&](const events::Event& e) {
    return handler.Handle(e.envelope);
  });
  const absl::Time deadline = absl::Now() + absl::Seconds(5);
  int handled = 0;
  while (handled == 0 && absl::Now() < deadline) {
    auto n = consumer.PollOnce();
    INFO(n.status().ToString());
    REQUIRE(n.ok());
    handled += *n;
  }
  REQUIRE(handled == 1);
}

int64_t CountIn(const std::string& tenant, const std::string& sql) {
  int64_t n = -1;
  absl::Status s = TheEnv().pool->WithTenantTx(tenant, [&](pqxx::work& tx) {
    n = tx.exec1(sql)[0].as<int64_t>();
    return absl::OkStatus();
  });
  INFO(sql << " -> " << s.ToString());
  REQUIRE(s.ok());
  return n;
}

}  // namespace

TEST_CASE("customer.erased erases the pipeline's personal data of the customer and its merged ids",
          "[transaction][erasure][integration]") {
  Env& env = TheEnv();
  const std::string tenant = common::NewUuid();
  const std::string other_tenant = common::NewUuid();
  const std::string customer = common::NewUuid();
  const std::string merged = common::NewUuid();
  app::Actor convert = ActorOf(tenant, "ConvertLead");
  app::Conversion c = Converted(tenant, customer, convert);
  app::Conversion m = Converted(tenant, merged, ActorOf(tenant, "ConvertLead"));
  auto unconverted =
      env.pipeline->CreateLead(ActorOf(tenant, "CreateLead"), NewLead("g@example.com"));
  REQUIRE(unconverted.ok());
  // Another tenant's lead converted into the same id: untouched.
  app::Conversion foreign = Converted(other_tenant, customer, ActorOf(other_tenant, "ConvertLead"));

  api::CustomerEventHandler handler(*env.pipeline);
  const std::string base = ts::UniqueName("t_erasure");
  const std::string event_id = common::NewUuid();
  Publish(base + ":p0", Erased(tenant, event_id, customer, {merged}));
  ConsumeOne(base, handler);

  for (const auto& id : {c.lead.id, m.lead.id}) {
    auto l = env.pipeline->GetLead(tenant, id);
    REQUIRE(l.ok());
    CHECK(l->given_name.empty());
    CHECK(l->family_name.empty());
    CHECK(l->email.empty());
    CHECK(l->phone.empty());
    CHECK(l->company_name == "Navy");
    CHECK(l->customer_id.size() == 36);
  }
  auto o = env.pipeline->GetOpportunity(tenant, c.opportunity.id);
  REQUIRE(o.ok());
  CHECK(o->name == domain::kErasedName);
  CHECK(o->version == c.opportunity.version + 1);
  CHECK(env.pipeline->GetLead(tenant, unconverted->id)->email == "g@example.com");
  CHECK(env.pipeline->GetLead(other_tenant, foreign.lead.id)->email == "g@example.com");
  CHECK(CountIn(tenant, "SELECT count(*) FROM txn.outbox WHERE event_type = 'lead.updated'") == 2);
  CHECK(CountIn(tenant, "SELECT count(*) FROM txn.outbox WHERE event_type = "
                        "'opportunity.updated'") == 2);
  CHECK(CountIn(tenant, "SELECT count(*) FROM txn.audit_log WHERE method = 'EraseCustomerData' "
                        "AND outcome = 'OK'") == 1);

  // A replay of the conversion answers the stored answer, erased too.
  auto replay = env.pipeline->ConvertLead(convert, c.lead.id, customer, ConvertOpp());
  REQUIRE(replay.ok());
  CHECK(replay->lead.email.empty());
  CHECK(replay->lead.given_name.empty());
  CHECK(replay->opportunity.name == domain::kErasedName);
  CHECK(CountIn(tenant, "SELECT count(*) FROM txn.idempotency_keys WHERE response LIKE "
                        "'%g@example.com%'") == 1);  // the unconverted lead's own creation

  // The same event delivered again (a republish, a new consumer): applied once.
  Publish(base + ":p0", Erased(tenant, event_id, customer, {merged}));
  ConsumeOne(base, handler);
  CHECK(env.pipeline->GetOpportunity(tenant, c.opportunity.id)->version == o->version);
  CHECK(CountIn(tenant, "SELECT count(*) FROM txn.outbox WHERE event_type = 'lead.updated'") == 2);
}

TEST_CASE("CustomerErasureOf reads customer.erased and ignores other events",
          "[transaction][erasure][integration]") {
  events::v1::EventEnvelope e = Erased("t", "e", "c1", {"c2", "c1"});
  auto x = api::CustomerErasureOf(e);
  REQUIRE(x.ok());
  REQUIRE(x->has_value());
  CHECK((*x)->customer_ids == std::vector<std::string>{"c1", "c2"});
  e.set_payload_json(R"({"customer_id":"c1"})");  // before merged ids were listed
  CHECK(api::CustomerErasureOf(e)->value().customer_ids == std::vector<std::string>{"c1"});
  e.set_payload_json("nope");
  CHECK(api::CustomerErasureOf(e).status().code() == absl::StatusCode::kInvalidArgument);
  e.set_type("customer.updated");
  CHECK_FALSE(api::CustomerErasureOf(e)->has_value());
}

}  // namespace crm::transaction::itest
