#pragma once
// Orders (pure): validation, totals and the status machine.
#include <cstdint>
#include <set>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace crm::transaction::domain {

// Numeric values match crm.transaction.v1.OrderStatus / SalesChannel.
enum class OrderStatus : int {
  kUnspecified = 0,
  kPlaced = 1,
  kPaid = 2,
  kFulfilled = 3,
  kCompleted = 4,
  kCancelled = 5,
  kPartiallyReturned = 6,  // some units returned (only through a return)
  kReturned = 7,           // every unit returned (only through a return)
};
enum class SalesChannel : int { kUnspecified = 0, kWeb, kStore, kCallCenter, kApp, kErp };

struct OrderLine {
  std::string sku;
  int64_t quantity = 0;
  int64_t unit_price_minor = 0;
  int64_t discount_minor = 0;
  int64_t line_total_minor = 0;  // computed
  int64_t returned_quantity = 0;  // units returned so far
  std::string price_quote;     // input: a signed personal price quote (libs/common/price_quote.h)
  std::string price_quote_id;  // the quote the line was priced by ("" when none)
};

struct Order {
  std::string id;
  std::string customer_id;
  std::string currency_code;
  std::vector<OrderLine> lines;
  int64_t total_minor = 0;  // 0 on input: computed; else must match
  std::string external_id;  // the ERP's order number; unique per tenant when set
  int64_t paid_minor = 0;      // captured payments
  int64_t returned_minor = 0;  // value of the returned units
  int64_t refunded_minor = 0;  // succeeded refunds
  int64_t adjusted_minor = 0;  // succeeded refunds not tied to a return
  SalesChannel channel = SalesChannel::kUnspecified;
  std::string store_id;
  absl::Time placed_time = absl::InfinitePast();
  OrderStatus status = OrderStatus::kUnspecified;
  int64_t version = 0;
  absl::Time create_time = absl::InfinitePast();
  absl::Time update_time = absl::InfinitePast();
};

inline constexpr int kMaxOrderLines = 500;

const char* StatusName(OrderStatus s);  // "placed", "paid", ...
// INVALID_FIELD on customer_id unless `id` is a UUID (the form of a
// customer-store id; whether the customer exists is checked there).
absl::Status CheckCustomerId(const std::string& id);
// Validates a new order, upper-cases its currency and computes line totals
// and the total (checked against a given total). Errors name the field
// ("lines[2].quantity").
absl::Status NormalizeAndValidate(Order& o);
// NormalizeAndValidate without the customer: for an order whose customer is
// resolved afterwards from a customer_ref (so a bad order resolves nothing).
absl::Status NormalizeAndValidateContent(Order& o);
// FAILED_PRECONDITION (INVALID_ORDER_TRANSITION) naming the current status
// unless `to` may follow `from`.
absl::Status CheckTransition(OrderStatus from, OrderStatus to);
// A status move (CheckTransition): status, version + 1, update time `now`.
// `o` is unchanged on a refusal.
absl::Status ApplyTransition(Order& o, OrderStatus to, absl::Time now);
// "order.<status>": the event announcing that an order took status `s`.
std::string StatusEventType(OrderStatus s);
// A stored line's total: quantity x unit price - discount (the line was
// checked on the way in, so nothing overflows).
int64_t LineTotalMinor(const OrderLine& l);
std::string EtagOf(const Order& o);
// What the order is worth after returns and refunds:
// total - max(returned, refunded) (never below 0). A return and the refund of
// it lower the value once, whether or not the refund names the return.
int64_t NetMinor(const Order& o);
// An external id: 1..64 printable ASCII characters without spaces.
bool IsValidExternalId(const std::string& id);

// A new order against the tenant's catalog: INVALID_ARGUMENT UNKNOWN_SKU on
// lines[i].sku for the first line whose SKU is not among `known`.
absl::Status CheckSkusKnown(const Order& o, const std::set<std::string>& known);
// The order's lines that cite a personal price quote (OrderLine::price_quote)
// priced by it: the token verified with `key` (libs/common/price_quote.h:
// PRICE_QUOTE_INVALID, PRICE_QUOTE_EXPIRED at `now`), quoted for `tenant`,
// the line's sku and the order's currency (PRICE_QUOTE_INVALID otherwise);
// the unit price set to the quoted one (a non-zero different one given:
// INVALID_FIELD lines[i].unit_price_minor) and the quote's id kept. Errors
// name lines[i].price_quote. An empty `key` refuses quotes
// (FAILED_PRECONDITION: not configured). Returns, per line, the customer the
// quote was made for ("" for a line without one), for CheckQuoteCustomers
// once the order's customer is known.
absl::StatusOr<std::vector<std::string>> ApplyPriceQuotes(Order& o, const std::string& tenant,
                                                          const std::string& key, absl::Time now);
