#pragma once
// Personal prices within guardrails. Money is in minor units (cents) and
// discounts in basis points (1/100 of a percent), so every bound is exact.
//
// The requested discount (the customer's tier) is capped at the maximum
// discount; the price is the list price less the discount rounded down (the
// customer never gets more than the discount says); then raised to the
// margin floor, ceil(cost / (1 - min margin)), which is never below cost;
// and never above the list price (a cost above the list price means no
// discount, not a higher price). A product without a known cost gets no
// discount: "never below cost" cannot be checked. The quote says which bound
// set the price.
//
// A tenant's price policy holds the guardrails and ordered discount tiers,
// each with a rule in the segment language: the first tier the customer
// matches requests its discount.
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

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
  kNoCost,       // the product's cost is not known: no discount
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

// One sentence on how the quote's price came about: the discount asked
// (`why`: e.g. "tier \"vip\"") and the bound that set the price.
std::string ExplainQuote(const PriceQuote& q, const std::string& why, const Guardrails& g);

inline constexpr std::size_t kMaxPriceTiers = 20;
inline constexpr std::int32_t kDefaultQuoteTtlSeconds = 900;

struct PriceTier {
  std::string name;  // 1..64 characters, unique in the policy
  std::string rule;  // segment language; "" for everyone
  std::uint32_t discount_bp = 0;
};

struct PricePolicy {
  Guardrails guardrails{0, 0};   // never written: no discount at all
  std::vector<PriceTier> tiers;  // the first matching wins
  std::int32_t quote_ttl_seconds = kDefaultQuoteTtlSeconds;
  std::int64_t version = 0;  // 0: never written
  absl::Time update_time = absl::InfinitePast();
};

// Checks a policy (INVALID_ARGUMENT naming the field: max_discount_basis_points
// 0..10000, min_margin_basis_points 0..9999, at most 20 tiers with unique
// names of 1..64 characters, discounts 0..10000, rules `check_rule` accepts,
// quote_ttl_seconds 60..86400 with 0 meaning 900) and normalizes it.
absl::Status NormalizePolicy(PricePolicy& policy,
                             const std::function<absl::Status(const std::string&)>& check_rule);

// A customer's tier: the first whose rule is empty or matched (`matched`
// says, per rule text, whether the customer matches it); nullptr for none.
const PriceTier* TierFor(const PricePolicy& policy,
                         const std::function<bool(const std::string&)>& matched);

}  // namespace crm::personalization::domain
