#include "services/transaction/domain/order.h"

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "libs/common/errors.h"
#include "libs/common/id.h"
#include "libs/common/status_macros.h"
#include "libs/common/text.h"
#include "services/transaction/domain/currency.h"
#include "services/transaction/domain/product.h"

namespace crm::transaction::domain {

using common::InvalidField;

const char* StatusName(OrderStatus s) {
  switch (s) {
    case OrderStatus::kPlaced: return "placed";
    case OrderStatus::kPaid: return "paid";
    case OrderStatus::kFulfilled: return "fulfilled";
    case OrderStatus::kCompleted: return "completed";
    case OrderStatus::kCancelled: return "cancelled";
    default: return "unspecified";
  }
}

std::string EtagOf(const Order& o) { return absl::StrCat(o.version); }

absl::Status NormalizeAndValidate(Order& o) {
  if (!common::IsUuid(o.customer_id)) {
    return InvalidField("customer_id", "customer_id must be the UUID of a customer");
  }
  o.currency_code = absl::AsciiStrToUpper(o.currency_code);
  if (!MinorUnitDigits(o.currency_code)) {
    return InvalidField("currency_code",
                        absl::StrCat("currency_code \"", o.currency_code,
                                     "\" is not an ISO 4217 currency in circulation"));
  }
  int channel = static_cast<int>(o.channel);
  if (channel < 0 || channel > 5) return InvalidField("channel", "unknown channel");
  CRM_RETURN_IF_ERROR(common::CheckStorableText("store_id", o.store_id));
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

}  // namespace crm::transaction::domain
