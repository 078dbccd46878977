// Payments, returns, refunds and order settings (PgOrderRepository's
// OrderRepository / OrderSettingsRepository, driven through the
// app::OrderMoney use case) against the private PostgreSQL (app role, RLS on).
// Schema txn is reset once per process (every ctest test is a process of its
// own); every test also works in its own random tenant.
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
#include "libs/common/clock.h"
#include "libs/common/errors.h"
#include "libs/common/id.h"
#include "libs/common/status_macros.h"
#include "libs/pg/pool.h"
#include "services/transaction/app/catalog.h"
#include "services/transaction/app/order_money.h"
#include "services/transaction/app/orders.h"
#include "services/transaction/storage/pg_order_repository.h"
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
using domain::Payment;
using domain::PaymentMethod;
using domain::PaymentStatus;
using domain::Refund;
using domain::RefundStatus;
using domain::Return;
using domain::ReturnLineRequest;

struct Env {
  std::unique_ptr<crm::pg::Pool> pool;
  std::unique_ptr<storage::PgProductRepository> products;
  std::unique_ptr<storage::PgOrderRepository> orders;
  common::SystemClock clock;
  common::RandomIdGenerator ids;
  std::unique_ptr<app::OrderMoney> money;
};

Env& TheEnv() {
  static Env* env = [] {
    auto* e = new Env;
    e->pool = ts::FreshSchemaPool("transaction", "txn", 4,
                                  {storage::PgProductRepository::Queries(),
                                   storage::PgOrderRepository::Queries()});
    e->products = std::make_unique<storage::PgProductRepository>(*e->pool);
    e->orders = std::make_unique<storage::PgOrderRepository>(*e->pool);
    e->money = std::make_unique<app::OrderMoney>(*e->orders, e->clock, e->ids);
    return e;
  }();
  return *env;
}

storage::PgOrderRepository& Repo() { return *TheEnv().orders; }
app::OrderMoney& Money() { return *TheEnv().money; }
crm::pg::Pool& AppPool() { return *TheEnv().pool; }

std::string NewTenant() { return common::NewUuid(); }

app::Actor ActorOf(const std::string& tenant, const std::string& method,
                   const std::string& key = "", const std::string& fingerprint = "") {
  app::Actor a;
  a.tenant_id = tenant;
  a.principal = "user:itest";
  a.request_id = "req-itest";
  a.method = method;
  a.idempotency_key = key.empty() ? common::NewUuid() : key;
  a.fingerprint = fingerprint.empty() ? common::NewUuid() : fingerprint;
  return a;
}

void AddProduct(const std::string& tenant, const std::string& sku) {
  domain::Product p;
  p.sku = sku;
  p.name = "Product " + sku;
  p.category_path = {"Music", "Jazz"};
  p.price = {1000, "CHF"};
  p.active = true;
  p.version = 1;
  p.create_time = absl::FromUnixMicros(1700000000000000);
  p.update_time = p.create_time;
  app::Actor a = ActorOf(tenant, "CreateProduct");
  a.idempotency_key.clear();
  a.fingerprint.clear();
  auto r = TheEnv().products->Run<domain::Product>(
      a, p.sku, [&](app::ProductTx& tx) { return app::WriteNewProduct(tx, p); });
  INFO(r.status().ToString());
  REQUIRE(r.ok());
}

std::string TenantWithCatalog() {
  std::string tenant = NewTenant();
  for (const char* sku : {"SKU-A", "SKU-B"}) AddProduct(tenant, sku);
  return tenant;
}

OrderLine Line(const std::string& sku, int64_t quantity, int64_t price, int64_t discount = 0) {
  return OrderLine{sku, quantity, price, discount, quantity * price - discount, 0};
}

Order NewOrder(const std::string& customer, std::vector<OrderLine> lines) {
  Order o;
  o.id = common::NewUuid();
  o.customer_id = customer;
  o.currency_code = "CHF";
  o.lines = std::move(lines);
  for (const auto& l : o.lines) o.total_minor += l.line_total_minor;
  o.channel = domain::SalesChannel::kWeb;
  o.placed_time = absl::FromUnixMicros(1700000000111111);
  o.status = OrderStatus::kPlaced;
  o.version = 1;
  o.create_time = absl::FromUnixMicros(1700000000222222);
  o.update_time = o.create_time;
  return o;
}

Order InsertOk(const std::string& tenant, const Order& o) {
  auto r = Repo().Run<Order>(ActorOf(tenant, "CreateOrder"), o.id,
                             [&](app::OrderTx& tx) -> absl::StatusOr<Order> {
                               CRM_RETURN_IF_ERROR(app::WriteNewOrder(tx, o));
                               return o;
                             });
  INFO(r.status().ToString());
  REQUIRE(r.ok());
  return *r;
}

Order MoveOk(const std::string& tenant, const std::string& id, OrderStatus to) {
  const absl::Time now = absl::FromUnixMicros(absl::ToUnixMicros(absl::Now()));
  auto r = Repo().Run<Order>(ActorOf(tenant, "TransitionOrder"), id, [&](app::OrderTx& tx) {
    return app::WriteOrderTransition(tx, id, to, now);
  });
  INFO(r.status().ToString());
  REQUIRE(r.ok());
  return *r;
}

Order GetOk(const std::string& tenant, const std::string& id) {
  auto r = Repo().Get(tenant, id);
  INFO(r.status().ToString());
  REQUIRE(r.ok());
  return *r;
}

// An order of 2 x 1500 (SKU-A) + 1 x 1000 (SKU-B) = 4000.
Order Order4000(const std::string& tenant, const std::string& customer = common::NewUuid()) {
  return InsertOk(tenant, NewOrder(customer, {Line("SKU-A", 2, 1500), Line("SKU-B", 1, 1000)}));
}

// 3 x 1000 - 1 = 2999 (not divisible by 3) and 2 x 250 = 500: total 3499, fulfilled.
Order FulfilledOrder3499(const std::string& tenant,
                         const std::string& customer = common::NewUuid()) {
  Order o = InsertOk(tenant, NewOrder(customer, {Line("SKU-A", 3, 1000, 1), Line("SKU-B", 2, 250)}));
  REQUIRE(o.total_minor == 3499);
  MoveOk(tenant, o.id, OrderStatus::kPaid);
  return MoveOk(tenant, o.id, OrderStatus::kFulfilled);
}

Payment NewPayment(int64_t amount, PaymentStatus status, PaymentMethod method = PaymentMethod::kCard) {
  Payment p;
  p.amount_minor = amount;
  p.method = method;
  p.status = status;
  p.provider_ref = "psp-" + absl::StrCat(amount);
  return p;
}

absl::StatusOr<Payment> Pay(const std::string& tenant, const std::string& order_id, int64_t amount,
                            PaymentStatus status, const std::string& key = "",
                            const std::string& fp = "") {
  return Money().RecordPayment(ActorOf(tenant, "RecordPayment", key, fp), order_id,
                               NewPayment(amount, status));
}

Payment PayOk(const std::string& tenant, const std::string& order_id, int64_t amount,
              PaymentStatus status = PaymentStatus::kCaptured) {
  auto r = Pay(tenant, order_id, amount, status);
  INFO(r.status().ToString());
  REQUIRE(r.ok());
  return *r;
}

absl::StatusOr<Return> DoReturn(const std::string& tenant, const std::string& order_id,
                                std::vector<ReturnLineRequest> lines, const std::string& key = "",
                                const std::string& fp = "") {
  return Money().CreateReturn(ActorOf(tenant, "CreateReturn", key, fp), order_id, lines,
                              "did not fit");
}

