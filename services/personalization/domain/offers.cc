#include "services/personalization/domain/offers.h"

#include <algorithm>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "libs/common/errors.h"
#include "libs/common/text.h"
#include "services/personalization/domain/slots.h"

namespace crm::personalization::domain {

const char* OfferKindName(OfferKind k) {
  switch (k) {
    case OfferKind::kDiscount:
      return "discount";
    case OfferKind::kBundle:
      return "bundle";
    case OfferKind::kCrossSell:
      return "cross_sell";
    case OfferKind::kUpSell:
      return "up_sell";
    case OfferKind::kContent:
      return "content";
  }
  return "content";
}
namespace {

constexpr std::size_t kMaxDisplayName = 200;
constexpr std::size_t kMaxSkuLength = 128;
constexpr std::int32_t kMaxPriority = 1000;

bool Discounted(OfferKind k) { return k == OfferKind::kDiscount || k == OfferKind::kBundle; }
bool AboutProducts(OfferKind k) {
  return k == OfferKind::kBundle || k == OfferKind::kCrossSell || k == OfferKind::kUpSell;
}

}  // namespace

absl::Status NormalizeOffer(Offer& o,
                            const std::function<absl::Status(const std::string&)>& check_rule) {
  if (!IsSlotId(o.offer_id)) {
    return common::InvalidField("offer_id", "offer_id must match [a-z0-9][a-z0-9_-]{0,63}");
  }
  if (o.display_name.empty() || o.display_name.size() > kMaxDisplayName) {
    return common::InvalidField("display_name", "display_name must be 1 to 200 characters");
  }
  if (absl::Status s = common::CheckStorableText("display_name", o.display_name); !s.ok()) {
    return s;
  }
  if (!o.rule.empty()) {
    if (absl::Status s = common::CheckStorableText("rule", o.rule); !s.ok()) return s;
    if (absl::Status s = check_rule(o.rule); !s.ok())
      return common::InvalidField("rule", s.message());
  }
  if (o.skus.size() > kMaxOfferSkus) return common::InvalidField("skus", "at most 50 skus");
  absl::flat_hash_set<std::string> seen;
  for (const std::string& sku : o.skus) {
    if (sku.empty() || sku.size() > kMaxSkuLength || common::HasNul(sku)) {
      return common::InvalidField("skus", "each sku is 1 to 128 characters");
    }
    if (!seen.insert(sku).second) {
      return common::InvalidField("skus", absl::StrCat("sku \"", sku, "\" is named twice"));
    }
  }
  if (AboutProducts(o.kind) && o.skus.empty()) {
    return common::InvalidField("skus", "bundles, cross-sells and up-sells name their products");
  }
  if (Discounted(o.kind) ? (o.discount_bp < 1 || o.discount_bp > 10000) : o.discount_bp != 0) {
    return common::InvalidField("discount_basis_points",
                                "discounts and bundles take 1 to 10000 basis points; other "
                                "kinds none");
  }
  if (o.value_minor < 0) return common::InvalidField("value_minor", "value_minor must be >= 0");
  if (o.content.size() > kMaxContentBytes) {
    return common::InvalidField("content", "content is at most 16384 bytes");
  }
  if (absl::Status s = common::CheckStorableText("content", o.content); !s.ok()) return s;
  if (o.end_time <= o.start_time) {
    return common::InvalidField("end_time", "end_time must be after start_time");
  }
  if (o.per_customer_cap < 0) {
    return common::InvalidField("per_customer_cap", "per_customer_cap must be >= 0 (0: none)");
  }
  if (o.global_cap < 0) {
    return common::InvalidField("global_cap", "global_cap must be >= 0 (0: none)");
  }
  if (o.priority < -kMaxPriority || o.priority > kMaxPriority) {
    return common::InvalidField("priority", "priority must be between -1000 and 1000");
  }
  return absl::OkStatus();
}

bool Active(const Offer& o, absl::Time now) {
  return !o.retired && o.start_time <= now && now < o.end_time;
}

std::vector<RankedOffer> RankOffers(const std::vector<OfferCandidate>& candidates, double p_alive) {
  std::vector<RankedOffer> out;
  out.reserve(candidates.size());
  for (const OfferCandidate& c : candidates) {
    const double r = std::clamp(c.relevance, 0.0, 1.0);
    out.push_back(RankedOffer{c.offer, r,
                              static_cast<double>(c.offer->value_minor) *
                                  std::clamp(p_alive, 0.0, 1.0) * (0.5 + 0.5 * r)});
  }
  std::sort(out.begin(), out.end(), [](const RankedOffer& a, const RankedOffer& b) {
    if (a.offer->priority != b.offer->priority) return a.offer->priority > b.offer->priority;
    if (a.expected_value != b.expected_value) return a.expected_value > b.expected_value;
    return a.offer->offer_id < b.offer->offer_id;
  });
  return out;
}

}  // namespace crm::personalization::domain
