#include "services/personalization/domain/pricing.h"

#include <algorithm>
#include <set>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "libs/common/errors.h"
#include "libs/common/text.h"

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
  if (!cost_minor && bp > 0) {
    bp = 0;
    q.limit = PriceLimit::kNoCost;
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

namespace {
std::string Percent(std::uint32_t bp) {
  std::string s = absl::StrCat(bp / 100);
  if (bp % 100 != 0) absl::StrAppend(&s, ".", bp % 100 < 10 ? "0" : "", bp % 100);
  if (s.size() > 1 && s.back() == '0' && s.find('.') != std::string::npos) s.pop_back();
  return s + " %";
}
}  // namespace

std::string ExplainQuote(const PriceQuote& q, const std::string& why, const Guardrails& g) {
  std::string out = q.requested_bp == 0
                        ? absl::StrCat(why, ": no discount")
                        : absl::StrCat(why, " asks ", Percent(q.requested_bp), " off");
  switch (q.limit) {
    case PriceLimit::kNone:
      break;
    case PriceLimit::kMaxDiscount:
      absl::StrAppend(&out, ", capped at the maximum discount of ", Percent(g.max_discount_bp));
      break;
    case PriceLimit::kMinMargin:
      absl::StrAppend(&out, ", raised to keep the minimum margin of ", Percent(g.min_margin_bp),
                      " over cost");
      break;
    case PriceLimit::kListPrice:
      absl::StrAppend(&out, ", none given: the margin over cost would fall below ",
                      Percent(g.min_margin_bp));
      break;
    case PriceLimit::kNoCost:
      absl::StrAppend(&out, ", none given: the product's cost is not known");
      break;
  }
  if (q.price_minor == q.list_minor) {
    absl::StrAppend(&out, "; the list price");
  } else {
    absl::StrAppend(&out, "; ", Percent(q.applied_bp), " off the list price");
  }
  return out;
}

absl::Status NormalizePolicy(PricePolicy& policy,
                             const std::function<absl::Status(const std::string&)>& check_rule) {
  if (policy.guardrails.max_discount_bp > kBasisPoints) {
    return common::InvalidField("max_discount_basis_points",
                                "max_discount_basis_points must be 0..10000");
  }
  if (policy.guardrails.min_margin_bp >= kBasisPoints) {
    return common::InvalidField("min_margin_basis_points",
                                "min_margin_basis_points must be 0..9999");
  }
  if (policy.quote_ttl_seconds == 0) policy.quote_ttl_seconds = kDefaultQuoteTtlSeconds;
  if (policy.quote_ttl_seconds < 60 || policy.quote_ttl_seconds > 86400) {
    return common::InvalidField("quote_ttl_seconds", "quote_ttl_seconds must be 60..86400");
  }
  if (policy.tiers.size() > kMaxPriceTiers) {
    return common::InvalidField("tiers", "a price policy has at most 20 tiers");
  }
  std::set<std::string> names;
  for (PriceTier& t : policy.tiers) {
    if (absl::Status s = common::CheckStorableText("tiers.name", t.name); !s.ok()) return s;
    t.name = std::string(absl::StripAsciiWhitespace(t.name));
    if (t.name.empty() || t.name.size() > 64) {
      return common::InvalidField("tiers.name", "each tier has a name of 1..64 characters");
    }
    if (!names.insert(t.name).second) {
      return common::InvalidField("tiers.name",
                                  absl::StrCat("tier \"", t.name, "\" is named twice"));
    }
    const std::string where = absl::StrCat("tier \"", t.name, "\": ");
    if (t.discount_bp > kBasisPoints) {
      return common::InvalidField("tiers.discount_basis_points",
                                  absl::StrCat(where, "discount_basis_points must be 0..10000"));
    }
    if (!t.rule.empty()) {
      if (absl::Status s = common::CheckStorableText("tiers.rule", t.rule); !s.ok()) return s;
      if (absl::Status s = check_rule(t.rule); !s.ok()) {
        return common::InvalidField("tiers.rule", absl::StrCat(where, s.message()));
      }
    }
  }
  return absl::OkStatus();
}

const PriceTier* TierFor(const PricePolicy& policy,
                         const std::function<bool(const std::string&)>& matched) {
  for (const PriceTier& t : policy.tiers) {
    if (t.rule.empty() || matched(t.rule)) return &t;
  }
  return nullptr;
}

}  // namespace crm::personalization::domain