Return ReturnOk(const std::string& tenant, const std::string& order_id,
                std::vector<ReturnLineRequest> lines) {
  auto r = DoReturn(tenant, order_id, std::move(lines));
  INFO(r.status().ToString());
  REQUIRE(r.ok());
  return *r;
}

ReturnLineRequest RL(int line_no, int64_t quantity) {
  ReturnLineRequest r;
  r.line_no = line_no;
  r.quantity = quantity;
  return r;
}

absl::StatusOr<Refund> DoRefund(const std::string& tenant, const std::string& order_id,
                                int64_t amount, RefundStatus status,
                                const std::string& return_id = "", const std::string& key = "",
                                const std::string& fp = "") {
  Refund r;
  r.amount_minor = amount;
  r.status = status;
  r.return_id = return_id;
  r.reason = "goodwill";
  return Money().CreateRefund(ActorOf(tenant, "CreateRefund", key, fp), order_id, r);
}

Refund RefundOk(const std::string& tenant, const std::string& order_id, int64_t amount,
                RefundStatus status, const std::string& return_id = "") {
  auto r = DoRefund(tenant, order_id, amount, status, return_id);
  INFO(r.status().ToString());
  REQUIRE(r.ok());
  return *r;
}

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

int64_t CountRows(const std::string& tenant, const std::string& table) {
  return CountIn(tenant, absl::StrCat("SELECT count(*) FROM txn.", table));
}
int64_t CountEvents(const std::string& tenant, const std::string& type = "") {
  std::string sql = "SELECT count(*) FROM txn.outbox WHERE event_type NOT LIKE 'product.%'";
  if (!type.empty()) absl::StrAppend(&sql, " AND event_type = '", type, "'");
  return CountIn(tenant, sql);
}

// Everything a refused write must leave as it was.
struct Snapshot {
  int64_t payments, returns, return_lines, refunds, events, order_version;
  int64_t paid, returned, refunded, net;
  OrderStatus status;
};
Snapshot Take(const std::string& tenant, const std::string& order_id) {
  Order o = GetOk(tenant, order_id);
  return Snapshot{CountRows(tenant, "payments"), CountRows(tenant, "returns"),
                  CountRows(tenant, "return_lines"), CountRows(tenant, "refunds"),
                  CountEvents(tenant), o.version, o.paid_minor, o.returned_minor,
                  o.refunded_minor, domain::NetMinor(o), o.status};
}
void RequireUnchanged(const Snapshot& a, const Snapshot& b) {
  CHECK(a.payments == b.payments);
  CHECK(a.returns == b.returns);
  CHECK(a.return_lines == b.return_lines);
  CHECK(a.refunds == b.refunds);
  CHECK(a.events == b.events);
  CHECK(a.order_version == b.order_version);
  CHECK(a.paid == b.paid);
  CHECK(a.returned == b.returned);
  CHECK(a.refunded == b.refunded);
  CHECK(a.net == b.net);
  CHECK(a.status == b.status);
}

void RequireSamePayment(const Payment& a, const Payment& b) {
  CHECK(a.id == b.id);
  CHECK(a.order_id == b.order_id);
  CHECK(a.amount_minor == b.amount_minor);
  CHECK(a.method == b.method);
  CHECK(a.status == b.status);
  CHECK(a.provider_ref == b.provider_ref);
  CHECK(a.version == b.version);
  CHECK(a.create_time == b.create_time);
  CHECK(a.update_time == b.update_time);
}

void RequireSameRefund(const Refund& a, const Refund& b) {
  CHECK(a.id == b.id);
  CHECK(a.order_id == b.order_id);
  CHECK(a.return_id == b.return_id);
  CHECK(a.amount_minor == b.amount_minor);
  CHECK(a.status == b.status);
  CHECK(a.reason == b.reason);
  CHECK(a.version == b.version);
  CHECK(a.create_time == b.create_time);
  CHECK(a.update_time == b.update_time);
}

void RequireSameReturn(const Return& a, const Return& b) {
  CHECK(a.id == b.id);
  CHECK(a.order_id == b.order_id);
  CHECK(a.amount_minor == b.amount_minor);
  CHECK(a.reason == b.reason);
  CHECK(a.create_time == b.create_time);
  REQUIRE(a.lines.size() == b.lines.size());
  for (size_t i = 0; i < a.lines.size(); ++i) {
    CHECK(a.lines[i].line_no == b.lines[i].line_no);
    CHECK(a.lines[i].sku == b.lines[i].sku);
    CHECK(a.lines[i].quantity == b.lines[i].quantity);
    CHECK(a.lines[i].amount_minor == b.lines[i].amount_minor);
  }
}

void RequireRefused(const absl::Status& s, StatusCode code, const std::string& reason,
                    const std::string& field = "") {
  INFO(s.ToString());
  REQUIRE(s.code() == code);
  CHECK(ReasonOf(s) == reason);
  if (!field.empty()) CHECK(FieldOf(s) == field);
}

// ---------------------------------------------------------------- payments

TEST_CASE("Captured payments raise paid_minor, a placed order is paid once they cover the total",
          "[transaction][order_money][payments]") {
  const std::string tenant = TenantWithCatalog();
  const std::string customer = common::NewUuid();
  Order o = Order4000(tenant, customer);

  Payment auth = PayOk(tenant, o.id, 1000, PaymentStatus::kAuthorized);
  CHECK(auth.status == PaymentStatus::kAuthorized);
  CHECK(auth.version == 1);
  CHECK(auth.order_id == o.id);
  Order after_auth = GetOk(tenant, o.id);
  CHECK(after_auth.paid_minor == 0);
  CHECK(after_auth.version == 1);  // an authorization leaves the order alone
  CHECK(CountEvents(tenant, "payment.authorized") == 1);
  CHECK(CountEvents(tenant, "order.placed") == 1);

  Payment first = PayOk(tenant, o.id, 1500);
  Order part = GetOk(tenant, o.id);
  CHECK(part.paid_minor == 1500);
  CHECK(part.status == OrderStatus::kPlaced);
  CHECK(part.version == 2);
  CHECK(domain::NetMinor(part) == 4000);
  CHECK(CountEvents(tenant, "payment.captured") == 1);

  Payment failed = PayOk(tenant, o.id, 9999, PaymentStatus::kFailed);  // failed: any amount
  CHECK(GetOk(tenant, o.id).paid_minor == 1500);
  CHECK(CountEvents(tenant, "payment.failed") == 1);

  Payment rest = PayOk(tenant, o.id, 2500);
  Order paid = GetOk(tenant, o.id);
  CHECK(paid.paid_minor == 4000);
  CHECK(paid.status == OrderStatus::kPaid);
  CHECK(paid.version == 3);
  CHECK(CountEvents(tenant, "order.paid") == 1);
  CHECK(CountEvents(tenant, "payment.captured") == 2);
  // The events carry the order's customer (partition key) and the amounts.
  CHECK(CountIn(tenant, absl::StrCat("SELECT count(*) FROM txn.outbox WHERE event_type = "
                                     "'payment.captured' AND customer_id = '", customer,
                                     "' AND payload->>'order_id' = '", o.id,
                                     "' AND payload->>'amount_minor' = '2500' AND "
                                     "payload->>'payment_id' = '", rest.id, "'")) == 1);
  CHECK(CountIn(tenant, absl::StrCat("SELECT count(*) FROM txn.outbox WHERE event_type = "
                                     "'order.paid' AND (payload->>'version')::int = 3")) == 1);

  auto list = Money().ListPayments(tenant, o.id);
  REQUIRE(list.ok());
  REQUIRE(list->size() == 4);
  CHECK((*list)[0].id == auth.id);
  CHECK((*list)[1].id == first.id);
  CHECK((*list)[2].id == failed.id);
  CHECK((*list)[3].id == rest.id);
  RequireSamePayment((*list)[3], rest);
  CHECK((*list)[0].provider_ref == "psp-1000");
  CHECK(CountRows(tenant, "payments") == 4);
}

