#include "services/personalization/domain/pricing.h"

#include <algorithm>

#include "absl/status/status.h"

namespace crm::personalization::domain {

absl::StatusOr<PriceQuote> QuotePrice(std::int64_t list_minor,
                                      std::optional<std::int64_t> cost_minor,
                                      std::uint32_t requested_bp, const Guardrails& guardrails) {
  if (list_minor < 0 || list_minor > kMaxPriceMinor) {
    return absl::InvalidArgumentError("the list price must be between 0 and 10^12 minor units");
  }
  if (cost_minor && (*cost_minor < 0 || *cost_minor > kMaxPriceMinor)) {
    return absl::InvalidArgumentError("the cost must be between 0 and 10^12 minor units");
  }
  if (requested_bp > kBasisPoints || guardrails.max_discount_bp > kBasisPoints) {
    return absl::InvalidArgumentError("a discount is at most 10000 basis points");
  }
  if (guardrails.min_margin_bp >= kBasisPoints) {
    return absl::InvalidArgumentError("the minimum margin must be below 10000 basis points");
  }
  PriceQuote q;
  q.list_minor = list_minor;
  q.requested_bp = requested_bp;
  std::uint32_t bp = requested_bp;
  if (bp > guardrails.max_discount_bp) {
    bp = guardrails.max_discount_bp;
    q.limit = PriceLimit::kMaxDiscount;
  }
  q.price_minor = list_minor - list_minor * static_cast<std::int64_t>(bp) / kBasisPoints;
  if (cost_minor) {
    const std::int64_t keep = kBasisPoints - guardrails.min_margin_bp;
    const std::int64_t floor_price = (*cost_minor * kBasisPoints + keep - 1) / keep;
    if (floor_price > list_minor) {
      if (q.price_minor < list_minor) q.limit = PriceLimit::kListPrice;
      q.price_minor = list_minor;
    } else if (q.price_minor < floor_price) {
      q.price_minor = floor_price;
      q.limit = PriceLimit::kMinMargin;
    }
  }
  q.applied_bp = list_minor == 0 ? 0
                                 : static_cast<std::uint32_t>((list_minor - q.price_minor) *
                                                              kBasisPoints / list_minor);
  return q;
}

}  // namespace crm::personalization::domain
