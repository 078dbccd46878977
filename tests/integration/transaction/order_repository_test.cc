// PgOrderRepository, driven through its port (app::OrderTx), against the
// private PostgreSQL (app role, RLS on).
// Schema txn is reset once per process (every ctest test is a process of its
// own); every test also works in its own random tenant.
#include "services/transaction/storage/pg_order_repository.h"

#include <atomic>
#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <catch2/catch.hpp>
#include <pqxx/pqxx>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "libs/common/errors.h"
#include "libs/common/id.h"
#include "libs/common/status_macros.h"
#include "libs/pg/pool.h"
#include "services/transaction/app/catalog.h"
#include "services/transaction/app/orders.h"
#include "services/transaction/storage/pg_product_repository.h"
#include "tests/support/pg_test_db.h"

namespace crm::transaction::itest {
namespace {

namespace ts = crm::test_support;
using absl::StatusCode;
using common::FieldOf;
using common::ReasonOf;
using domain::Order;
using domain::OrderLine;
using domain::OrderStatus;

struct Env {
  std::unique_ptr<crm::pg::Pool> pool;
  std::unique_ptr<storage::PgProductRepository> products;
  std::unique_ptr<storage::PgOrderRepository> orders;
};

Env& TheEnv() {
  static Env* env = [] {
    auto* e = new Env;
    e->pool = ts::FreshSchemaPool("transaction", "txn", 4,
                                  {storage::PgProductRepository::Queries(),
                                   storage::PgOrderRepository::Queries()});
    e->products = std::make_unique<storage::PgProductRepository>(*e->pool);
    e->orders = std::make_unique<storage::PgOrderRepository>(*e->pool);
    return e;
  }();
  return *env;
}

storage::PgOrderRepository& Repo() { return *TheEnv().orders; }
crm::pg::Pool& AppPool() { return *TheEnv().pool; }

std::string NewTenant() { return common::NewUuid(); }

app::Actor ActorOf(const std::string& tenant, const std::string& method, const std::string& key,
                   const std::string& fingerprint = "fp-1") {
  app::Actor a;
  a.tenant_id = tenant;
  a.principal = "user:itest";
  a.request_id = "req-itest";
  a.method = method;
  a.idempotency_key = key;
  a.fingerprint = fingerprint;
  return a;
}

// The writes below drive the repository through its port (app::OrderTx)
// with the app layer's write functions, given the test's own orders and
// times, so each statement and event of the adapter is checked on its own.
absl::StatusOr<Order> Insert(const app::Actor& a, const Order& o) {
  return Repo().Run<Order>(a, o.id, [&](app::OrderTx& tx) -> absl::StatusOr<Order> {
    CRM_RETURN_IF_ERROR(app::WriteNewOrder(tx, o));
    return o;
  });
}
absl::StatusOr<Order> Transition(const app::Actor& a, const std::string& id, OrderStatus to,
                                 absl::Time now) {
  return Repo().Run<Order>(
      a, id, [&](app::OrderTx& tx) { return app::WriteOrderTransition(tx, id, to, now); });
}

void AddProduct(const std::string& tenant, const std::string& sku) {
  domain::Product p;
  p.sku = sku;
  p.name = "Product " + sku;
  p.category_path = {"Music", "Jazz"};
  p.price = {1990, "CHF"};
  p.active = true;
  p.version = 1;
  p.create_time = absl::FromUnixMicros(1700000000000000);
  p.update_time = p.create_time;
  app::Actor a = ActorOf(tenant, "CreateProduct", "", "");
  auto r = TheEnv().products->Run<domain::Product>(
      a, p.sku, [&](app::ProductTx& tx) { return app::WriteNewProduct(tx, p); });
  INFO(r.status().ToString());
  REQUIRE(r.ok());
}

OrderLine Line(const std::string& sku, int64_t quantity, int64_t price, int64_t discount = 0) {
  return OrderLine{sku, quantity, price, discount, quantity * price - discount};
}

// A valid order as Orders::Create hands it to the repository.
Order NewOrder(const std::string& customer, std::vector<OrderLine> lines,
               absl::Time placed = absl::FromUnixMicros(1700000000111111)) {
  Order o;
  o.id = common::NewUuid();
  o.customer_id = customer;
  o.currency_code = "CHF";
  o.lines = std::move(lines);
  for (const auto& l : o.lines) o.total_minor += l.line_total_minor;
  o.channel = domain::SalesChannel::kWeb;
  o.store_id = "zurich-1";
  o.placed_time = placed;
  o.status = OrderStatus::kPlaced;
  o.version = 1;
  o.create_time = absl::FromUnixMicros(1700000000222222);
  o.update_time = o.create_time;
  return o;
}

// count(*) of a txn query in the tenant's RLS scope (app role).
int64_t CountIn(const std::string& tenant, const std::string& sql) {
  int64_t n = -1;
  absl::Status s = AppPool().WithTenantTx(tenant, [&](pqxx::work& tx) {
    n = tx.exec1(sql)[0].as<int64_t>();
    return absl::OkStatus();
  });
  INFO(sql << " -> " << s.ToString());
  REQUIRE(s.ok());
  return n;
}

int64_t CountOrders(const std::string& tenant) {
  return CountIn(tenant, "SELECT count(*) FROM txn.orders");
}
int64_t CountLines(const std::string& tenant) {
  return CountIn(tenant, "SELECT count(*) FROM txn.order_lines");
}
// Order events only (the catalog's product.* events are left out).
int64_t CountOutbox(const std::string& tenant, const std::string& type = "") {
  std::string sql = "SELECT count(*) FROM txn.outbox WHERE event_type LIKE 'order.%'";
  if (!type.empty()) absl::StrAppend(&sql, " AND event_type = '", type, "'");
  return CountIn(tenant, sql);
}

void RequireSameOrder(const Order& a, const Order& b) {
  CHECK(a.id == b.id);
  CHECK(a.customer_id == b.customer_id);
  CHECK(a.currency_code == b.currency_code);
  CHECK(a.total_minor == b.total_minor);
  CHECK(a.channel == b.channel);
  CHECK(a.store_id == b.store_id);
  CHECK(a.placed_time == b.placed_time);
  CHECK(a.status == b.status);
  CHECK(a.version == b.version);
  CHECK(a.create_time == b.create_time);
  CHECK(a.update_time == b.update_time);
  REQUIRE(a.lines.size() == b.lines.size());
  for (size_t i = 0; i < a.lines.size(); ++i) {
    INFO("line " << i);
    CHECK(a.lines[i].sku == b.lines[i].sku);
    CHECK(a.lines[i].quantity == b.lines[i].quantity);
    CHECK(a.lines[i].unit_price_minor == b.lines[i].unit_price_minor);
    CHECK(a.lines[i].discount_minor == b.lines[i].discount_minor);
    CHECK(a.lines[i].line_total_minor == b.lines[i].line_total_minor);
  }
}

Order InsertOk(const std::string& tenant, const Order& o, const std::string& key = "") {
  auto r = Insert(ActorOf(tenant, "CreateOrder", key.empty() ? common::NewUuid() : key), o);
  INFO(r.status().ToString());
  REQUIRE(r.ok());
  return *r;
}

Order MoveOk(const std::string& tenant, const std::string& id, OrderStatus to, absl::Time now,
             const std::string& key = "") {
  auto r = Transition(ActorOf(tenant, "TransitionOrder", key.empty() ? common::NewUuid() : key,
                              absl::StrCat("fp-", id, "-", static_cast<int>(to))),
                      id, to, now);
  INFO(r.status().ToString());
  REQUIRE(r.ok());
  return *r;
}

// A tenant whose catalog has SKU-A, SKU-B, SKU-C.
std::string TenantWithCatalog() {
  std::string tenant = NewTenant();
  for (const char* sku : {"SKU-A", "SKU-B", "SKU-C"}) AddProduct(tenant, sku);
  return tenant;
}

// ----------------------------------------------------------- insert and get

TEST_CASE("Insert then Get round-trips every field and keeps the line order",
          "[transaction][orders][repository]") {
  const std::string tenant = TenantWithCatalog();
  const std::string customer = common::NewUuid();
  Order o = NewOrder(customer, {Line("SKU-C", 3, 1000, 500), Line("SKU-A", 1, 0),
                                Line("SKU-B", 1'000'000, 1'000'000'000, 7),
                                Line("SKU-A", 2, 250)});
  o.currency_code = "KWD";
  o.channel = domain::SalesChannel::kCallCenter;
  o.store_id = "Grüße 'store' \"7\"";
  Order inserted = InsertOk(tenant, o);
  RequireSameOrder(inserted, o);
  auto got = Repo().Get(tenant, o.id);
  INFO(got.status().ToString());
  REQUIRE(got.ok());
  RequireSameOrder(*got, o);
  CHECK(CountOrders(tenant) == 1);
  CHECK(CountLines(tenant) == 4);
}

TEST_CASE("Get of a missing order is NOT_FOUND ORDER_NOT_FOUND", "[transaction][orders][repository]") {
  auto r = Repo().Get(NewTenant(), common::NewUuid());
  INFO(r.status().ToString());
  REQUIRE(r.status().code() == StatusCode::kNotFound);
  CHECK(ReasonOf(r.status()) == "ORDER_NOT_FOUND");
}

TEST_CASE("Insert writes one order.placed event partitioned by the customer",
          "[transaction][orders][repository]") {
  const std::string tenant = TenantWithCatalog();
  const std::string customer = common::NewUuid();
  Order o = InsertOk(tenant, NewOrder(customer, {Line("SKU-A", 2, 1990)}));
  CHECK(CountOutbox(tenant, "order.placed") == 1);
  CHECK(CountIn(tenant, absl::StrCat("SELECT count(*) FROM txn.outbox WHERE customer_id = '",
                                     customer, "' AND payload->>'customer_id' = '", customer,
                                     "' AND payload->>'order_id' = '", o.id,
                                     "' AND payload->>'total_minor' = '3980'")) == 1);
  CHECK(CountIn(tenant, absl::StrCat("SELECT count(*) FROM txn.audit_log WHERE method = "
                                     "'CreateOrder' AND outcome = 'OK' AND resource = '",
                                     o.id, "'")) == 1);
}

TEST_CASE("An unknown SKU is INVALID_ARGUMENT UNKNOWN_SKU on lines[i].sku and writes nothing",
          "[transaction][orders][repository]") {
  const std::string tenant = TenantWithCatalog();
  Order o = NewOrder(common::NewUuid(),
                     {Line("SKU-A", 1, 100), Line("SKU-A", 1, 100), Line("NOT-SOLD", 1, 100)});
  auto r = Insert(ActorOf(tenant, "CreateOrder", common::NewUuid()), o);
  INFO(r.status().ToString());
  REQUIRE(r.status().code() == StatusCode::kInvalidArgument);
  CHECK(ReasonOf(r.status()) == "UNKNOWN_SKU");
  CHECK(FieldOf(r.status()) == "lines[2].sku");
  CHECK(absl::StrContains(r.status().message(), "NOT-SOLD"));
  CHECK(CountOrders(tenant) == 0);
  CHECK(CountLines(tenant) == 0);
  CHECK(CountOutbox(tenant) == 0);
  CHECK(Repo().Get(tenant, o.id).status().code() == StatusCode::kNotFound);
}

TEST_CASE("SKUs are case-sensitive and per tenant when ordering",
          "[transaction][orders][repository]") {
  const std::string tenant = TenantWithCatalog();
  auto r = Insert(ActorOf(tenant, "CreateOrder", common::NewUuid()),
                  NewOrder(common::NewUuid(), {Line("sku-a", 1, 1)}));
  CHECK(ReasonOf(r.status()) == "UNKNOWN_SKU");
  // Another tenant's catalog does not count.
  const std::string empty = NewTenant();
  auto other = Insert(ActorOf(empty, "CreateOrder", common::NewUuid()),
                      NewOrder(common::NewUuid(), {Line("SKU-A", 1, 1)}));
  CHECK(ReasonOf(other.status()) == "UNKNOWN_SKU");
  CHECK(FieldOf(other.status()) == "lines[0].sku");
  CHECK(CountOrders(empty) == 0);
}

// --------------------------------------------------------------- idempotency

TEST_CASE("Same key and fingerprint answers the first order exactly, one row, one event",
          "[transaction][orders][repository][idempotency]") {
  const std::string tenant = TenantWithCatalog();
  const std::string customer = common::NewUuid();
  const std::string key = common::NewUuid();
  Order first_in = NewOrder(customer, {Line("SKU-A", 2, 1990), Line("SKU-B", 1, 500, 100)});
  Order first = InsertOk(tenant, first_in, key);
  // The retry is a new call: the use case gave it a new id and new times.
  Order retry_in = first_in;
  retry_in.id = common::NewUuid();
  retry_in.placed_time = absl::FromUnixMicros(1700000099000001);
  retry_in.create_time = retry_in.update_time = absl::FromUnixMicros(1700000099000002);
  auto again = Insert(ActorOf(tenant, "CreateOrder", key), retry_in);
  INFO(again.status().ToString());
  REQUIRE(again.ok());
  RequireSameOrder(*again, first);
  CHECK(CountOrders(tenant) == 1);
  CHECK(CountLines(tenant) == 2);
  CHECK(CountOutbox(tenant) == 1);
  CHECK(Repo().Get(tenant, retry_in.id).status().code() == StatusCode::kNotFound);
}

TEST_CASE("Same key with another fingerprint is IDEMPOTENCY_KEY_REUSED",
          "[transaction][orders][repository][idempotency]") {
  const std::string tenant = TenantWithCatalog();
  const std::string key = common::NewUuid();
  InsertOk(tenant, NewOrder(common::NewUuid(), {Line("SKU-A", 1, 100)}), key);
  auto r = Insert(ActorOf(tenant, "CreateOrder", key, "fp-other"),
                  NewOrder(common::NewUuid(), {Line("SKU-B", 5, 100)}));
  INFO(r.status().ToString());
  REQUIRE(r.status().code() == StatusCode::kInvalidArgument);
  CHECK(ReasonOf(r.status()) == "IDEMPOTENCY_KEY_REUSED");
  CHECK(FieldOf(r.status()) == "request_id");
  CHECK(CountOrders(tenant) == 1);
  CHECK(CountOutbox(tenant) == 1);
  // The key still answers the first order to its own fingerprint.
  auto replay = Insert(ActorOf(tenant, "CreateOrder", key),
                       NewOrder(common::NewUuid(), {Line("SKU-A", 1, 100)}));
  REQUIRE(replay.ok());
  CHECK(replay->lines.at(0).sku == "SKU-A");
}

TEST_CASE("A refused create replays the same refusal even after the SKU exists",
          "[transaction][orders][repository][idempotency]") {
  const std::string tenant = TenantWithCatalog();
  const std::string key = common::NewUuid();
  Order o = NewOrder(common::NewUuid(), {Line("SKU-A", 1, 100), Line("LATER-1", 1, 100)});
  auto first = Insert(ActorOf(tenant, "CreateOrder", key), o);
  INFO("first: " << first.status().ToString());
  REQUIRE(first.status().code() == StatusCode::kInvalidArgument);
  REQUIRE(ReasonOf(first.status()) == "UNKNOWN_SKU");
  REQUIRE(FieldOf(first.status()) == "lines[1].sku");
  AddProduct(tenant, "LATER-1");
  Order retry = o;
  retry.id = common::NewUuid();
  auto again = Insert(ActorOf(tenant, "CreateOrder", key), retry);
  INFO("again: " << again.status().ToString());
  REQUIRE(again.status().code() == StatusCode::kInvalidArgument);
  CHECK(ReasonOf(again.status()) == "UNKNOWN_SKU");
  CHECK(again.status().message() == first.status().message());
  CHECK(FieldOf(again.status()) == FieldOf(first.status()));
  CHECK(CountOrders(tenant) == 0);
  CHECK(CountOutbox(tenant) == 0);
  // A new key is a new request: now it succeeds.
  Order created = InsertOk(tenant, retry);
  CHECK(created.id == retry.id);
}

TEST_CASE("Concurrent creates with the same key make one order",
          "[transaction][orders][repository][idempotency]") {
  const std::string tenant = TenantWithCatalog();
  const std::string customer = common::NewUuid();
  for (int round = 0; round < 5; ++round) {
    INFO("round " << round);
    const std::string key = common::NewUuid();
    std::vector<absl::StatusOr<Order>> results(2, absl::UnknownError("not run"));
    std::vector<std::string> ids = {common::NewUuid(), common::NewUuid()};
    std::atomic<int> ready{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < 2; ++t) {
      threads.emplace_back([&, t] {
        Order o = NewOrder(customer, {Line("SKU-A", 1, 100)});
        o.id = ids[t];
        ready.fetch_add(1);
        for (int spin = 0; spin < 1'000'000 && ready.load() < 2; ++spin) std::this_thread::yield();
        results[t] = Insert(ActorOf(tenant, "CreateOrder", key), o);
      });
    }
    for (auto& th : threads) th.join();
    for (int t = 0; t < 2; ++t) {
      INFO("thread " << t << ": " << results[t].status().ToString());
      REQUIRE(results[t].ok());
    }
    CHECK(results[0]->id == results[1]->id);
    CHECK((results[0]->id == ids[0] || results[0]->id == ids[1]));
    CHECK(CountIn(tenant, absl::StrCat("SELECT count(*) FROM txn.orders WHERE id IN ('", ids[0],
                                       "', '", ids[1], "')")) == 1);
  }
  CHECK(CountOrders(tenant) == 5);
  CHECK(CountOutbox(tenant, "order.placed") == 5);
}

// ---------------------------------------------------------------- transition

TEST_CASE("Allowed transitions bump the version and emit order.<status> with the customer",
          "[transaction][orders][repository][transition]") {
  const std::string tenant = TenantWithCatalog();
  const std::string customer = common::NewUuid();
  Order o = InsertOk(tenant, NewOrder(customer, {Line("SKU-A", 2, 1990)}));
  int64_t version = 1;
  absl::Time now = absl::FromUnixMicros(1700000100000000);
  for (OrderStatus to : {OrderStatus::kPaid, OrderStatus::kFulfilled, OrderStatus::kCompleted}) {
    const std::string name = domain::StatusName(to);
    INFO(name);
    now += absl::Seconds(1);
    Order moved = MoveOk(tenant, o.id, to, now);
    CHECK(moved.status == to);
    CHECK(moved.version == ++version);
    CHECK(moved.update_time == now);
    CHECK(moved.create_time == o.create_time);
    REQUIRE(moved.lines.size() == 1);
    CHECK(moved.lines[0].line_total_minor == 3980);
    auto got = Repo().Get(tenant, o.id);
    REQUIRE(got.ok());
    RequireSameOrder(*got, moved);
    CHECK(CountIn(tenant, absl::StrCat("SELECT count(*) FROM txn.outbox WHERE event_type = 'order.",
                                       name, "' AND customer_id = '", customer,
                                       "' AND payload->>'customer_id' = '", customer,
                                       "' AND payload->>'status' = '", name,
                                       "' AND (payload->>'version')::int = ", version)) == 1);
  }
  CHECK(CountOutbox(tenant) == 4);
  // The cancelled branch from paid.
  Order p = InsertOk(tenant, NewOrder(customer, {Line("SKU-B", 1, 10)}));
  MoveOk(tenant, p.id, OrderStatus::kPaid, now);
  Order c = MoveOk(tenant, p.id, OrderStatus::kCancelled, now + absl::Seconds(1));
  CHECK(c.status == OrderStatus::kCancelled);
  CHECK(c.version == 3);
  CHECK(CountOutbox(tenant, "order.cancelled") == 1);
}

TEST_CASE("A refused transition is FAILED_PRECONDITION naming the status and writes nothing",
          "[transaction][orders][repository][transition]") {
  const std::string tenant = TenantWithCatalog();
  Order o = InsertOk(tenant, NewOrder(common::NewUuid(), {Line("SKU-A", 1, 1)}));
  auto r = Transition(ActorOf(tenant, "TransitionOrder", common::NewUuid()), o.id,
                      OrderStatus::kFulfilled, absl::FromUnixMicros(1700000200000000));
  INFO(r.status().ToString());
  REQUIRE(r.status().code() == StatusCode::kFailedPrecondition);
  CHECK(ReasonOf(r.status()) == "INVALID_ORDER_TRANSITION");
  CHECK(absl::StrContains(r.status().message(), "placed"));
  auto got = Repo().Get(tenant, o.id);
  REQUIRE(got.ok());
  RequireSameOrder(*got, o);
  CHECK(CountOutbox(tenant) == 1);
}

TEST_CASE("A replayed transition answers the first call's snapshot after later moves",
          "[transaction][orders][repository][transition][idempotency]") {
  const std::string tenant = TenantWithCatalog();
  Order o = InsertOk(tenant, NewOrder(common::NewUuid(), {Line("SKU-A", 1, 1)}));
  const std::string key = common::NewUuid();
  const std::string fp = "fp-pay";
  const absl::Time t1 = absl::FromUnixMicros(1700000300000001);
  auto paid = Transition(ActorOf(tenant, "TransitionOrder", key, fp), o.id, OrderStatus::kPaid, t1);
  INFO(paid.status().ToString());
  REQUIRE(paid.ok());
  MoveOk(tenant, o.id, OrderStatus::kFulfilled, t1 + absl::Seconds(1));
  MoveOk(tenant, o.id, OrderStatus::kCompleted, t1 + absl::Seconds(2));
  auto replay = Transition(ActorOf(tenant, "TransitionOrder", key, fp), o.id, OrderStatus::kPaid,
                           t1 + absl::Seconds(3));
  INFO(replay.status().ToString());
  REQUIRE(replay.ok());
  RequireSameOrder(*replay, *paid);
  CHECK(replay->status == OrderStatus::kPaid);
  CHECK(replay->version == 2);
  CHECK(replay->update_time == t1);
  // Nothing was written by the replay.
  auto got = Repo().Get(tenant, o.id);
  REQUIRE(got.ok());
  CHECK(got->status == OrderStatus::kCompleted);
  CHECK(got->version == 4);
  CHECK(CountOutbox(tenant, "order.paid") == 1);
  CHECK(CountOutbox(tenant) == 4);
}

TEST_CASE("A refused transition stays refused with the same message after the order moved on",
          "[transaction][orders][repository][transition][idempotency]") {
  const std::string tenant = TenantWithCatalog();
  Order o = InsertOk(tenant, NewOrder(common::NewUuid(), {Line("SKU-A", 1, 1)}));
  const std::string key = common::NewUuid();
  const absl::Time t = absl::FromUnixMicros(1700000400000000);
  auto first = Transition(ActorOf(tenant, "TransitionOrder", key, "fp-complete"), o.id,
                          OrderStatus::kCompleted, t);
  INFO("first: " << first.status().ToString());
  REQUIRE(first.status().code() == StatusCode::kFailedPrecondition);
  REQUIRE(absl::StrContains(first.status().message(), "placed"));
  MoveOk(tenant, o.id, OrderStatus::kPaid, t + absl::Seconds(1));
  MoveOk(tenant, o.id, OrderStatus::kFulfilled, t + absl::Seconds(2));
  // fulfilled -> completed would be allowed now, but the key answers its first refusal.
  auto again = Transition(ActorOf(tenant, "TransitionOrder", key, "fp-complete"), o.id,
                          OrderStatus::kCompleted, t + absl::Seconds(3));
  INFO("again: " << again.status().ToString());
  REQUIRE(again.status().code() == StatusCode::kFailedPrecondition);
  CHECK(ReasonOf(again.status()) == "INVALID_ORDER_TRANSITION");
  CHECK(again.status().message() == first.status().message());
  auto got = Repo().Get(tenant, o.id);
  REQUIRE(got.ok());
  CHECK(got->status == OrderStatus::kFulfilled);
  CHECK(got->version == 3);
  CHECK(CountOutbox(tenant, "order.completed") == 0);
}

TEST_CASE("Transition of a missing order is NOT_FOUND ORDER_NOT_FOUND",
          "[transaction][orders][repository][transition]") {
  const std::string tenant = NewTenant();
  auto r = Transition(ActorOf(tenant, "TransitionOrder", common::NewUuid()), common::NewUuid(),
                      OrderStatus::kPaid, absl::FromUnixMicros(1700000500000000));
  REQUIRE(r.status().code() == StatusCode::kNotFound);
  CHECK(ReasonOf(r.status()) == "ORDER_NOT_FOUND");
}

// ---------------------------------------------------------------------- list

std::vector<std::string> Ids(const app::OrderPage& page) {
  std::vector<std::string> out;
  for (const auto& o : page.items) out.push_back(o.id);
  return out;
}

// Every id of a listing, following cursors (bounded).
std::vector<std::string> ListAll(const std::string& tenant, app::OrderQuery q) {
  std::vector<std::string> out;
  for (int page = 0; page < 50; ++page) {
    auto r = Repo().List(tenant, q);
    INFO(r.status().ToString());
    REQUIRE(r.ok());
    CHECK(static_cast<int>(r->items.size()) <= q.limit);
    for (const auto& o : r->items) {
      CHECK(o.lines.size() == 1);  // lines are loaded on listed orders too
      out.push_back(o.id);
    }
    if (r->next_cursor.empty()) return out;
    q.before_cursor = r->next_cursor;
  }
  FAIL("paging did not end within 50 pages");
  return out;
}

TEST_CASE("List is newest first with customer and status filters and paging",
          "[transaction][orders][repository][list]") {
  const std::string tenant = TenantWithCatalog();
  const std::string alice = common::NewUuid();
  const std::string bob = common::NewUuid();
  // placed_time order: o[4] newest; o[1] and o[2] share a placed_time (tie on id).
  const absl::Time base = absl::FromUnixMicros(1700000000000000);
  std::vector<Order> o;
  o.push_back(InsertOk(tenant, NewOrder(alice, {Line("SKU-A", 1, 1)}, base)));
  o.push_back(InsertOk(tenant, NewOrder(bob, {Line("SKU-A", 1, 1)}, base + absl::Seconds(10))));
  o.push_back(InsertOk(tenant, NewOrder(alice, {Line("SKU-B", 1, 1)}, base + absl::Seconds(10))));
  o.push_back(InsertOk(tenant, NewOrder(alice, {Line("SKU-C", 1, 1)}, base + absl::Seconds(20))));
  o.push_back(InsertOk(tenant, NewOrder(bob, {Line("SKU-C", 1, 1)}, base + absl::Seconds(30))));
  MoveOk(tenant, o[2].id, OrderStatus::kPaid, base + absl::Seconds(40));
  MoveOk(tenant, o[4].id, OrderStatus::kPaid, base + absl::Seconds(41));
  // Newest first; the tie broken by id descending.
  const std::string tie_first = o[1].id > o[2].id ? o[1].id : o[2].id;
  const std::string tie_second = o[1].id > o[2].id ? o[2].id : o[1].id;
  const std::vector<std::string> all = {o[4].id, o[3].id, tie_first, tie_second, o[0].id};

  app::OrderQuery q;
  q.limit = 100;
  auto one_page = Repo().List(tenant, q);
  REQUIRE(one_page.ok());
  CHECK(Ids(*one_page) == all);
  CHECK(one_page->next_cursor.empty());

  for (int limit : {1, 2, 3}) {
    INFO("limit " << limit);
    q.limit = limit;
    CHECK(ListAll(tenant, q) == all);
  }
  q.limit = 2;
  q.customer_id = alice;
  CHECK(ListAll(tenant, q) == std::vector<std::string>{o[3].id, o[2].id, o[0].id});
  q.customer_id = "";
  q.status = OrderStatus::kPaid;
  CHECK(ListAll(tenant, q) == std::vector<std::string>{o[4].id, o[2].id});
  q.customer_id = bob;
  CHECK(ListAll(tenant, q) == std::vector<std::string>{o[4].id});
  q.status = OrderStatus::kPlaced;
  CHECK(ListAll(tenant, q) == std::vector<std::string>{o[1].id});
  q.status = OrderStatus::kCompleted;
  CHECK(ListAll(tenant, q).empty());

  app::OrderQuery bad;
  bad.before_cursor = "garbage";
  auto r = Repo().List(tenant, bad);
  CHECK(r.status().code() == StatusCode::kInvalidArgument);
  CHECK(ReasonOf(r.status()) == "INVALID_PAGE_TOKEN");
}

// ------------------------------------------------------------ tenant isolation

TEST_CASE("Another tenant's order is NOT_FOUND and keys are per tenant",
          "[transaction][orders][repository][tenant]") {
  const std::string a = TenantWithCatalog();
  const std::string b = TenantWithCatalog();
  const std::string key = common::NewUuid();
  Order oa = InsertOk(a, NewOrder(common::NewUuid(), {Line("SKU-A", 1, 1)}), key);

  auto get = Repo().Get(b, oa.id);
  REQUIRE(get.status().code() == StatusCode::kNotFound);
  CHECK(ReasonOf(get.status()) == "ORDER_NOT_FOUND");
  auto move = Transition(ActorOf(b, "TransitionOrder", common::NewUuid()), oa.id,
                         OrderStatus::kPaid, absl::FromUnixMicros(1700000600000000));
  REQUIRE(move.status().code() == StatusCode::kNotFound);
  CHECK(ReasonOf(move.status()) == "ORDER_NOT_FOUND");
  auto list = Repo().List(b, app::OrderQuery{});
  REQUIRE(list.ok());
  CHECK(list->items.empty());

  // The same key in tenant B, even with another fingerprint, is a new request there.
  auto ob = Insert(ActorOf(b, "CreateOrder", key, "fp-b"),
                   NewOrder(common::NewUuid(), {Line("SKU-B", 2, 2)}));
  INFO(ob.status().ToString());
  REQUIRE(ob.ok());
  CHECK(ob->id != oa.id);
  CHECK(CountOrders(b) == 1);
  CHECK(CountOrders(a) == 1);
  auto still = Repo().Get(a, oa.id);
  REQUIRE(still.ok());
  CHECK(still->status == OrderStatus::kPlaced);
  CHECK(still->version == 1);
}

TEST_CASE("RLS: without app.tenant_id the app role sees no orders or order lines",
          "[transaction][orders][repository][rls]") {
  const std::string tenant = TenantWithCatalog();
  InsertOk(tenant, NewOrder(common::NewUuid(), {Line("SKU-A", 1, 1), Line("SKU-B", 1, 1)}));
  REQUIRE(CountOrders(tenant) == 1);
  REQUIRE(CountLines(tenant) == 2);

  pqxx::connection c(ts::PgAppDsn());
  pqxx::work w(c);
  for (const char* table : {"orders", "order_lines"}) {
    INFO(table);
    CHECK(w.exec1(absl::StrCat("SELECT count(*) FROM txn.", table))[0].as<int64_t>() == 0);
  }
  w.exec(absl::StrCat("SELECT set_config('app.tenant_id', '", NewTenant(), "', true)"));
  CHECK(w.exec1("SELECT count(*) FROM txn.orders")[0].as<int64_t>() == 0);
  CHECK(w.exec1("SELECT count(*) FROM txn.order_lines")[0].as<int64_t>() == 0);
}

}  // namespace
}  // namespace crm::transaction::itest