TEST_CASE("A capture beyond the order total is OVERPAYMENT and writes nothing",
          "[transaction][order_money][payments]") {
  const std::string tenant = TenantWithCatalog();
  Order o = Order4000(tenant);
  PayOk(tenant, o.id, 3000);
  Payment auth = PayOk(tenant, o.id, 1001, PaymentStatus::kAuthorized);
  Snapshot before = Take(tenant, o.id);

  auto over = Pay(tenant, o.id, 1001, PaymentStatus::kCaptured);
  RequireRefused(over.status(), StatusCode::kFailedPrecondition, "OVERPAYMENT");
  CHECK(absl::StrContains(over.status().message(), "3000"));
  RequireUnchanged(before, Take(tenant, o.id));

  // Capturing an authorization is held to the same limit.
  auto cap = Money().UpdatePaymentStatus(ActorOf(tenant, "UpdatePaymentStatus"), o.id, auth.id,
                                         PaymentStatus::kCaptured);
  RequireRefused(cap.status(), StatusCode::kFailedPrecondition, "OVERPAYMENT");
  RequireUnchanged(before, Take(tenant, o.id));
  auto listed = Money().ListPayments(tenant, o.id);
  REQUIRE(listed.ok());
  REQUIRE(listed->size() == 2);
  CHECK((*listed)[1].status == PaymentStatus::kAuthorized);
  CHECK((*listed)[1].version == 1);

  // Exactly the rest is fine and makes the order paid.
  PayOk(tenant, o.id, 1000);
  Order paid = GetOk(tenant, o.id);
  CHECK(paid.paid_minor == 4000);
  CHECK(paid.status == OrderStatus::kPaid);
  RequireRefused(Pay(tenant, o.id, 1, PaymentStatus::kCaptured).status(),
                 StatusCode::kFailedPrecondition, "OVERPAYMENT");
}

TEST_CASE("Concurrent captures never exceed the total together",
          "[transaction][order_money][payments][concurrency]") {
  const std::string tenant = TenantWithCatalog();
  Order o = Order4000(tenant);
  constexpr int kThreads = 4;
  std::vector<absl::StatusCode> codes(kThreads, StatusCode::kUnknown);
  std::vector<std::thread> threads;
  for (int i = 0; i < kThreads; ++i) {
    threads.emplace_back([&, i] {
      codes[i] = Pay(tenant, o.id, 3000, PaymentStatus::kCaptured).status().code();
    });
  }
  for (auto& t : threads) t.join();
  int ok = 0, refused = 0;
  for (auto c : codes) {
    if (c == StatusCode::kOk) ++ok;
    if (c == StatusCode::kFailedPrecondition) ++refused;
  }
  CHECK(ok == 1);
  CHECK(refused == kThreads - 1);
  CHECK(GetOk(tenant, o.id).paid_minor == 3000);
  CHECK(CountRows(tenant, "payments") == 1);
}

TEST_CASE("Payment status machine: authorized -> captured | voided | failed, nothing after",
          "[transaction][order_money][payments]") {
  const std::string tenant = TenantWithCatalog();
  Order o = Order4000(tenant);
  auto set = [&](const Payment& p, PaymentStatus to) {
    return Money().UpdatePaymentStatus(ActorOf(tenant, "UpdatePaymentStatus"), o.id, p.id, to);
  };
  Payment a = PayOk(tenant, o.id, 1000, PaymentStatus::kAuthorized);
  Payment b = PayOk(tenant, o.id, 1000, PaymentStatus::kAuthorized);
  Payment c = PayOk(tenant, o.id, 1000, PaymentStatus::kAuthorized);

  auto captured = set(a, PaymentStatus::kCaptured);
  INFO(captured.status().ToString());
  REQUIRE(captured.ok());
  CHECK(captured->status == PaymentStatus::kCaptured);
  CHECK(captured->version == 2);
  CHECK(captured->create_time == a.create_time);
  CHECK(captured->update_time >= a.update_time);
  CHECK(GetOk(tenant, o.id).paid_minor == 1000);
  CHECK(CountEvents(tenant, "payment.captured") == 1);

  auto voided = set(b, PaymentStatus::kVoided);
  REQUIRE(voided.ok());
  CHECK(voided->status == PaymentStatus::kVoided);
  CHECK(CountEvents(tenant, "payment.voided") == 1);
  auto failed = set(c, PaymentStatus::kFailed);
  REQUIRE(failed.ok());
  CHECK(failed->status == PaymentStatus::kFailed);
  CHECK(GetOk(tenant, o.id).paid_minor == 1000);

  Snapshot before = Take(tenant, o.id);
  struct Case {
    const Payment* p;
    PaymentStatus to;
    const char* current;
  };
  for (const Case& k : {Case{&a, PaymentStatus::kVoided, "captured"},
                        Case{&a, PaymentStatus::kFailed, "captured"},
                        Case{&a, PaymentStatus::kCaptured, "captured"},
                        Case{&a, PaymentStatus::kAuthorized, "captured"},
                        Case{&b, PaymentStatus::kCaptured, "voided"},
                        Case{&c, PaymentStatus::kCaptured, "failed"}}) {
    INFO(k.current << " -> " << domain::PaymentStatusName(k.to));
    auto r = set(*k.p, k.to);
    RequireRefused(r.status(), StatusCode::kFailedPrecondition, "INVALID_PAYMENT_TRANSITION");
    CHECK(absl::StrContains(r.status().message(), k.current));
  }
  RequireUnchanged(before, Take(tenant, o.id));

  // A payment of another order of the tenant, and an unknown payment.
  Order other = Order4000(tenant);
  auto wrong_order = Money().UpdatePaymentStatus(ActorOf(tenant, "UpdatePaymentStatus"), other.id,
                                                 a.id, PaymentStatus::kVoided);
  RequireRefused(wrong_order.status(), StatusCode::kNotFound, "PAYMENT_NOT_FOUND");
  auto unknown = Money().UpdatePaymentStatus(ActorOf(tenant, "UpdatePaymentStatus"), o.id,
                                             common::NewUuid(), PaymentStatus::kVoided);
  RequireRefused(unknown.status(), StatusCode::kNotFound, "PAYMENT_NOT_FOUND");
}

