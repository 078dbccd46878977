#pragma once
// Personal prices within guardrails. Money is in minor units (cents) and
// discounts in basis points (1/100 of a percent), so every bound is exact.
//
// The requested discount (the customer's tier) is capped at the maximum
// discount; the price is the list price less the discount rounded down (the
// customer never gets more than the discount says); then raised to the
// margin floor, ceil(cost / (1 - min margin)), which is never below cost;
// and never above the list price (a cost above the list price means no
// discount, not a higher price). The quote says which bound set the price.
#include <cstdint>
#include <optional>

#include "absl/status/statusor.h"

namespace crm::personalization::domain {

inline constexpr std::int64_t kMaxPriceMinor = 1'000'000'000'000;  // 10^10 in major units
inline constexpr std::uint32_t kBasisPoints = 10000;

struct Guardrails {
  std::uint32_t max_discount_bp = 3000;  // at most 30 % off
  std::uint32_t min_margin_bp = 0;       // (price - cost) / price at least this; < 10000
};

enum class PriceLimit {
  kNone,         // the requested discount applies as it is
  kMaxDiscount,  // capped at the maximum discount
  kMinMargin,    // raised to keep the minimum margin over cost
  kListPrice,    // the margin floor is above the list price: no discount
};

struct PriceQuote {
  std::int64_t list_minor = 0;
  std::int64_t price_minor = 0;
  std::uint32_t requested_bp = 0;
  std::uint32_t applied_bp = 0;  // (list - price) / list, rounded down
  PriceLimit limit = PriceLimit::kNone;
};

// INVALID_ARGUMENT for a list price outside 0..kMaxPriceMinor, a negative
// cost, a discount above 10000 bp, or a minimum margin of 10000 bp or more.
absl::StatusOr<PriceQuote> QuotePrice(std::int64_t list_minor, std::optional<std::int64_t> cost_minor,
                                      std::uint32_t requested_bp, const Guardrails& guardrails);

}  // namespace crm::personalization::domain
