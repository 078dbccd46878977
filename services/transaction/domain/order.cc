#include "services/transaction/domain/order.h"

#include <algorithm>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "libs/common/currency.h"
#include "libs/common/errors.h"
#include "libs/common/id.h"
#include "libs/common/price_quote.h"
#include "libs/common/status_macros.h"
#include "libs/common/text.h"
#include "services/transaction/domain/product.h"

namespace crm::transaction::domain {

using common::InvalidField;

namespace {

absl::Status QuoteRefused(size_t line, absl::string_view why) {
  return common::WithField(
      common::WithReason(absl::InvalidArgumentError(
                             absl::StrCat("lines[", line, "].price_quote ", why,
                                          ": ask QuotePrice for this customer, sku and currency")),
                         "PRICE_QUOTE_INVALID"),
      absl::StrCat("lines[", line, "].price_quote"));
}

}  // namespace

absl::StatusOr<std::vector<std::string>> ApplyPriceQuotes(Order& o, const std::string& tenant,
                                                          const std::string& key, absl::Time now) {
  std::vector<std::string> quoted_for(o.lines.size());
  const std::string currency = absl::AsciiStrToUpper(o.currency_code);
  for (size_t i = 0; i < o.lines.size(); ++i) {
    OrderLine& l = o.lines[i];
    l.price_quote_id.clear();
    if (l.price_quote.empty()) continue;
    if (key.empty()) {
      return common::WithField(
          absl::FailedPreconditionError("price quotes are not configured on this deployment"),
          absl::StrCat("lines[", i, "].price_quote"));
    }
    absl::StatusOr<common::PriceQuoteClaims> c = common::VerifyPriceQuote(key, l.price_quote, now);
    if (!c.ok()) {
      return common::WithField(
          common::WithReason(absl::Status(c.status().code(),
                                          absl::StrCat("lines[", i, "].", c.status().message())),
                             common::ReasonOf(c.status())),
          absl::StrCat("lines[", i, "].price_quote"));
    }
    if (c->tenant_id != tenant) return QuoteRefused(i, "is not a quote of this tenant");
    if (c->sku != l.sku)
      return QuoteRefused(i, absl::StrCat("was quoted for sku "
                                          ", c->sku, "
                                          ""));
    if (c->currency_code != currency) {
      return QuoteRefused(i, absl::StrCat("was quoted in ", c->currency_code));
    }
    if (l.unit_price_minor != 0 && l.unit_price_minor != c->unit_price_minor) {
      return InvalidField(absl::StrCat("lines[", i, "].unit_price_minor"),
                          absl::StrCat("lines[", i, "].unit_price_minor differs from the quoted ",
                                       c->unit_price_minor, ": give 0 or the quoted price"));
    }
    l.unit_price_minor = c->unit_price_minor;
    l.price_quote_id = c->quote_id;
    l.price_quote.clear();
    quoted_for[i] = c->customer_id;
  }
  return quoted_for;
}

absl::Status CheckQuoteCustomers(const Order& o, const std::vector<std::string>& quoted_for,
                                 const std::string& named) {
  for (size_t i = 0; i < quoted_for.size() && i < o.lines.size(); ++i) {
    if (quoted_for[i].empty()) continue;
    if (quoted_for[i] != o.customer_id && quoted_for[i] != named) {
      return QuoteRefused(i, "was quoted for another customer");
    }
  }
  return absl::OkStatus();
}

absl::Status CheckSkusKnown(const Order& o, const std::set<std::string>& known) {
  for (size_t i = 0; i < o.lines.size(); ++i) {
    if (known.count(o.lines[i].sku) == 0) {
      return common::WithField(
          common::WithReason(absl::InvalidArgumentError(absl::StrCat(
                                 "lines[", i, "].sku \"", o.lines[i].sku,
                                 "\" is not in the catalog; create the product first")),
                             "UNKNOWN_SKU"),
          absl::StrCat("lines[", i, "].sku"));
    }
  }
  return absl::OkStatus();
}

absl::Status ExternalIdTaken(const std::string& existing_id, const std::string& external_id) {
  return common::WithField(
      common::WithReason(
          absl::AlreadyExistsError(absl::StrCat("order ", existing_id,
                                                " already has external_id \"", external_id, "\"")),
          "ORDER_EXISTS"),
      "external_id");
}

const char* StatusName(OrderStatus s) {
  switch (s) {
    case OrderStatus::kPlaced: return "placed";
    case OrderStatus::kPaid: return "paid";
    case OrderStatus::kFulfilled: return "fulfilled";
    case OrderStatus::kCompleted: return "completed";
    case OrderStatus::kCancelled: return "cancelled";
    case OrderStatus::kPartiallyReturned: return "partially_returned";
    case OrderStatus::kReturned: return "returned";
    default: return "unspecified";
  }
}

std::string EtagOf(const Order& o) { return absl::StrCat(o.version); }

absl::Status CheckCustomerId(const std::string& id) {
  if (common::IsUuid(id)) return absl::OkStatus();
  return InvalidField("customer_id", "customer_id must be the UUID of a customer");
}

absl::Status NormalizeAndValidate(Order& o) {
  CRM_RETURN_IF_ERROR(CheckCustomerId(o.customer_id));
  return NormalizeAndValidateContent(o);
}

absl::Status NormalizeAndValidateContent(Order& o) {
  o.currency_code = absl::AsciiStrToUpper(o.currency_code);
  if (!common::MinorUnitDigits(o.currency_code)) {
    return InvalidField("currency_code",
                        absl::StrCat("currency_code \"", o.currency_code,
                                     "\" is not an ISO 4217 currency in circulation"));
  }
  int channel = static_cast<int>(o.channel);
  if (channel < 0 || channel > 5) return InvalidField("channel", "unknown channel");
  CRM_RETURN_IF_ERROR(common::CheckStorableText("store_id", o.store_id));
  if (!o.external_id.empty() && !IsValidExternalId(o.external_id)) {
    return InvalidField("external_id",
                        "external_id is 1..64 printable ASCII characters without spaces");
  }
  if (o.store_id.size() > 64) return InvalidField("store_id", "store_id is at most 64 characters");
  if (o.lines.empty()) return InvalidField("lines", "an order needs at least one line");
  if (o.lines.size() > static_cast<size_t>(kMaxOrderLines)) {
    return InvalidField("lines", absl::StrCat("an order has at most ", kMaxOrderLines, " lines"));
  }
  int64_t total = 0;
  for (size_t i = 0; i < o.lines.size(); ++i) {
    OrderLine& l = o.lines[i];
    std::string f = absl::StrCat("lines[", i, "]");
    if (!IsValidSku(l.sku)) {
      return InvalidField(absl::StrCat(f, ".sku"), absl::StrCat(f, ".sku is not a valid sku"));
    }
    if (l.quantity <= 0 || l.quantity > 1'000'000) {
      return InvalidField(absl::StrCat(f, ".quantity"),
                          absl::StrCat(f, ".quantity must be 1..1000000"));
    }
    if (l.unit_price_minor < 0 || l.unit_price_minor > 1'000'000'000'000'000) {
      return InvalidField(absl::StrCat(f, ".unit_price_minor"),
                          absl::StrCat(f, ".unit_price_minor must be 0..10^15"));
    }
    int64_t gross = 0;
    if (__builtin_mul_overflow(l.quantity, l.unit_price_minor, &gross)) {
      return InvalidField(absl::StrCat(f, ".quantity"), absl::StrCat(f, " is too large"));
    }
    if (l.discount_minor < 0 || l.discount_minor > gross) {
      return InvalidField(absl::StrCat(f, ".discount_minor"),
                          absl::StrCat(f, ".discount_minor must be 0..quantity * unit_price_minor"));
    }
    l.line_total_minor = gross - l.discount_minor;
    if (__builtin_add_overflow(total, l.line_total_minor, &total)) {
      return InvalidField("lines", "the order total is too large");
    }
  }
  if (o.total_minor != 0 && o.total_minor != total) {
    return InvalidField("total_minor",
                        absl::StrCat("total_minor ", o.total_minor,
                                     " does not equal the sum of the line totals, ", total));
  }
  o.total_minor = total;
  return absl::OkStatus();
}

absl::Status CheckTransition(OrderStatus from, OrderStatus to) {
  if (to == OrderStatus::kPartiallyReturned || to == OrderStatus::kReturned) {
    return common::WithReason(
        absl::FailedPreconditionError(absl::StrCat(
            "the order is ", StatusName(from),
            "; returns are recorded with CreateReturn, which sets the returned status")),
        "INVALID_ORDER_TRANSITION");
  }
  bool ok = (from == OrderStatus::kPlaced &&
             (to == OrderStatus::kPaid || to == OrderStatus::kCancelled)) ||
            (from == OrderStatus::kPaid &&
             (to == OrderStatus::kFulfilled || to == OrderStatus::kCancelled)) ||
            (from == OrderStatus::kFulfilled && to == OrderStatus::kCompleted);
  if (ok) return absl::OkStatus();
  return common::WithReason(
      absl::FailedPreconditionError(absl::StrCat("the order is ", StatusName(from),
                                                 "; it cannot become ", StatusName(to))),
      "INVALID_ORDER_TRANSITION");
}

absl::Status ApplyTransition(Order& o, OrderStatus to, absl::Time now) {
  CRM_RETURN_IF_ERROR(CheckTransition(o.status, to));
  o.status = to;
  o.version += 1;
  o.update_time = now;
  return absl::OkStatus();
}

std::string StatusEventType(OrderStatus s) { return absl::StrCat("order.", StatusName(s)); }

int64_t LineTotalMinor(const OrderLine& l) {
  return l.quantity * l.unit_price_minor - l.discount_minor;
}

int64_t NetMinor(const Order& o) {
  // Goods back and money back are two views of one reduction: a refund of a
  // return (linked or not) must not count twice, and money refunded beyond
  // the returned value (goodwill, price adjustments) still counts.
  int64_t net = o.total_minor - std::max(o.returned_minor, o.refunded_minor);
  return net < 0 ? 0 : net;
}

bool IsValidExternalId(const std::string& id) {
  if (id.empty() || id.size() > 64) return false;
  for (char c : id) {
    if (c <= ' ' || c > '~') return false;
  }
  return true;
}

namespace {
// floor(total * r / q) for 0 <= r <= q <= 10^6, computed in 128 bits (the
// product of an int64 total and r can exceed 64 bits); the result <= total.
__extension__ typedef __int128 Int128;
int64_t ShareOf(int64_t total, int64_t r, int64_t q) {
  return static_cast<int64_t>(static_cast<Int128>(total) * r / q);
}
absl::Status ReturnNotAllowed(OrderStatus s) {
  return common::WithReason(
      absl::FailedPreconditionError(absl::StrCat(
          "the order is ", StatusName(s),
          "; only fulfilled, completed or partially returned orders take returns")),
      "RETURN_NOT_ALLOWED");
}
}  // namespace

absl::StatusOr<ReturnPlan> PlanReturn(const Order& o,
                                      const std::vector<ReturnLineRequest>& lines) {
  if (o.status != OrderStatus::kFulfilled && o.status != OrderStatus::kCompleted &&
      o.status != OrderStatus::kPartiallyReturned) {
    return ReturnNotAllowed(o.status);
  }
  if (lines.empty()) return InvalidField("lines", "a return needs at least one line");
  if (lines.size() > o.lines.size()) {
    return InvalidField("lines", "a return has at most one entry per order line");
  }
  ReturnPlan plan;
  std::vector<bool> seen(o.lines.size(), false);
  for (size_t i = 0; i < lines.size(); ++i) {
    const ReturnLineRequest& r = lines[i];
    std::string f = absl::StrCat("lines[", i, "]");
    if (r.line_no < 0 || static_cast<size_t>(r.line_no) >= o.lines.size()) {
      return InvalidField(absl::StrCat(f, ".line_no"),
                          absl::StrCat(f, ".line_no ", r.line_no, " is not a line of the order (0..",
                                       o.lines.size() - 1, ")"));
    }
    if (seen[r.line_no]) {
      return InvalidField(absl::StrCat(f, ".line_no"),
                          absl::StrCat(f, ".line_no ", r.line_no, " is listed twice"));
    }
    seen[r.line_no] = true;
    const OrderLine& l = o.lines[r.line_no];
    int64_t remaining = l.quantity - l.returned_quantity;
    if (r.quantity <= 0 || r.quantity > remaining) {
      return InvalidField(absl::StrCat(f, ".quantity"),
                          absl::StrCat(f, ".quantity must be 1..", remaining,
                                       " (units of line ", r.line_no, " not yet returned)"));
    }
    ReturnLine out;
    out.line_no = r.line_no;
    out.sku = l.sku;
    out.quantity = r.quantity;
    out.amount_minor = ShareOf(l.line_total_minor, l.returned_quantity + r.quantity, l.quantity) -
                       ShareOf(l.line_total_minor, l.returned_quantity, l.quantity);
    plan.amount_minor += out.amount_minor;
    plan.lines.push_back(std::move(out));
  }
  bool all = true;
  for (size_t i = 0; i < o.lines.size(); ++i) {
    int64_t returned = o.lines[i].returned_quantity;
    for (const auto& r : plan.lines) {
      if (r.line_no == static_cast<int>(i)) returned += r.quantity;
    }
    if (returned < o.lines[i].quantity) all = false;
  }
  plan.new_status = all ? OrderStatus::kReturned : OrderStatus::kPartiallyReturned;
  return plan;
}

void ApplyReturn(Order& o, const ReturnPlan& plan) {
  for (const auto& r : plan.lines) o.lines[r.line_no].returned_quantity += r.quantity;
  o.returned_minor += plan.amount_minor;
  o.status = plan.new_status;
}

const char* PaymentStatusName(PaymentStatus s) {
  switch (s) {
    case PaymentStatus::kAuthorized: return "authorized";
    case PaymentStatus::kCaptured: return "captured";
    case PaymentStatus::kFailed: return "failed";
    case PaymentStatus::kVoided: return "voided";
    default: return "unspecified";
  }
}

absl::Status ValidateNewPayment(const Payment& p) {
  if (p.amount_minor <= 0 || p.amount_minor > 1'000'000'000'000'000'000) {
    return InvalidField("amount_minor", "amount_minor must be positive");
  }
  int m = static_cast<int>(p.method);
  if (m < 1 || m > 7) return InvalidField("method", "method is required (card, cash, ...)");
  if (p.status != PaymentStatus::kAuthorized && p.status != PaymentStatus::kCaptured &&
      p.status != PaymentStatus::kFailed) {
    return InvalidField("status", "a new payment is authorized, captured or failed");
  }
  CRM_RETURN_IF_ERROR(common::CheckStorableText("provider_ref", p.provider_ref));
  if (p.provider_ref.size() > 128) {
    return InvalidField("provider_ref", "provider_ref is at most 128 characters");
  }
  return absl::OkStatus();
}

absl::Status CheckPaymentTransition(PaymentStatus from, PaymentStatus to) {
  if (from == PaymentStatus::kAuthorized &&
      (to == PaymentStatus::kCaptured || to == PaymentStatus::kVoided ||
       to == PaymentStatus::kFailed)) {
    return absl::OkStatus();
  }
  return common::WithReason(
      absl::FailedPreconditionError(absl::StrCat("the payment is ", PaymentStatusName(from),
                                                 "; it cannot become ", PaymentStatusName(to))),
      "INVALID_PAYMENT_TRANSITION");
}

absl::StatusOr<OrderStatus> CheckCapture(const Order& o, int64_t amount) {
  if (o.status == OrderStatus::kCancelled) {
    return common::WithReason(
        absl::FailedPreconditionError("the order is cancelled; it takes no payments"),
        "PAYMENT_NOT_ALLOWED");
  }
  if (amount > o.total_minor - o.paid_minor) {
    return common::WithReason(
        absl::FailedPreconditionError(absl::StrCat(
            "capturing ", amount, " would exceed the order total: ", o.paid_minor, " of ",
            o.total_minor, " is captured already")),
        "OVERPAYMENT");
  }
  if (o.status == OrderStatus::kPlaced && o.paid_minor + amount == o.total_minor) {
    return OrderStatus::kPaid;
  }
  return o.status;
}

const char* RefundStatusName(RefundStatus s) {
  switch (s) {
    case RefundStatus::kPending: return "pending";
    case RefundStatus::kSucceeded: return "succeeded";
    case RefundStatus::kFailed: return "failed";
    default: return "unspecified";
  }
}

absl::Status CheckRefundTransition(RefundStatus from, RefundStatus to) {
  if (from == RefundStatus::kPending &&
      (to == RefundStatus::kSucceeded || to == RefundStatus::kFailed)) {
    return absl::OkStatus();
  }
  return common::WithReason(
      absl::FailedPreconditionError(absl::StrCat("the refund is ", RefundStatusName(from),
                                                 "; it cannot become ", RefundStatusName(to))),
      "INVALID_REFUND_TRANSITION");
}

absl::Status CheckNewRefund(const Order& o, const Refund& r, int64_t open_refunds) {
  if (r.amount_minor <= 0) return InvalidField("amount_minor", "amount_minor must be positive");
  if (r.status != RefundStatus::kPending && r.status != RefundStatus::kSucceeded) {
    return InvalidField("status", "a new refund is pending or succeeded");
  }
  if (!r.return_id.empty() && !common::IsUuid(r.return_id)) {
    return InvalidField("return_id", "return_id must be a UUID");
  }
  CRM_RETURN_IF_ERROR(common::CheckStorableText("reason", r.reason));
  if (r.reason.size() > 500) return InvalidField("reason", "reason is at most 500 characters");
  if (r.amount_minor > o.paid_minor - open_refunds) {
    return common::WithReason(
        absl::FailedPreconditionError(absl::StrCat(
            "refunding ", r.amount_minor, " would exceed the captured payments: ", open_refunds,
            " of ", o.paid_minor, " is refunded or pending already")),
        "REFUND_EXCEEDS_PAYMENTS");
  }
  return absl::OkStatus();
}

}  // namespace crm::transaction::domain