TEST_CASE("A cancelled order takes no payments and invalid payments name their field",
          "[transaction][order_money][payments]") {
  const std::string tenant = TenantWithCatalog();
  Order o = Order4000(tenant);
  MoveOk(tenant, o.id, OrderStatus::kCancelled);
  Snapshot before = Take(tenant, o.id);
  for (PaymentStatus s : {PaymentStatus::kCaptured, PaymentStatus::kAuthorized}) {
    RequireRefused(Pay(tenant, o.id, 100, s).status(), StatusCode::kFailedPrecondition,
                   "PAYMENT_NOT_ALLOWED");
  }
  RequireUnchanged(before, Take(tenant, o.id));

  Order live = Order4000(tenant);
  Payment p = NewPayment(0, PaymentStatus::kCaptured);
  RequireRefused(Money().RecordPayment(ActorOf(tenant, "RecordPayment"), live.id, p).status(),
                 StatusCode::kInvalidArgument, "INVALID_FIELD", "amount_minor");
  p = NewPayment(10, PaymentStatus::kCaptured, PaymentMethod::kUnspecified);
  RequireRefused(Money().RecordPayment(ActorOf(tenant, "RecordPayment"), live.id, p).status(),
                 StatusCode::kInvalidArgument, "INVALID_FIELD", "method");
  p = NewPayment(10, PaymentStatus::kVoided);
  RequireRefused(Money().RecordPayment(ActorOf(tenant, "RecordPayment"), live.id, p).status(),
                 StatusCode::kInvalidArgument, "INVALID_FIELD", "status");
  p = NewPayment(10, PaymentStatus::kCaptured);
  p.provider_ref = std::string(129, 'x');
  RequireRefused(Money().RecordPayment(ActorOf(tenant, "RecordPayment"), live.id, p).status(),
                 StatusCode::kInvalidArgument, "INVALID_FIELD", "provider_ref");
  app::Actor no_key = ActorOf(tenant, "RecordPayment");
  no_key.idempotency_key.clear();
  RequireRefused(Money()
                     .RecordPayment(no_key, live.id, NewPayment(10, PaymentStatus::kCaptured))
                     .status(),
                 StatusCode::kInvalidArgument, "INVALID_FIELD", "request_id");
  RequireRefused(Pay(tenant, "not-a-uuid", 10, PaymentStatus::kCaptured).status(),
                 StatusCode::kInvalidArgument, "INVALID_FIELD", "order_id");
  RequireRefused(Pay(tenant, common::NewUuid(), 10, PaymentStatus::kCaptured).status(),
                 StatusCode::kNotFound, "ORDER_NOT_FOUND");
  CHECK(CountRows(tenant, "payments") == 0);
}

// ------------------------------------------------------------------ returns

TEST_CASE("A partial then a full return give back exactly the line totals",
          "[transaction][order_money][returns]") {
  const std::string tenant = TenantWithCatalog();
  const std::string customer = common::NewUuid();
  Order o = FulfilledOrder3499(tenant, customer);

  Return first = ReturnOk(tenant, o.id, {RL(0, 1)});
  CHECK(first.order_id == o.id);
  CHECK(first.reason == "did not fit");
  REQUIRE(first.lines.size() == 1);
  CHECK(first.lines[0].line_no == 0);
  CHECK(first.lines[0].sku == "SKU-A");
  CHECK(first.lines[0].quantity == 1);
  CHECK(first.lines[0].amount_minor == 999);  // floor(2999 / 3)
  CHECK(first.amount_minor == 999);
  Order part = GetOk(tenant, o.id);
  CHECK(part.status == OrderStatus::kPartiallyReturned);
  CHECK(part.returned_minor == 999);
  CHECK(domain::NetMinor(part) == 2500);
  CHECK(part.lines[0].returned_quantity == 1);
  CHECK(part.lines[1].returned_quantity == 0);
  CHECK(part.version == o.version + 1);
  CHECK(CountEvents(tenant, "return.created") == 1);
  CHECK(CountEvents(tenant, "order.partially_returned") == 1);

  // The rest of both lines, listed in another order.
  Return second = ReturnOk(tenant, o.id, {RL(1, 2), RL(0, 2)});
  REQUIRE(second.lines.size() == 2);
  CHECK(second.lines[0].line_no == 1);
  CHECK(second.lines[0].amount_minor == 500);
  CHECK(second.lines[1].line_no == 0);
  CHECK(second.lines[1].amount_minor == 2000);  // 2999 - 999: the line total exactly
  CHECK(second.amount_minor == 2500);
  CHECK(first.lines[0].amount_minor + second.lines[1].amount_minor == 2999);
  Order all = GetOk(tenant, o.id);
  CHECK(all.status == OrderStatus::kReturned);
  CHECK(all.returned_minor == 3499);
  CHECK(all.returned_minor == all.total_minor);
  CHECK(domain::NetMinor(all) == 0);
  CHECK(all.lines[0].returned_quantity == 3);
  CHECK(all.lines[1].returned_quantity == 2);
  CHECK(CountEvents(tenant, "return.created") == 2);
  CHECK(CountEvents(tenant, "order.returned") == 1);
  CHECK(CountIn(tenant, absl::StrCat("SELECT count(*) FROM txn.outbox WHERE event_type = "
                                     "'return.created' AND customer_id = '", customer,
                                     "' AND payload->>'return_id' = '", second.id,
                                     "' AND payload->>'amount_minor' = '2500' AND "
                                     "jsonb_array_length(payload->'lines') = 2")) == 1);
  CHECK(CountIn(tenant, "SELECT count(*) FROM txn.outbox WHERE event_type = 'order.returned' "
                        "AND payload->>'returned_minor' = '3499' AND payload->>'net_minor' = "
                        "'0'") == 1);

  auto listed = Money().ListReturns(tenant, o.id);
  REQUIRE(listed.ok());
  REQUIRE(listed->size() == 2);
  RequireSameReturn((*listed)[0], first);
  // Listed lines come in line order.
  REQUIRE((*listed)[1].lines.size() == 2);
  CHECK((*listed)[1].lines[0].line_no == 0);
  CHECK((*listed)[1].lines[0].amount_minor == 2000);
  CHECK((*listed)[1].lines[1].line_no == 1);
  CHECK((*listed)[1].amount_minor == 2500);
  CHECK(CountRows(tenant, "return_lines") == 3);

  // Nothing is left to return.
  Snapshot before = Take(tenant, o.id);
  auto more = DoReturn(tenant, o.id, {RL(0, 1)});
  RequireRefused(more.status(), StatusCode::kFailedPrecondition, "RETURN_NOT_ALLOWED");
  CHECK(absl::StrContains(more.status().message(), "returned"));
  RequireUnchanged(before, Take(tenant, o.id));
}

TEST_CASE("Returning one unit at a time of an indivisible line sums to its total",
          "[transaction][order_money][returns]") {
  const std::string tenant = TenantWithCatalog();
  Order o = InsertOk(tenant, NewOrder(common::NewUuid(), {Line("SKU-A", 7, 143, 3)}));  // 998
  MoveOk(tenant, o.id, OrderStatus::kPaid);
  MoveOk(tenant, o.id, OrderStatus::kFulfilled);
  MoveOk(tenant, o.id, OrderStatus::kCompleted);  // completed orders take returns too
  int64_t sum = 0;
  for (int i = 0; i < 7; ++i) {
    Return r = ReturnOk(tenant, o.id, {RL(0, 1)});
    CHECK((r.amount_minor == 142 || r.amount_minor == 143));
    sum += r.amount_minor;
  }
  CHECK(sum == 998);
  Order done = GetOk(tenant, o.id);
  CHECK(done.returned_minor == 998);
  CHECK(done.status == OrderStatus::kReturned);
}