// INVALID_ARGUMENT PRICE_QUOTE_INVALID on lines[i].price_quote for a quote
// made for another customer than the order's (`named`: the id the request
// gave, which may since have been merged into the order's customer).
absl::Status CheckQuoteCustomers(const Order& o, const std::vector<std::string>& quoted_for,
                                 const std::string& named);
// ALREADY_EXISTS ORDER_EXISTS on external_id: order `existing_id` of the
// tenant already has the new order's external id.
absl::Status ExternalIdTaken(const std::string& existing_id, const std::string& external_id);

// ---- Returns ----
struct ReturnLineRequest {
  int line_no = 0;  // index into Order::lines
  int64_t quantity = 0;
};
struct ReturnLine {
  int line_no = 0;
  std::string sku;
  int64_t quantity = 0;
  int64_t amount_minor = 0;
};
struct ReturnPlan {
  std::vector<ReturnLine> lines;
  int64_t amount_minor = 0;
  OrderStatus new_status = OrderStatus::kUnspecified;
};
struct Return {
  std::string id;
  std::string order_id;
  std::vector<ReturnLine> lines;
  int64_t amount_minor = 0;
  std::string reason;
  absl::Time create_time = absl::InfinitePast();
};
// Checks a return against the order (FAILED_PRECONDITION RETURN_NOT_ALLOWED
// unless fulfilled, completed or partially returned; INVALID_ARGUMENT naming
// lines[i] for unknown lines, repeated lines or more units than remain) and
// values it exactly: the first r of a line's q units are worth
// floor(line_total * r / q), so returning every unit, in any number of
// returns, gives back exactly the line total.
absl::StatusOr<ReturnPlan> PlanReturn(const Order& o, const std::vector<ReturnLineRequest>& lines);
// Applies a plan to the order (returned quantities, returned_minor, status).
void ApplyReturn(Order& o, const ReturnPlan& plan);

// ---- Payments ----
enum class PaymentStatus : int { kUnspecified = 0, kAuthorized, kCaptured, kFailed, kVoided };
enum class PaymentMethod : int {
  kUnspecified = 0, kCard, kCash, kBankTransfer, kInvoice, kWallet, kGiftCard, kOther
};
struct Payment {
  std::string id;
  std::string order_id;
  int64_t amount_minor = 0;
  PaymentMethod method = PaymentMethod::kUnspecified;
  PaymentStatus status = PaymentStatus::kUnspecified;
  std::string provider_ref;
  int64_t version = 0;
  absl::Time create_time = absl::InfinitePast();
  absl::Time update_time = absl::InfinitePast();
};
const char* PaymentStatusName(PaymentStatus s);  // "authorized", ...
// A new payment: amount > 0, known method, status authorized, captured or
// failed, provider_ref storable (<= 128).
absl::Status ValidateNewPayment(const Payment& p);
// authorized -> captured | voided | failed; FAILED_PRECONDITION
// (INVALID_PAYMENT_TRANSITION) naming the current status otherwise.
absl::Status CheckPaymentTransition(PaymentStatus from, PaymentStatus to);
// Capturing `amount` on `o`: refused for cancelled orders and beyond the
// order total (FAILED_PRECONDITION OVERPAYMENT). Returns the order status
// after it (placed becomes paid once captured payments cover the total).
absl::StatusOr<OrderStatus> CheckCapture(const Order& o, int64_t amount);

// ---- Refunds ----
enum class RefundStatus : int { kUnspecified = 0, kPending, kSucceeded, kFailed };
struct Refund {
  std::string id;
  std::string order_id;
  std::string return_id;  // optional: the return it pays back
  int64_t amount_minor = 0;
  RefundStatus status = RefundStatus::kUnspecified;
  std::string reason;
  int64_t version = 0;
  absl::Time create_time = absl::InfinitePast();
  absl::Time update_time = absl::InfinitePast();
};
const char* RefundStatusName(RefundStatus s);
// pending -> succeeded | failed.
absl::Status CheckRefundTransition(RefundStatus from, RefundStatus to);
// A new refund of `amount` on `o`, with `open_refunds` = pending + succeeded
// refunds so far: amount > 0, status pending or succeeded, and never more
// than was captured (FAILED_PRECONDITION REFUND_EXCEEDS_PAYMENTS).
absl::Status CheckNewRefund(const Order& o, const Refund& r, int64_t open_refunds);

}  // namespace crm::transaction::domain
