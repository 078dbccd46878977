// Pure rules of payments, returns and refunds (domain/order.cc), and the
// customer resolution of Orders::Create over a fake directory.
#include <catch2/catch.hpp>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "libs/common/errors.h"
#include "services/transaction/app/orders.h"
#include "services/transaction/domain/order.h"
#include "tests/support/fakes/common_fakes.h"
#include "tests/support/fakes/transaction/fake_customer_book.h"
#include "tests/support/fakes/transaction/fake_order_repository.h"

namespace {

using namespace crm::transaction;  // NOLINT
using crm::common::FieldOf;
using crm::common::ReasonOf;
using domain::Order;
using domain::OrderStatus;
using domain::PaymentStatus;
using domain::RefundStatus;
using domain::ReturnLineRequest;

constexpr char kTenant[] = "11111111-1111-4111-8111-111111111111";
constexpr char kCustomer[] = "33333333-3333-4333-8333-333333333333";

// Line 0: 3 x 1000 - 1 = 2999; line 1: 1 x 500 = 500; total 3499.
Order Fulfilled() {
  Order o;
  o.customer_id = kCustomer;
  o.currency_code = "CHF";
  o.lines = {{"SKU-1", 3, 1000, 1, 0, 0}, {"SKU-2", 1, 500, 0, 0, 0}};
  REQUIRE(domain::NormalizeAndValidate(o).ok());
  o.status = OrderStatus::kFulfilled;
  return o;
}

ReturnLineRequest Ret(int line, int64_t q) {
  ReturnLineRequest r;
  r.line_no = line;
  r.quantity = q;
  return r;
}

TEST_CASE("PlanReturn values returned units so that all returns add up to the line total",
          "[transaction][returns]") {
  Order o = Fulfilled();
  REQUIRE(o.lines[0].line_total_minor == 2999);
  auto first = domain::PlanReturn(o, {Ret(0, 1)});
  REQUIRE(first.ok());
  CHECK(first->amount_minor == 999);  // floor(2999 * 1 / 3)
  CHECK(first->new_status == OrderStatus::kPartiallyReturned);
  domain::ApplyReturn(o, *first);
  CHECK(o.lines[0].returned_quantity == 1);
  CHECK(o.returned_minor == 999);
  CHECK(o.status == OrderStatus::kPartiallyReturned);

  auto second = domain::PlanReturn(o, {Ret(0, 2), Ret(1, 1)});
  REQUIRE(second.ok());
  CHECK(second->lines[0].amount_minor == 2000);  // floor(2999*3/3) - floor(2999*1/3)
  CHECK(second->lines[1].amount_minor == 500);
  CHECK(second->new_status == OrderStatus::kReturned);
  domain::ApplyReturn(o, *second);
  CHECK(o.returned_minor == o.total_minor);
  CHECK(domain::NetMinor(o) == 0);
}

TEST_CASE("PlanReturn refuses what cannot be returned, naming the field", "[transaction][returns]") {
  Order o = Fulfilled();
  SECTION("more units than remain") {
    auto r = domain::PlanReturn(o, {Ret(0, 4)});
    REQUIRE(r.status().code() == absl::StatusCode::kInvalidArgument);
    CHECK(FieldOf(r.status()) == "lines[0].quantity");
    CHECK(absl::StrContains(r.status().message(), "1..3"));
  }
  SECTION("zero or negative units") {
    CHECK(FieldOf(domain::PlanReturn(o, {Ret(1, 0)}).status()) == "lines[0].quantity");
    CHECK(FieldOf(domain::PlanReturn(o, {Ret(1, -1)}).status()) == "lines[0].quantity");
  }
  SECTION("a line that is not in the order") {
    CHECK(FieldOf(domain::PlanReturn(o, {Ret(2, 1)}).status()) == "lines[0].line_no");
    CHECK(FieldOf(domain::PlanReturn(o, {Ret(-1, 1)}).status()) == "lines[0].line_no");
  }
  SECTION("the same line twice") {
    CHECK(FieldOf(domain::PlanReturn(o, {Ret(0, 1), Ret(0, 1)}).status()) == "lines[1].line_no");
  }
  SECTION("no lines") { CHECK(FieldOf(domain::PlanReturn(o, {}).status()) == "lines"); }
  SECTION("orders that were not delivered") {
    for (OrderStatus s : {OrderStatus::kPlaced, OrderStatus::kPaid, OrderStatus::kCancelled,
                          OrderStatus::kReturned}) {
      o.status = s;
      auto r = domain::PlanReturn(o, {Ret(0, 1)});
      REQUIRE(r.status().code() == absl::StatusCode::kFailedPrecondition);
      CHECK(ReasonOf(r.status()) == "RETURN_NOT_ALLOWED");
      CHECK(absl::StrContains(r.status().message(), domain::StatusName(s)));
    }
  }
}

TEST_CASE("Returned statuses are reached only through returns", "[transaction][returns]") {
  for (OrderStatus to : {OrderStatus::kPartiallyReturned, OrderStatus::kReturned}) {
    absl::Status s = domain::CheckTransition(OrderStatus::kCompleted, to);
    CHECK(s.code() == absl::StatusCode::kFailedPrecondition);
    CHECK(absl::StrContains(s.message(), "CreateReturn"));
  }
  CHECK(domain::CheckTransition(OrderStatus::kPartiallyReturned, OrderStatus::kCompleted).code() ==
        absl::StatusCode::kFailedPrecondition);
}

TEST_CASE("Captures never exceed the order total, covering it makes a placed order paid",
          "[transaction][payments]") {
  Order o = Fulfilled();
  o.status = OrderStatus::kPlaced;
  auto part = domain::CheckCapture(o, 1000);
  REQUIRE(part.ok());
  CHECK(*part == OrderStatus::kPlaced);
  o.paid_minor = 1000;
  auto rest = domain::CheckCapture(o, 2499);
  REQUIRE(rest.ok());
  CHECK(*rest == OrderStatus::kPaid);
  auto over = domain::CheckCapture(o, 2500);
  CHECK(ReasonOf(over.status()) == "OVERPAYMENT");
  o.status = OrderStatus::kCancelled;
  CHECK(ReasonOf(domain::CheckCapture(o, 1).status()) == "PAYMENT_NOT_ALLOWED");
}

TEST_CASE("Payment and refund status machines", "[transaction][payments]") {
  CHECK(domain::CheckPaymentTransition(PaymentStatus::kAuthorized, PaymentStatus::kCaptured).ok());
  CHECK(domain::CheckPaymentTransition(PaymentStatus::kAuthorized, PaymentStatus::kVoided).ok());
  CHECK(domain::CheckPaymentTransition(PaymentStatus::kAuthorized, PaymentStatus::kFailed).ok());
  absl::Status s =
      domain::CheckPaymentTransition(PaymentStatus::kCaptured, PaymentStatus::kVoided);
  CHECK(ReasonOf(s) == "INVALID_PAYMENT_TRANSITION");
  CHECK(absl::StrContains(s.message(), "the payment is captured"));
  CHECK(domain::CheckRefundTransition(RefundStatus::kPending, RefundStatus::kSucceeded).ok());
  CHECK(domain::CheckRefundTransition(RefundStatus::kPending, RefundStatus::kFailed).ok());
  CHECK(ReasonOf(domain::CheckRefundTransition(RefundStatus::kSucceeded, RefundStatus::kFailed)) ==
        "INVALID_REFUND_TRANSITION");

  domain::Payment p;
  p.amount_minor = 100;
  p.method = domain::PaymentMethod::kCard;
  p.status = PaymentStatus::kCaptured;
  CHECK(domain::ValidateNewPayment(p).ok());
  p.status = PaymentStatus::kVoided;
  CHECK(FieldOf(domain::ValidateNewPayment(p)) == "status");
  p.status = PaymentStatus::kAuthorized;
  p.amount_minor = 0;
  CHECK(FieldOf(domain::ValidateNewPayment(p)) == "amount_minor");
  p.amount_minor = 1;
  p.method = domain::PaymentMethod::kUnspecified;
  CHECK(FieldOf(domain::ValidateNewPayment(p)) == "method");
}

TEST_CASE("Refunds never exceed what was captured", "[transaction][refunds]") {
  Order o = Fulfilled();
  o.paid_minor = 3000;
  domain::Refund r;
  r.amount_minor = 2000;
  r.status = RefundStatus::kPending;
  CHECK(domain::CheckNewRefund(o, r, 1000).ok());
  CHECK(ReasonOf(domain::CheckNewRefund(o, r, 1001)) == "REFUND_EXCEEDS_PAYMENTS");
  r.status = RefundStatus::kFailed;
  CHECK(FieldOf(domain::CheckNewRefund(o, r, 0)) == "status");
  r.status = RefundStatus::kSucceeded;
  r.amount_minor = -5;
  CHECK(FieldOf(domain::CheckNewRefund(o, r, 0)) == "amount_minor");
}

TEST_CASE("NetMinor is total minus the larger of returns and refunds, never negative",
          "[transaction][refunds]") {
  Order o = Fulfilled();
  o.returned_minor = 999;
  CHECK(domain::NetMinor(o) == 3499 - 999);  // returned, not refunded yet
  o.refunded_minor = 999;                     // the return refunded (linked or not)
  CHECK(domain::NetMinor(o) == 3499 - 999);
  o.refunded_minor = 1499;                    // + 500 goodwill
  CHECK(domain::NetMinor(o) == 3499 - 1499);
  o.returned_minor = 0;
  o.refunded_minor = 5000;
  CHECK(domain::NetMinor(o) == 0);
}

TEST_CASE("External ids are 1..64 printable characters without spaces", "[transaction][orders]") {
  CHECK(domain::IsValidExternalId("ERP-2026-000123"));
  CHECK_FALSE(domain::IsValidExternalId(""));
  CHECK_FALSE(domain::IsValidExternalId("has space"));
  CHECK_FALSE(domain::IsValidExternalId(std::string(65, 'x')));
  CHECK_FALSE(domain::IsValidExternalId("tab\there"));
  Order o = Fulfilled();
  o.external_id = "bad id";
  CHECK(FieldOf(domain::NormalizeAndValidate(o)) == "external_id");
}

TEST_CASE("Derived idempotency keys stay within 128 characters and distinct",
          "[transaction][orders][resolve]") {
  CHECK(app::DerivedKey("web-1", "customer") == "web-1/customer");
  std::string k119(119, 'k');
  CHECK(app::DerivedKey(k119, "customer") == k119 + "/customer");  // exactly 128
  std::string k120(120, 'k');
  std::string d = app::DerivedKey(k120, "customer");
  CHECK(d.size() == 64 + 9);
  CHECK(absl::EndsWith(d, "/customer"));
  CHECK(d != app::DerivedKey(std::string(120, 'j'), "customer"));
  CHECK(app::DerivedKey(std::string(128, 'k'), "customer").size() <= 128);
}

// ---- customer resolution in Orders::Create ----

class FakeDirectory final : public app::CustomerDirectory {
 public:
  absl::StatusOr<app::ResolvedCustomer> Resolve(const app::Actor& actor,
                                                const app::CustomerIdentities& who,
                                                bool create) override {
    ++calls;
    last_key = actor.idempotency_key;
    if (who.email == "known@example.com") return app::ResolvedCustomer{kCustomer, false};
    if (!create) {
      return crm::common::WithReason(absl::NotFoundError("no customer"), "CUSTOMER_NOT_RESOLVED");
    }
    return app::ResolvedCustomer{"44444444-4444-4444-8444-444444444444", true};
  }
  absl::StatusOr<std::vector<app::RefResolution>> ResolveBatch(
      const app::Actor& actor, const std::vector<app::CustomerRefInput>& refs,
      bool create) override {
    return book.ResolveBatch(actor, refs, create);
  }
  int calls = 0;
  std::string last_key;
  crm::testing::FakeCustomerBook book;
};

class FakeSettings final : public app::OrderSettingsRepository {
 public:
  absl::StatusOr<app::OrderSettings> GetSettings(const std::string&) override { return s; }
  absl::StatusOr<app::OrderSettings> UpdateSettings(const app::Actor&, const app::OrderSettings& n,
                                                    const std::string&, absl::Time) override {
    s = n;
    return s;
  }
  app::OrderSettings s;
};

struct ResolveFixture {
  crm::testing::FakeOrderRepository repo;
  crm::testing::FixedClock clock;
  crm::testing::SequentialIdGenerator ids;
  FakeDirectory directory;
  FakeSettings settings;
  app::Orders orders{repo, clock, ids, &directory, &settings};
  ResolveFixture() {
    repo.AddSku(kTenant, "SKU-1");
    directory.book.AddCustomer(kTenant, kCustomer);
  }
  app::Actor Actor() { return app::Actor{kTenant, "k1", "req-1", "CreateOrder", "key-1", "fp"}; }
  Order New() {
    Order o;
    o.currency_code = "CHF";
    o.lines = {{"SKU-1", 1, 100, 0, 0, 0}};
    return o;
  }
};

TEST_CASE("Orders with a customer_ref are booked to the resolved customer",
          "[transaction][orders][resolve]") {
  ResolveFixture f;
  app::CustomerIdentities who;
  who.email = "known@example.com";
  auto r = f.orders.Create(f.Actor(), f.New(), &who);
  INFO(r.status().ToString());
  REQUIRE(r.ok());
  CHECK(r->customer_id == kCustomer);
  CHECK(f.directory.last_key == "key-1/customer");
}

TEST_CASE("Unknown customers are created only when the tenant's settings say so",
          "[transaction][orders][resolve]") {
  ResolveFixture f;
  app::CustomerIdentities who;
  who.email = "new@example.com";
  auto refused = f.orders.Create(f.Actor(), f.New(), &who);
  CHECK(ReasonOf(refused.status()) == "CUSTOMER_NOT_RESOLVED");
  CHECK(f.repo.last_insert() == std::nullopt);
  f.settings.s.create_unknown_customers = true;
  auto created = f.orders.Create(f.Actor(), f.New(), &who);
  REQUIRE(created.ok());
  CHECK(created->customer_id == "44444444-4444-4444-8444-444444444444");
}

TEST_CASE("customer_ref is checked before anything is resolved", "[transaction][orders][resolve]") {
  ResolveFixture f;
  app::CustomerIdentities who;
  SECTION("no identity") {
    CHECK(FieldOf(f.orders.Create(f.Actor(), f.New(), &who).status()) == "customer_ref");
  }
  SECTION("external id without source") {
    who.external_id = "C-1";
    CHECK(FieldOf(f.orders.Create(f.Actor(), f.New(), &who).status()) ==
          "customer_ref.external_id_source");
  }
  SECTION("both customer_id and customer_ref") {
    who.email = "known@example.com";
    Order o = f.New();
    o.customer_id = kCustomer;
    CHECK(FieldOf(f.orders.Create(f.Actor(), o, &who).status()) == "customer_ref");
  }
  SECTION("an invalid order creates no customer") {
    f.settings.s.create_unknown_customers = true;
    who.email = "new@example.com";
    Order o = f.New();
    o.lines[0].quantity = 0;
    CHECK(FieldOf(f.orders.Create(f.Actor(), o, &who).status()) == "lines[0].quantity");
  }
  CHECK(f.directory.calls == 0);
}

TEST_CASE("An order's customer_id must name a customer of the tenant in customer-store",
          "[transaction][orders][customers]") {
  ResolveFixture f;
  f.directory.book.AddCustomer(kTenant, "66666666-6666-4666-8666-666666666666");
  f.directory.book.Merge(kTenant, "55555555-5555-4555-8555-555555555555",
                         "66666666-6666-4666-8666-666666666666");
  SECTION("an existing customer: booked, one check") {
    Order o = f.New();
    o.customer_id = kCustomer;
    auto r = f.orders.Create(f.Actor(), o);
    REQUIRE(r.ok());
    CHECK(r->customer_id == kCustomer);
    CHECK(f.directory.book.calls == 1);
    CHECK_FALSE(f.directory.book.creates[0]);
    // The replay answers from the key without asking customer-store.
    auto again = f.orders.Create(f.Actor(), o);
    REQUIRE(again.ok());
    CHECK(again->id == r->id);
    CHECK(f.directory.book.calls == 1);
  }
  SECTION("an unknown (or another tenant's) id: FAILED_PRECONDITION, nothing written") {
    Order o = f.New();
    o.customer_id = "77777777-7777-4777-8777-777777777777";
    auto r = f.orders.Create(f.Actor(), o);
    CHECK(r.status().code() == absl::StatusCode::kFailedPrecondition);
    CHECK(ReasonOf(r.status()) == "CUSTOMER_NOT_FOUND");
    CHECK(FieldOf(r.status()) == "customer_id");
    CHECK(f.repo.last_insert() == std::nullopt);
  }
  SECTION("a merged-away id is booked to the survivor") {
    Order o = f.New();
    o.customer_id = "55555555-5555-4555-8555-555555555555";
    auto r = f.orders.Create(f.Actor(), o);
    REQUIRE(r.ok());
    CHECK(r->customer_id == "66666666-6666-4666-8666-666666666666");
  }
  SECTION("customer-store down: UNAVAILABLE, nothing written") {
    f.directory.book.fail = crm::common::WithReason(absl::UnavailableError("down"),
                                                    "CUSTOMER_STORE_UNAVAILABLE");
    Order o = f.New();
    o.customer_id = kCustomer;
    CHECK(f.orders.Create(f.Actor(), o).status().code() == absl::StatusCode::kUnavailable);
    CHECK(f.repo.last_insert() == std::nullopt);
  }
  SECTION("an invalid order is refused before customer-store is asked") {
    Order o = f.New();
    o.customer_id = kCustomer;
    o.lines[0].quantity = 0;
    CHECK(FieldOf(f.orders.Create(f.Actor(), o).status()) == "lines[0].quantity");
    CHECK(f.directory.book.calls == 0);
  }
}

}  // namespace