TEST_CASE("Returns are refused for orders not yet fulfilled and for bad lines, writing nothing",
          "[transaction][order_money][returns]") {
  const std::string tenant = TenantWithCatalog();
  for (OrderStatus s : {OrderStatus::kPlaced, OrderStatus::kPaid, OrderStatus::kCancelled}) {
    INFO(domain::StatusName(s));
    Order o = Order4000(tenant);
    if (s != OrderStatus::kPlaced) MoveOk(tenant, o.id, s);
    Snapshot before = Take(tenant, o.id);
    auto r = DoReturn(tenant, o.id, {RL(0, 1)});
    RequireRefused(r.status(), StatusCode::kFailedPrecondition, "RETURN_NOT_ALLOWED");
    CHECK(absl::StrContains(r.status().message(), domain::StatusName(s)));
    RequireUnchanged(before, Take(tenant, o.id));
  }

  Order o = FulfilledOrder3499(tenant);
  ReturnOk(tenant, o.id, {RL(0, 2)});
  Snapshot before = Take(tenant, o.id);
  struct Case {
    std::vector<ReturnLineRequest> lines;
    const char* field;
  };
  for (const Case& k : {Case{{RL(1, 1), RL(0, 2)}, "lines[1].quantity"},  // 1 unit left
                        Case{{RL(1, 3)}, "lines[0].quantity"},            // 2 sold
                        Case{{RL(0, 0)}, "lines[0].quantity"},
                        Case{{RL(0, -1)}, "lines[0].quantity"},
                        Case{{RL(2, 1)}, "lines[0].line_no"},
                        Case{{RL(-1, 1)}, "lines[0].line_no"},
                        Case{{RL(1, 1), RL(1, 1)}, "lines[1].line_no"},
                        Case{{}, "lines"}}) {
    INFO(k.field);
    auto r = DoReturn(tenant, o.id, k.lines);
    RequireRefused(r.status(), StatusCode::kInvalidArgument, "INVALID_FIELD", k.field);
  }
  auto big = DoReturn(tenant, o.id, {RL(0, 2)});
  RequireRefused(big.status(), StatusCode::kInvalidArgument, "INVALID_FIELD", "lines[0].quantity");
  CHECK(absl::StrContains(big.status().message(), "1..1"));
  RequireUnchanged(before, Take(tenant, o.id));
}

// ------------------------------------------------------------------ refunds

TEST_CASE("Refunds never exceed the captured payments, pending counts, failed does not",
          "[transaction][order_money][refunds]") {
  const std::string tenant = TenantWithCatalog();
  Order o = FulfilledOrder3499(tenant);

  // Nothing captured yet: nothing to refund.
  RequireRefused(DoRefund(tenant, o.id, 1, RefundStatus::kPending).status(),
                 StatusCode::kFailedPrecondition, "REFUND_EXCEEDS_PAYMENTS");
  PayOk(tenant, o.id, 3000);
  Snapshot before = Take(tenant, o.id);
  auto over = DoRefund(tenant, o.id, 3001, RefundStatus::kSucceeded);
  RequireRefused(over.status(), StatusCode::kFailedPrecondition, "REFUND_EXCEEDS_PAYMENTS");
  RequireUnchanged(before, Take(tenant, o.id));

  Refund pending = RefundOk(tenant, o.id, 1000, RefundStatus::kPending);
  CHECK(pending.status == RefundStatus::kPending);
  CHECK(pending.version == 1);
  CHECK(pending.return_id.empty());
  Order p = GetOk(tenant, o.id);
  CHECK(p.refunded_minor == 0);  // pending: not refunded yet
  CHECK(domain::NetMinor(p) == 3499);
  CHECK(p.version == before.order_version);  // a pending refund leaves the order alone
  CHECK(CountEvents(tenant, "refund.pending") == 1);

  // 1000 pending + 2001 > 3000 captured.
  RequireRefused(DoRefund(tenant, o.id, 2001, RefundStatus::kPending).status(),
                 StatusCode::kFailedPrecondition, "REFUND_EXCEEDS_PAYMENTS");
  Refund doomed = RefundOk(tenant, o.id, 2000, RefundStatus::kPending);
  auto failed = Money().UpdateRefundStatus(ActorOf(tenant, "UpdateRefundStatus"), o.id, doomed.id,
                                           RefundStatus::kFailed);
  REQUIRE(failed.ok());
  CHECK(failed->status == RefundStatus::kFailed);
  CHECK(failed->version == 2);
  CHECK(CountEvents(tenant, "refund.failed") == 1);

  // pending -> succeeded: refunded_minor, and (no return) the net value.
  auto ok = Money().UpdateRefundStatus(ActorOf(tenant, "UpdateRefundStatus"), o.id, pending.id,
                                       RefundStatus::kSucceeded);
  INFO(ok.status().ToString());
  REQUIRE(ok.ok());
  CHECK(ok->status == RefundStatus::kSucceeded);
  CHECK(ok->version == 2);
  CHECK(ok->create_time == pending.create_time);
  Order s = GetOk(tenant, o.id);
  CHECK(s.refunded_minor == 1000);
  CHECK(s.adjusted_minor == 1000);
  CHECK(s.returned_minor == 0);
  CHECK(domain::NetMinor(s) == 2499);
  CHECK(s.status == OrderStatus::kFulfilled);
  CHECK(CountEvents(tenant, "refund.succeeded") == 1);
  // The status did not change: the new sums go out as order.updated.
  CHECK(CountIn(tenant, "SELECT count(*) FROM txn.outbox WHERE event_type = 'order.updated' "
                        "AND payload->>'status' = 'fulfilled' AND payload->>'net_minor' = '2499'") ==
        1);

  // The failed 2000 freed its share: exactly the rest can be refunded.
  RequireRefused(DoRefund(tenant, o.id, 2001, RefundStatus::kSucceeded).status(),
                 StatusCode::kFailedPrecondition, "REFUND_EXCEEDS_PAYMENTS");
  Refund rest = RefundOk(tenant, o.id, 2000, RefundStatus::kSucceeded);
  Order r = GetOk(tenant, o.id);
  CHECK(r.refunded_minor == 3000);
  CHECK(domain::NetMinor(r) == 499);

  // The refund status machine: nothing after succeeded or failed.
  for (const Refund* f : {&rest, &doomed}) {
    for (RefundStatus to : {RefundStatus::kFailed, RefundStatus::kSucceeded,
                            RefundStatus::kPending}) {
      auto again = Money().UpdateRefundStatus(ActorOf(tenant, "UpdateRefundStatus"), o.id, f->id,
                                              to);
      RequireRefused(again.status(), StatusCode::kFailedPrecondition,
                     "INVALID_REFUND_TRANSITION");
      CHECK(absl::StrContains(again.status().message(),
                              f == &rest ? "succeeded" : "failed"));
    }
  }
  auto listed = Money().ListRefunds(tenant, o.id);
  REQUIRE(listed.ok());
  REQUIRE(listed->size() == 3);
  CHECK((*listed)[0].id == pending.id);
  CHECK((*listed)[0].status == RefundStatus::kSucceeded);
  CHECK((*listed)[1].status == RefundStatus::kFailed);
  RequireSameRefund((*listed)[2], rest);
  auto unknown = Money().UpdateRefundStatus(ActorOf(tenant, "UpdateRefundStatus"), o.id,
                                            common::NewUuid(), RefundStatus::kSucceeded);
  RequireRefused(unknown.status(), StatusCode::kNotFound, "REFUND_NOT_FOUND");
}

