// Pure rules of how payments, returns and refunds change an order
// (domain/order_money.cc) and of order status moves: the running sums,
// statuses, versions and the refund limits the PostgreSQL repository and
// the fake share.
#include <catch2/catch.hpp>
#include <cstdint>
#include <string>
#include <vector>

#include "libs/common/errors.h"
#include "services/transaction/domain/order.h"
#include "services/transaction/domain/order_money.h"
#include "tests/support/status_checks.h"

namespace {

using crm::common::FieldOf;
using crm::testing::RequireRefused;
using crm::testing::ValueOf;
using namespace crm::transaction::domain;  // NOLINT

constexpr char kCustomer[] = "33333333-3333-4333-8333-333333333333";
constexpr char kReturnId[] = "77777777-7777-4777-8777-777777777777";
const absl::Time kNow = absl::FromUnixSeconds(1767225600);

// 2 x 1000 = 2000; 1 x 500 - 100 = 400; total 2400.
Order Placed() {
  Order o;
  o.customer_id = kCustomer;
  o.currency_code = "CHF";
  o.lines = {{"SKU-1", 2, 1000, 0, 0, 0}, {"SKU-2", 1, 500, 100, 0, 0}};
  REQUIRE(NormalizeAndValidate(o).ok());
  o.status = OrderStatus::kPlaced;
  o.version = 1;
  return o;
}

Payment NewPayment(int64_t amount, PaymentStatus status) {
  Payment p;
  p.amount_minor = amount;
  p.method = PaymentMethod::kCard;
  p.status = status;
  p.version = 1;
  return p;
}

Refund NewRefund(int64_t amount, RefundStatus status, const std::string& return_id = "") {
  Refund r;
  r.amount_minor = amount;
  r.status = status;
  r.return_id = return_id;
  r.version = 1;
  return r;
}

// A payment or refund after its first status move to `to` at kNow.
template <typename Record, typename Status>
void CheckMoved(const Record& r, Status to) {
  CHECK(r.status == to);
  CHECK(r.version == 2);
  CHECK(r.update_time == kNow);
}

TEST_CASE("LineTotalMinor is quantity x unit price - discount", "[transaction][orders][money]") {
  Order o = Placed();
  CHECK(LineTotalMinor(o.lines[0]) == 2000);
  CHECK(LineTotalMinor(o.lines[1]) == 400);
  CHECK(o.lines[1].line_total_minor == LineTotalMinor(o.lines[1]));
}

TEST_CASE("ApplyTransition moves the status and bumps the version", "[transaction][orders]") {
  Order o = Placed();
  REQUIRE(ApplyTransition(o, OrderStatus::kPaid, kNow).ok());
  CHECK(o.status == OrderStatus::kPaid);
  CHECK(o.version == 2);
  CHECK(o.update_time == kNow);
  absl::Status s = ApplyTransition(o, OrderStatus::kReturned, kNow + absl::Hours(1));
  RequireRefused(s, absl::StatusCode::kFailedPrecondition, "INVALID_ORDER_TRANSITION");
  CHECK(o.status == OrderStatus::kPaid);
  CHECK(o.version == 2);
  CHECK(o.update_time == kNow);
  CHECK(StatusEventType(OrderStatus::kPartiallyReturned) == "order.partially_returned");
}

TEST_CASE("Captures add to paid, covering the total makes a placed order paid",
          "[transaction][payments][money]") {
  Order o = Placed();
  CHECK(ValueOf(ApplyNewPayment(o, NewPayment(1000, PaymentStatus::kCaptured))));
  CHECK(o.paid_minor == 1000);
  CHECK(o.status == OrderStatus::kPlaced);
  CHECK(ApplyOrderChange(o, OrderStatus::kPlaced, kNow) == "order.updated");
  CHECK(o.version == 2);
  CHECK(o.update_time == kNow);

  // An authorization changes no sum.
  CHECK_FALSE(ValueOf(ApplyNewPayment(o, NewPayment(1400, PaymentStatus::kAuthorized))));
  Payment p = NewPayment(1400, PaymentStatus::kAuthorized);
  CHECK(ValueOf(ApplyPaymentStatus(o, p, PaymentStatus::kCaptured, kNow)));
  CheckMoved(p, PaymentStatus::kCaptured);
  CHECK(o.paid_minor == 2400);
  CHECK(o.status == OrderStatus::kPaid);
  CHECK(ApplyOrderChange(o, OrderStatus::kPlaced, kNow) == "order.paid");
  CHECK(o.version == 3);
}

TEST_CASE("Payments beyond the total or on cancelled orders are refused and change nothing",
          "[transaction][payments][money]") {
  Order o = Placed();
  o.paid_minor = 2000;
  absl::Status s = ApplyNewPayment(o, NewPayment(401, PaymentStatus::kCaptured)).status();
  RequireRefused(s, absl::StatusCode::kFailedPrecondition, "OVERPAYMENT");
  CHECK(s.message() ==
        "capturing 401 would exceed the order total: 2000 of 2400 is captured already");
  // Authorizing more than remains is fine: only captures count.
  CHECK(ApplyNewPayment(o, NewPayment(401, PaymentStatus::kAuthorized)).ok());
  Payment p = NewPayment(401, PaymentStatus::kAuthorized);
  RequireRefused(ApplyPaymentStatus(o, p, PaymentStatus::kCaptured, kNow).status(),
                 absl::StatusCode::kFailedPrecondition, "OVERPAYMENT");
  CHECK(p.status == PaymentStatus::kAuthorized);
  CHECK(p.version == 1);
  Payment voided = NewPayment(10, PaymentStatus::kVoided);
  RequireRefused(ApplyPaymentStatus(o, voided, PaymentStatus::kCaptured, kNow).status(),
                 absl::StatusCode::kFailedPrecondition, "INVALID_PAYMENT_TRANSITION");
  CHECK(o.paid_minor == 2000);

  Order cancelled = Placed();
  cancelled.status = OrderStatus::kCancelled;
  for (PaymentStatus st :
       {PaymentStatus::kCaptured, PaymentStatus::kAuthorized, PaymentStatus::kFailed}) {
    RequireRefused(ApplyNewPayment(cancelled, NewPayment(10, st)).status(),
                   absl::StatusCode::kFailedPrecondition, "PAYMENT_NOT_ALLOWED");
  }
  CHECK(cancelled.paid_minor == 0);
}

TEST_CASE("ApplyNewReturn values the return and moves the order to (partially) returned",
          "[transaction][returns][money]") {
  Order o = Placed();
  o.status = OrderStatus::kFulfilled;
  Return r;
  REQUIRE(ApplyNewReturn(o, r, {{0, 1}}).ok());
  CHECK(r.amount_minor == 1000);
  REQUIRE(r.lines.size() == 1);
  CHECK(r.lines[0].sku == "SKU-1");
  CHECK(o.returned_minor == 1000);
  CHECK(o.lines[0].returned_quantity == 1);
  CHECK(o.status == OrderStatus::kPartiallyReturned);
  CHECK(ApplyOrderChange(o, OrderStatus::kFulfilled, kNow) == "order.partially_returned");
  Return rest;
  REQUIRE(ApplyNewReturn(o, rest, {{0, 1}, {1, 1}}).ok());
  CHECK(rest.amount_minor == 1400);
  CHECK(o.returned_minor == 2400);
  CHECK(o.status == OrderStatus::kReturned);
  Return more;
  RequireRefused(ApplyNewReturn(o, more, {{0, 1}}), absl::StatusCode::kFailedPrecondition,
                 "RETURN_NOT_ALLOWED");
  CHECK(more.lines.empty());
  CHECK(o.returned_minor == 2400);
}

TEST_CASE("OpenRefundsMinor sums pending and succeeded refunds", "[transaction][refunds][money]") {
  std::vector<Refund> refunds = {NewRefund(100, RefundStatus::kPending),
                                 NewRefund(200, RefundStatus::kSucceeded, kReturnId),
                                 NewRefund(400, RefundStatus::kFailed, kReturnId),
                                 NewRefund(800, RefundStatus::kPending, kReturnId)};
  CHECK(OpenRefundsMinor(refunds) == 1100);
  CHECK(OpenRefundsMinor(refunds, kReturnId) == 1000);
  CHECK(OpenRefundsMinor({}) == 0);
}

TEST_CASE("Refunds never exceed captures nor the value of their return",
          "[transaction][refunds][money]") {
  Order o = Placed();
  o.paid_minor = 2400;
  o.status = OrderStatus::kPartiallyReturned;
  Return ret;
  ret.id = kReturnId;
  ret.amount_minor = 1000;
  std::vector<Refund> refunds = {NewRefund(300, RefundStatus::kSucceeded, kReturnId),
                                 NewRefund(500, RefundStatus::kFailed)};

  absl::Status s =
      ApplyNewRefund(o, NewRefund(701, RefundStatus::kPending, kReturnId), refunds, {ret}).status();
  RequireRefused(s, absl::StatusCode::kFailedPrecondition, "REFUND_EXCEEDS_RETURN");
  CHECK(s.message() == std::string("refunding 701 would exceed the value of return ") + kReturnId +
                           ": 300 of 1000 is refunded or pending already");
  s = ApplyNewRefund(o, NewRefund(2101, RefundStatus::kPending), refunds, {ret}).status();
  RequireRefused(s, absl::StatusCode::kFailedPrecondition, "REFUND_EXCEEDS_PAYMENTS");
  CHECK(s.message() ==
        "refunding 2101 would exceed the captured payments: 300 of 2400 is refunded or pending "
        "already");
  // An unknown return is reported first, whatever was captured.
  s = ApplyNewRefund(
          o, NewRefund(9999, RefundStatus::kPending, "88888888-8888-4888-8888-888888888888"),
          refunds, {ret})
          .status();
  RequireRefused(s, absl::StatusCode::kNotFound, "RETURN_NOT_FOUND");
  CHECK(FieldOf(s) == "return_id");
  CHECK(s.message() == "return not found");
  CHECK(o.refunded_minor == 0);

  auto pending =
      ApplyNewRefund(o, NewRefund(700, RefundStatus::kPending, kReturnId), refunds, {ret});
  REQUIRE(pending.ok());
  CHECK_FALSE(*pending);
  CHECK(o.refunded_minor == 0);
  auto linked =
      ApplyNewRefund(o, NewRefund(700, RefundStatus::kSucceeded, kReturnId), refunds, {ret});
  REQUIRE(linked.ok());
  CHECK(*linked);
  CHECK(o.refunded_minor == 700);
  CHECK(o.adjusted_minor == 0);
  auto goodwill = ApplyNewRefund(o, NewRefund(50, RefundStatus::kSucceeded), refunds, {ret});
  REQUIRE(goodwill.ok());
  CHECK(o.refunded_minor == 750);
  CHECK(o.adjusted_minor == 50);
  CHECK(o.status == OrderStatus::kPartiallyReturned);
  CHECK(ApplyOrderChange(o, OrderStatus::kPartiallyReturned, kNow) == "order.updated");
}

TEST_CASE("ApplyRefundStatus: succeeding counts the refund, failing does not",
          "[transaction][refunds][money]") {
  Order o = Placed();
  o.paid_minor = 2400;
  Refund f = NewRefund(100, RefundStatus::kPending);
  CHECK(ValueOf(ApplyRefundStatus(o, f, RefundStatus::kSucceeded, kNow)));
  CheckMoved(f, RefundStatus::kSucceeded);
  CHECK(o.refunded_minor == 100);
  CHECK(o.adjusted_minor == 100);
  RequireRefused(ApplyRefundStatus(o, f, RefundStatus::kFailed, kNow).status(),
                 absl::StatusCode::kFailedPrecondition, "INVALID_REFUND_TRANSITION");
  CHECK(f.version == 2);
  Refund g = NewRefund(200, RefundStatus::kPending, kReturnId);
  CHECK_FALSE(ValueOf(ApplyRefundStatus(o, g, RefundStatus::kFailed, kNow)));
  CHECK(o.refunded_minor == 100);
  Refund h = NewRefund(300, RefundStatus::kPending, kReturnId);
  REQUIRE(ApplyRefundStatus(o, h, RefundStatus::kSucceeded, kNow).ok());
  CHECK(o.refunded_minor == 400);
  CHECK(o.adjusted_minor == 100);
}

}  // namespace
