// TransactionGrpcService (catalog, orders, payments) through real stubs over
// fakes: mapping, sealed tenant context, error reasons, strict idempotency,
// overload, escaped exceptions and cancellation.
#include "absl/strings/match.h"
#include "libs/common/errors.h"
#include "libs/grpcutil/status_conversion.h"
#include "tests/unit/transaction_api/edge.h"

namespace crm::transaction::api_test {
namespace {

v1::Order CreateOrder(Edge& e, const std::string& request_id = "order-1") {
  v1::CreateOrderRequest req;
  *req.mutable_order() = NewOrder();
  req.set_request_id(request_id);
  v1::Order out;
  auto ctx = Edge::Ctx();
  grpc::Status s = e.stub->CreateOrder(ctx.get(), req, &out);
  INFO(s.error_message());
  REQUIRE(s.ok());
  return out;
}

TEST_CASE("transaction edge: products and orders are mapped and kept in their tenant",
          "[transaction][api]") {
  Edge e;
  v1::CreateProductRequest preq;
  preq.set_request_id("p-1");
  v1::Product* p = preq.mutable_product();
  p->set_sku("SKU-2");
  p->set_name("  Kind of Blue ");
  p->add_category_path("Music");
  p->add_category_path("Jazz");
  p->mutable_price()->set_amount_minor(1990);
  p->mutable_price()->set_currency_code("chf");
  p->set_active(true);
  v1::Product product;
  auto ctx = Edge::Ctx();
  grpc::Status s = e.stub->CreateProduct(ctx.get(), preq, &product);
  INFO(s.error_message());
  REQUIRE(s.ok());
  CHECK(product.sku() == "SKU-2");
  CHECK(product.name() == "Kind of Blue");
  CHECK(product.price().currency_code() == "CHF");
  CHECK_FALSE(product.etag().empty());
  CHECK(product.create_time().seconds() == 1767225600);
  CHECK(e.products.Get(kTenant, "SKU-2").ok());

  v1::GetProductRequest get;
  get.set_sku("SKU-2");
  v1::Product read;
  auto other = Edge::Ctx(kOtherTenant);
  RequireError(e.stub->GetProduct(other.get(), get, &read), grpc::StatusCode::NOT_FOUND,
               "PRODUCT_NOT_FOUND");

  v1::Order order = CreateOrder(e);
  CHECK(order.id() == testing::SequentialIdGenerator::IdFor(1));
  CHECK(order.customer_id() == kCustomer);
  CHECK(order.currency_code() == "CHF");
  CHECK(order.total_minor() == 3880);
  REQUIRE(order.lines_size() == 1);
  CHECK(order.lines(0).line_total_minor() == 3880);
  CHECK(order.status() == v1::ORDER_STATUS_PLACED);
  CHECK(order.channel() == v1::SALES_CHANNEL_WEB);
  CHECK(e.order_repo.Get(kTenant, order.id()).ok());

  v1::GetOrderRequest oget;
  oget.set_order_id(order.id());
  v1::Order again;
  auto mine = Edge::Ctx();
  REQUIRE(e.stub->GetOrder(mine.get(), oget, &again).ok());
  CHECK(again.etag() == order.etag());
  auto theirs = Edge::Ctx(kOtherTenant);
  RequireError(e.stub->GetOrder(theirs.get(), oget, &again), grpc::StatusCode::NOT_FOUND,
               "ORDER_NOT_FOUND");
  CHECK(gt::AwaitHandled(e.registry, "CreateOrder", "OK", 1));
  CHECK(gt::AwaitHandled(e.registry, "GetOrder", "NOT_FOUND", 1));
}

TEST_CASE("transaction edge: payments follow the money rules and replay by request_id",
          "[transaction][api]") {
  Edge e;
  v1::Order order = CreateOrder(e);

  v1::RecordPaymentRequest req;
  req.set_order_id(order.id());
  req.set_request_id("pay-1");
  req.mutable_payment()->set_amount_minor(3880);
  req.mutable_payment()->set_method(v1::PAYMENT_METHOD_CARD);
  req.mutable_payment()->set_status(v1::PAYMENT_STATUS_CAPTURED);
  v1::Payment paid;
  auto ctx = Edge::Ctx();
  grpc::Status s = e.stub->RecordPayment(ctx.get(), req, &paid);
  INFO(s.error_message());
  REQUIRE(s.ok());
  CHECK(paid.order_id() == order.id());
  CHECK(paid.amount_minor() == 3880);
  CHECK(paid.status() == v1::PAYMENT_STATUS_CAPTURED);
  CHECK(e.order_repo.Get(kTenant, order.id())->paid_minor == 3880);

  SECTION("the same request_id and body replays the first answer") {
    v1::Payment replay;
    auto c = Edge::Ctx();
    REQUIRE(e.stub->RecordPayment(c.get(), req, &replay).ok());
    CHECK(replay.id() == paid.id());
    CHECK(e.order_repo.Get(kTenant, order.id())->paid_minor == 3880);
  }
  SECTION("the same request_id with another body is refused") {
    req.mutable_payment()->set_amount_minor(1);
    v1::Payment out;
    auto c = Edge::Ctx();
    RequireError(e.stub->RecordPayment(c.get(), req, &out), grpc::StatusCode::INVALID_ARGUMENT,
                 "IDEMPOTENCY_KEY_REUSED");
  }
  SECTION("capturing more than the order total") {
    req.set_request_id("pay-2");
    req.mutable_payment()->set_amount_minor(1);
    v1::Payment out;
    auto c = Edge::Ctx();
    RequireError(e.stub->RecordPayment(c.get(), req, &out),
                 grpc::StatusCode::FAILED_PRECONDITION, "OVERPAYMENT");
  }
  SECTION("another tenant's order") {
    req.set_request_id("pay-3");
    v1::Payment out;
    auto c = Edge::Ctx(kOtherTenant);
    RequireError(e.stub->RecordPayment(c.get(), req, &out), grpc::StatusCode::NOT_FOUND,
                 "ORDER_NOT_FOUND");
  }
}

TEST_CASE("transaction edge: errors keep their code, reason and field", "[transaction][api]") {
  Edge e;
  v1::CreateOrderRequest req;
  *req.mutable_order() = NewOrder();
  v1::Order out;
  SECTION("no request_id") {
    auto ctx = Edge::Ctx();
    grpc::Status s = e.stub->CreateOrder(ctx.get(), req, &out);
    RequireError(s, grpc::StatusCode::INVALID_ARGUMENT, "INVALID_FIELD");
    CHECK(common::FieldOf(grpcutil::FromGrpcStatus(s)) == "request_id");
  }
  SECTION("a SKU the catalog does not have") {
    req.set_request_id("o-1");
    req.mutable_order()->mutable_lines(0)->set_sku("NOPE");
    auto ctx = Edge::Ctx();
    grpc::Status s = e.stub->CreateOrder(ctx.get(), req, &out);
    RequireError(s, grpc::StatusCode::INVALID_ARGUMENT, "UNKNOWN_SKU");
    CHECK(common::FieldOf(grpcutil::FromGrpcStatus(s)) == "lines[0].sku");
    CHECK(gt::ReasonTrailer(*ctx) == "UNKNOWN_SKU");
  }
  SECTION("a dependency that is down") {
    e.products.FailWith(absl::UnavailableError("database unreachable"));
    v1::GetProductRequest get;
    get.set_sku("SKU-1");
    v1::Product p;
    auto ctx = Edge::Ctx();
    RequireError(e.stub->GetProduct(ctx.get(), get, &p), grpc::StatusCode::UNAVAILABLE,
                 "DEPENDENCY_UNAVAILABLE");
  }
  SECTION("no tenant context") {
    req.set_request_id("o-1");
    auto ctx = gt::AnonymousContext();
    RequireError(e.stub->CreateOrder(ctx.get(), req, &out), grpc::StatusCode::UNAUTHENTICATED,
                 "MISSING_TENANT_CONTEXT");
    CHECK(e.order_repo.calls() == 0);
  }
}

TEST_CASE("transaction edge: overload, escaped exceptions and cancelled calls",
          "[transaction][api]") {
  Edge e;
  v1::CreateOrderRequest req;
  *req.mutable_order() = NewOrder();
  req.set_request_id("o-1");
  v1::Order out;
  SECTION("a full queue is RESOURCE_EXHAUSTED before any work") {
    gt::ExecutorGate gate(e.executor, 1);
    gate.FillQueue();
    auto ctx = Edge::Ctx();
    RequireError(e.stub->CreateOrder(ctx.get(), req, &out),
                 grpc::StatusCode::RESOURCE_EXHAUSTED, "OVERLOADED");
    CHECK(gt::RejectedCount(e.registry) == 1);
    CHECK(e.order_repo.calls() == 0);
  }
  SECTION("an exception is INTERNAL with a generic message") {
    e.clock.set_throwing(true);
    auto ctx = Edge::Ctx();
    grpc::Status s = e.stub->CreateOrder(ctx.get(), req, &out);
    RequireError(s, grpc::StatusCode::INTERNAL, "INTERNAL_ERROR");
    CHECK(s.error_message() == "internal error");
    CHECK_FALSE(absl::StrContains(s.error_details(), "10.0.0.7"));
    CHECK(gt::AwaitHandled(e.registry, "CreateOrder", "INTERNAL", 1));
  }
  SECTION("a deadline that passes while queued: the use case never runs") {
    gt::ExecutorGate gate(e.executor, 1);
    auto ctx = gt::CallContext(gt::Tenant(kTenant), absl::Milliseconds(200));
    CHECK(e.stub->CreateOrder(ctx.get(), req, &out).error_code() ==
          grpc::StatusCode::DEADLINE_EXCEEDED);
    absl::SleepFor(gt::kCancelNoticed);
    gate.Release();
    CHECK(gt::AwaitHandled(e.registry, "CreateOrder", "CANCELLED", 1));
    CHECK(e.order_repo.calls() == 0);
  }
}

}  // namespace
}  // namespace crm::transaction::api_test