TEST_CASE("A refund tied to a return pays at most its value and leaves net to the return",
          "[transaction][order_money][refunds][returns]") {
  const std::string tenant = TenantWithCatalog();
  Order o = FulfilledOrder3499(tenant);
  PayOk(tenant, o.id, 3499);
  Return ret = ReturnOk(tenant, o.id, {RL(0, 1)});  // 999
  REQUIRE(ret.amount_minor == 999);
  Snapshot before = Take(tenant, o.id);
  auto over = DoRefund(tenant, o.id, 1000, RefundStatus::kSucceeded, ret.id);
  RequireRefused(over.status(), StatusCode::kFailedPrecondition, "REFUND_EXCEEDS_RETURN");
  CHECK(absl::StrContains(over.status().message(), "999"));
  RequireUnchanged(before, Take(tenant, o.id));

  Refund part = RefundOk(tenant, o.id, 500, RefundStatus::kPending, ret.id);
  CHECK(part.return_id == ret.id);
  // 500 pending + 500 > 999.
  RequireRefused(DoRefund(tenant, o.id, 500, RefundStatus::kSucceeded, ret.id).status(),
                 StatusCode::kFailedPrecondition, "REFUND_EXCEEDS_RETURN");
  Refund rest = RefundOk(tenant, o.id, 499, RefundStatus::kSucceeded, ret.id);
  Order after = GetOk(tenant, o.id);
  CHECK(after.refunded_minor == 499);
  CHECK(after.adjusted_minor == 0);
  CHECK(after.returned_minor == 999);
  CHECK(domain::NetMinor(after) == 2500);  // the return lowered it; its refund does not again
  auto done = Money().UpdateRefundStatus(ActorOf(tenant, "UpdateRefundStatus"), o.id, part.id,
                                         RefundStatus::kSucceeded);
  REQUIRE(done.ok());
  Order full = GetOk(tenant, o.id);
  CHECK(full.refunded_minor == 999);
  CHECK(domain::NetMinor(full) == 2500);
  RequireRefused(DoRefund(tenant, o.id, 1, RefundStatus::kPending, ret.id).status(),
                 StatusCode::kFailedPrecondition, "REFUND_EXCEEDS_RETURN");
  (void)rest;

  // An unknown return, a return of another order, a malformed id.
  RequireRefused(DoRefund(tenant, o.id, 1, RefundStatus::kPending, common::NewUuid()).status(),
                 StatusCode::kNotFound, "RETURN_NOT_FOUND", "return_id");
  Order other = FulfilledOrder3499(tenant);
  PayOk(tenant, other.id, 3499);
  RequireRefused(DoRefund(tenant, other.id, 1, RefundStatus::kPending, ret.id).status(),
                 StatusCode::kNotFound, "RETURN_NOT_FOUND", "return_id");
  RequireRefused(DoRefund(tenant, o.id, 1, RefundStatus::kPending, "nope").status(),
                 StatusCode::kInvalidArgument, "INVALID_FIELD", "return_id");
  // Invalid refunds name their field.
  RequireRefused(DoRefund(tenant, other.id, 0, RefundStatus::kPending).status(),
                 StatusCode::kInvalidArgument, "INVALID_FIELD", "amount_minor");
  RequireRefused(DoRefund(tenant, other.id, 1, RefundStatus::kFailed).status(),
                 StatusCode::kInvalidArgument, "INVALID_FIELD", "status");
}

// -------------------------------------------------------------- idempotency

TEST_CASE("Replays answer the first call exactly even after the state changed",
          "[transaction][order_money][idempotency]") {
  const std::string tenant = TenantWithCatalog();
  Order o = Order4000(tenant);

  // RecordPayment.
  const std::string pay_key = common::NewUuid();
  auto auth = Pay(tenant, o.id, 1000, PaymentStatus::kAuthorized, pay_key, "fp-pay");
  REQUIRE(auth.ok());
  // UpdatePaymentStatus: capture it, then replay after the order became paid.
  const std::string cap_key = common::NewUuid();
  auto cap = Money().UpdatePaymentStatus(ActorOf(tenant, "UpdatePaymentStatus", cap_key, "fp-cap"),
                                         o.id, auth->id, PaymentStatus::kCaptured);
  REQUIRE(cap.ok());
  PayOk(tenant, o.id, 3000);
  REQUIRE(GetOk(tenant, o.id).status == OrderStatus::kPaid);
  Snapshot before = Take(tenant, o.id);

  auto pay_again = Pay(tenant, o.id, 1000, PaymentStatus::kAuthorized, pay_key, "fp-pay");
  INFO(pay_again.status().ToString());
  REQUIRE(pay_again.ok());
  RequireSamePayment(*pay_again, *auth);  // as first answered: authorized, version 1
  CHECK(pay_again->status == PaymentStatus::kAuthorized);
  auto cap_again = Money().UpdatePaymentStatus(
      ActorOf(tenant, "UpdatePaymentStatus", cap_key, "fp-cap"), o.id, auth->id,
      PaymentStatus::kCaptured);
  INFO(cap_again.status().ToString());
  REQUIRE(cap_again.ok());  // not INVALID_PAYMENT_TRANSITION: the first answer
  RequireSamePayment(*cap_again, *cap);
  RequireUnchanged(before, Take(tenant, o.id));

  // Same key, other body.
  auto reused = Pay(tenant, o.id, 999, PaymentStatus::kAuthorized, pay_key, "fp-other");
  RequireRefused(reused.status(), StatusCode::kInvalidArgument, "IDEMPOTENCY_KEY_REUSED",
                 "request_id");
  auto reused_cap = Money().UpdatePaymentStatus(
      ActorOf(tenant, "UpdatePaymentStatus", cap_key, "fp-other"), o.id, auth->id,
      PaymentStatus::kVoided);
  RequireRefused(reused_cap.status(), StatusCode::kInvalidArgument, "IDEMPOTENCY_KEY_REUSED",
                 "request_id");
  // Same key for another call.
  auto other_call = DoReturn(tenant, o.id, {RL(0, 1)}, pay_key, "fp-pay");
  RequireRefused(other_call.status(), StatusCode::kInvalidArgument, "INVALID_FIELD",
                 "request_id");

  // CreateReturn: a refusal replays as a refusal once the order could take it.
  const std::string ret_key = common::NewUuid();
  auto early = DoReturn(tenant, o.id, {RL(0, 1)}, ret_key, "fp-ret");
  RequireRefused(early.status(), StatusCode::kFailedPrecondition, "RETURN_NOT_ALLOWED");
  MoveOk(tenant, o.id, OrderStatus::kFulfilled);
  auto late = DoReturn(tenant, o.id, {RL(0, 1)}, ret_key, "fp-ret");
  RequireRefused(late.status(), StatusCode::kFailedPrecondition, "RETURN_NOT_ALLOWED");
  CHECK(late.status().message() == early.status().message());
  CHECK(CountRows(tenant, "returns") == 0);

  const std::string ret2_key = common::NewUuid();
  auto ret = DoReturn(tenant, o.id, {RL(0, 1)}, ret2_key, "fp-ret2");
  REQUIRE(ret.ok());
  ReturnOk(tenant, o.id, {RL(0, 1)});  // the order changes again
  auto ret_again = DoReturn(tenant, o.id, {RL(0, 1)}, ret2_key, "fp-ret2");
  INFO(ret_again.status().ToString());
  REQUIRE(ret_again.ok());
  RequireSameReturn(*ret_again, *ret);
  CHECK(CountRows(tenant, "returns") == 2);
  CHECK(GetOk(tenant, o.id).lines[0].returned_quantity == 2);
  RequireRefused(DoReturn(tenant, o.id, {RL(1, 1)}, ret2_key, "fp-other").status(),
                 StatusCode::kInvalidArgument, "IDEMPOTENCY_KEY_REUSED", "request_id");

  // CreateRefund and UpdateRefundStatus.
  const std::string ref_key = common::NewUuid();
  auto refund = DoRefund(tenant, o.id, 700, RefundStatus::kPending, ret->id, ref_key, "fp-ref");
  REQUIRE(refund.ok());
  const std::string ok_key = common::NewUuid();
  auto succeeded = Money().UpdateRefundStatus(
      ActorOf(tenant, "UpdateRefundStatus", ok_key, "fp-ok"), o.id, refund->id,
      RefundStatus::kSucceeded);
  REQUIRE(succeeded.ok());
  Snapshot mid = Take(tenant, o.id);
  auto refund_again =
      DoRefund(tenant, o.id, 700, RefundStatus::kPending, ret->id, ref_key, "fp-ref");
  REQUIRE(refund_again.ok());
  RequireSameRefund(*refund_again, *refund);
  CHECK(refund_again->status == RefundStatus::kPending);
  auto succeeded_again = Money().UpdateRefundStatus(
      ActorOf(tenant, "UpdateRefundStatus", ok_key, "fp-ok"), o.id, refund->id,
      RefundStatus::kSucceeded);
  REQUIRE(succeeded_again.ok());
  RequireSameRefund(*succeeded_again, *succeeded);
  RequireUnchanged(mid, Take(tenant, o.id));
  CHECK(GetOk(tenant, o.id).refunded_minor == 700);
  RequireRefused(
      DoRefund(tenant, o.id, 1, RefundStatus::kPending, "", ref_key, "fp-other").status(),
      StatusCode::kInvalidArgument, "IDEMPOTENCY_KEY_REUSED", "request_id");
  RequireRefused(Money()
                     .UpdateRefundStatus(ActorOf(tenant, "UpdateRefundStatus", ok_key, "fp-x"),
                                         o.id, refund->id, RefundStatus::kFailed)
                     .status(),
                 StatusCode::kInvalidArgument, "IDEMPOTENCY_KEY_REUSED", "request_id");
  // An OVERPAYMENT refusal replays too.
  const std::string over_key = common::NewUuid();
  auto over = Pay(tenant, o.id, 1, PaymentStatus::kCaptured, over_key, "fp-over");
  RequireRefused(over.status(), StatusCode::kFailedPrecondition, "OVERPAYMENT");
  auto over_again = Pay(tenant, o.id, 1, PaymentStatus::kCaptured, over_key, "fp-over");
  RequireRefused(over_again.status(), StatusCode::kFailedPrecondition, "OVERPAYMENT");
}

// ------------------------------------------------------------ tenant isolation

TEST_CASE("Another tenant gets NOT_FOUND for every payment, return and refund call",
          "[transaction][order_money][tenant]") {
  const std::string a = TenantWithCatalog();
  const std::string b = TenantWithCatalog();
  Order o = FulfilledOrder3499(a);
  Payment pay = PayOk(a, o.id, 3000);
  Payment auth = PayOk(a, o.id, 499, PaymentStatus::kAuthorized);
  Return ret = ReturnOk(a, o.id, {RL(0, 1)});
  Refund ref = RefundOk(a, o.id, 100, RefundStatus::kPending, ret.id);
  Snapshot before = Take(a, o.id);

  std::vector<std::pair<std::string, absl::Status>> calls = {
      {"RecordPayment", Pay(b, o.id, 1, PaymentStatus::kCaptured).status()},
      {"RecordPayment(authorized)", Pay(b, o.id, 1, PaymentStatus::kAuthorized).status()},
      {"UpdatePaymentStatus",
       Money()
           .UpdatePaymentStatus(ActorOf(b, "UpdatePaymentStatus"), o.id, auth.id,
                                PaymentStatus::kCaptured)
           .status()},
      {"ListPayments", Money().ListPayments(b, o.id).status()},
      {"CreateReturn", DoReturn(b, o.id, {RL(0, 1)}).status()},
      {"ListReturns", Money().ListReturns(b, o.id).status()},
      {"CreateRefund", DoRefund(b, o.id, 1, RefundStatus::kPending).status()},
      {"CreateRefund(return)", DoRefund(b, o.id, 1, RefundStatus::kPending, ret.id).status()},
      {"UpdateRefundStatus",
       Money()
           .UpdateRefundStatus(ActorOf(b, "UpdateRefundStatus"), o.id, ref.id,
                               RefundStatus::kSucceeded)
           .status()},
      {"ListRefunds", Money().ListRefunds(b, o.id).status()},
  };
  for (const auto& [name, s] : calls) {
    INFO(name << ": " << s.ToString());
    CHECK(s.code() == StatusCode::kNotFound);
    CHECK(ReasonOf(s) == "ORDER_NOT_FOUND");
  }
  RequireUnchanged(before, Take(a, o.id));
  for (const char* table : {"payments", "returns", "return_lines", "refunds"}) {
    INFO(table);
    CHECK(CountRows(b, table) == 0);
  }
  CHECK(CountEvents(b) == 0);
  auto still = Money().ListPayments(a, o.id);
  REQUIRE(still.ok());
  REQUIRE(still->size() == 2);
  CHECK((*still)[0].id == pay.id);
  CHECK((*still)[1].status == PaymentStatus::kAuthorized);
}

TEST_CASE("RLS: without app.tenant_id the app role sees no payments, returns or refunds",
          "[transaction][order_money][rls]") {
  const std::string tenant = TenantWithCatalog();
  Order o = FulfilledOrder3499(tenant);
  PayOk(tenant, o.id, 100);
  Return ret = ReturnOk(tenant, o.id, {RL(0, 1)});
  RefundOk(tenant, o.id, 50, RefundStatus::kPending, ret.id);
  app::OrderSettings s;
  s.create_unknown_customers = true;
  REQUIRE(Repo().UpdateSettings(ActorOf(tenant, "UpdateOrderSettings"), s, "", absl::Now()).ok());
  const std::vector<const char*> tables = {"payments", "returns", "return_lines", "refunds",
                                           "order_settings"};
  for (const char* table : tables) {
    INFO(table);
    CHECK(CountRows(tenant, table) == 1);
  }
  pqxx::connection c(ts::PgAppDsn());
  pqxx::work w(c);
  for (const char* table : tables) {
    INFO(table);
    CHECK(w.exec1(absl::StrCat("SELECT count(*) FROM txn.", table))[0].as<int64_t>() == 0);
  }
  w.exec(absl::StrCat("SELECT set_config('app.tenant_id', '", NewTenant(), "', true)"));
  for (const char* table : tables) {
    INFO(table);
    CHECK(w.exec1(absl::StrCat("SELECT count(*) FROM txn.", table))[0].as<int64_t>() == 0);
  }
}

// ---------------------------------------------------------------- lifecycle

TEST_CASE("Lifecycle: every write emits its events in its own transaction",
          "[transaction][order_money][outbox]") {
  const std::string tenant = TenantWithCatalog();
  const std::string customer = common::NewUuid();
  Order o = InsertOk(tenant, NewOrder(customer, {Line("SKU-A", 3, 1000, 1), Line("SKU-B", 2, 250)}));
  PayOk(tenant, o.id, 3499);                            // payment.captured + order.paid
  CHECK(GetOk(tenant, o.id).status == OrderStatus::kPaid);
  MoveOk(tenant, o.id, OrderStatus::kFulfilled);        // order.fulfilled
  Return r1 = ReturnOk(tenant, o.id, {RL(1, 1)});       // return.created + order.partially_returned
  RefundOk(tenant, o.id, r1.amount_minor, RefundStatus::kSucceeded, r1.id);  // refund.succeeded + order.updated
  Return r2 = ReturnOk(tenant, o.id, {RL(0, 3), RL(1, 1)});  // return.created + order.returned
  Refund pending = RefundOk(tenant, o.id, r2.amount_minor, RefundStatus::kPending, r2.id);  // refund.pending
  auto ok = Money().UpdateRefundStatus(ActorOf(tenant, "UpdateRefundStatus"), o.id, pending.id,
                                       RefundStatus::kSucceeded);  // refund.succeeded + order.updated
  REQUIRE(ok.ok());

  CHECK(CountEvents(tenant, "order.placed") == 1);
  CHECK(CountEvents(tenant, "payment.captured") == 1);
  CHECK(CountEvents(tenant, "order.paid") == 1);
  CHECK(CountEvents(tenant, "order.fulfilled") == 1);
  CHECK(CountEvents(tenant, "return.created") == 2);
  CHECK(CountEvents(tenant, "order.partially_returned") == 1);
  CHECK(CountEvents(tenant, "order.returned") == 1);
  CHECK(CountEvents(tenant, "order.updated") == 2);
  CHECK(CountEvents(tenant, "refund.pending") == 1);
  CHECK(CountEvents(tenant, "refund.succeeded") == 2);
  CHECK(CountEvents(tenant) == 13);
  // Every event is partitioned by the order's customer.
  CHECK(CountIn(tenant, absl::StrCat("SELECT count(*) FROM txn.outbox WHERE event_type NOT LIKE "
                                     "'product.%' AND customer_id <> '", customer, "'")) == 0);
  // Order events carry strictly increasing versions (one per order write).
  CHECK(CountIn(tenant, "SELECT count(DISTINCT (payload->>'version')::int) FROM txn.outbox "
                        "WHERE event_type LIKE 'order.%'") == 7);
  Order final_state = GetOk(tenant, o.id);
  CHECK(final_state.version == 7);
  CHECK(final_state.paid_minor == 3499);
  CHECK(final_state.returned_minor == 3499);
  CHECK(final_state.refunded_minor == 3499);
  CHECK(domain::NetMinor(final_state) == 0);
  CHECK(final_state.status == OrderStatus::kReturned);
  // Each refused write adds neither rows nor events (audited only).
  int64_t audit_before = CountRows(tenant, "audit_log");
  Snapshot before = Take(tenant, o.id);
  CHECK_FALSE(Pay(tenant, o.id, 1, PaymentStatus::kCaptured).ok());
  CHECK_FALSE(DoReturn(tenant, o.id, {RL(0, 1)}).ok());
  CHECK_FALSE(DoRefund(tenant, o.id, 1, RefundStatus::kPending).ok());
  RequireUnchanged(before, Take(tenant, o.id));
  CHECK(CountRows(tenant, "audit_log") == audit_before + 3);
}

// ------------------------------------------------------------ order settings

TEST_CASE("Order settings: defaults, update with etag, ETAG_MISMATCH, per tenant",
          "[transaction][order_money][settings]") {
  const std::string tenant = NewTenant();
  auto d = Repo().GetSettings(tenant);
  REQUIRE(d.ok());
  CHECK_FALSE(d->create_unknown_customers);
  CHECK(d->version == 0);
  CHECK(d->update_time == absl::InfinitePast());

  // A stale etag on the defaults.
  app::OrderSettings on;
  on.create_unknown_customers = true;
  auto stale0 = Repo().UpdateSettings(ActorOf(tenant, "UpdateOrderSettings"), on, "3", absl::Now());
  RequireRefused(stale0.status(), StatusCode::kAborted, "ETAG_MISMATCH");
  CHECK(Repo().GetSettings(tenant)->version == 0);

  absl::Time t1 = absl::FromUnixMicros(1700000300000000);
  auto first = Repo().UpdateSettings(ActorOf(tenant, "UpdateOrderSettings"), on, "0", t1);
  INFO(first.status().ToString());
  REQUIRE(first.ok());
  CHECK(first->create_unknown_customers);
  CHECK(first->version == 1);
  auto got = Repo().GetSettings(tenant);
  REQUIRE(got.ok());
  CHECK(got->create_unknown_customers);
  CHECK(got->version == 1);
  CHECK(got->update_time == t1);

  app::OrderSettings off;
  auto second = Repo().UpdateSettings(ActorOf(tenant, "UpdateOrderSettings"), off, "1",
                                      t1 + absl::Seconds(1));
  REQUIRE(second.ok());
  CHECK(second->version == 2);
  CHECK_FALSE(second->create_unknown_customers);
  auto stale = Repo().UpdateSettings(ActorOf(tenant, "UpdateOrderSettings"), on, "1", absl::Now());
  RequireRefused(stale.status(), StatusCode::kAborted, "ETAG_MISMATCH");
  CHECK(absl::StrContains(stale.status().message(), "2"));
  auto unchanged = Repo().GetSettings(tenant);
  REQUIRE(unchanged.ok());
  CHECK_FALSE(unchanged->create_unknown_customers);
  CHECK(unchanged->version == 2);
  // Without an etag the update is unconditional.
  auto blind = Repo().UpdateSettings(ActorOf(tenant, "UpdateOrderSettings"), on, "", absl::Now());
  REQUIRE(blind.ok());
  CHECK(blind->version == 3);
  // Another tenant still has the defaults.
  auto other = Repo().GetSettings(NewTenant());
  REQUIRE(other.ok());
  CHECK_FALSE(other->create_unknown_customers);
  CHECK(other->version == 0);
}


// Two updates with the same etag racing: exactly one may win. A row lock held
// by another transaction lines both up behind the same point (they have read
// the settings, or wait to); once it is released, the loser must see the
// winner's version (ETAG_MISMATCH) instead of writing the same version again.
void RaceTwoUpdates(const std::string& tenant, const std::string& if_match,
                    const std::string& hold_sql, int64_t expected_version) {
  pqxx::connection c(ts::PgAppDsn());
  pqxx::work hold(c);
  hold.exec(absl::StrCat("SELECT set_config('app.tenant_id', '", tenant, "', true)"));
  hold.exec(hold_sql);
  std::vector<absl::Status> out(2);
  std::vector<std::thread> threads;
  for (int i = 0; i < 2; ++i) {
    threads.emplace_back([&, i] {
      app::OrderSettings s;
      s.create_unknown_customers = (i == 0);
      out[i] = Repo()
                   .UpdateSettings(ActorOf(tenant, "UpdateOrderSettings"), s, if_match,
                                   absl::Now())
                   .status();
    });
  }
  absl::SleepFor(absl::Milliseconds(700));  // both calls are now blocked behind `hold`
  hold.abort();
  for (auto& t : threads) t.join();
  int ok = 0, mismatch = 0;
  for (const auto& s : out) {
    INFO(s.ToString());
    if (s.ok()) ++ok;
    if (s.code() == StatusCode::kAborted && ReasonOf(s) == "ETAG_MISMATCH") ++mismatch;
  }
  CHECK(ok == 1);
  CHECK(mismatch == 1);
  auto now = Repo().GetSettings(tenant);
  REQUIRE(now.ok());
  CHECK(now->version == expected_version);
}

TEST_CASE("Order settings: concurrent updates with the same etag, one wins",
          "[transaction][order_money][settings][concurrency]") {
  const std::string tenant = NewTenant();
  app::OrderSettings s;
  REQUIRE(Repo().UpdateSettings(ActorOf(tenant, "UpdateOrderSettings"), s, "", absl::Now()).ok());
  RaceTwoUpdates(tenant, "1",
                 "SELECT 1 FROM txn.order_settings WHERE tenant_id = current_setting("
                 "'app.tenant_id')::uuid FOR UPDATE",
                 2);
}

TEST_CASE("Order settings: concurrent first writes with etag 0, one wins",
          "[transaction][order_money][settings][concurrency]") {
  const std::string tenant = NewTenant();
  RaceTwoUpdates(tenant, "0",
                 "INSERT INTO txn.order_settings (tenant_id, create_unknown_customers, version, "
                 "updated_at) VALUES (current_setting('app.tenant_id')::uuid, false, 7, now())",
                 1);
}

}  // namespace
}  // namespace crm::transaction::itest
