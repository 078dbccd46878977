#pragma once
// Offers and the next-best-offer ranking (docs/personalization.md).
//
// An offer (a discount, a bundle, a cross-sell or up-sell, content) has an
// optional eligibility rule in the segment language, a validity window,
// caps on how often it is presented (per customer and overall, claimed
// atomically by the store), a priority and the marketer's estimate of what
// one acceptance is worth. Eligible offers rank by priority (higher
// first), then by expected value
//
//   EV = value × P(alive) × (0.5 + 0.5 × relevance)
//
// where P(alive) is the customer's probability of still being a customer
// (BG/NBD, segmentation; 1 without a model) and relevance (0..1) is how
// well the offer's products fit the customer (their best recommendation
// score over the customer's top score; 0 for an offer without products),
// then by offer id.
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"

namespace crm::personalization::domain {

enum class OfferKind { kDiscount, kBundle, kCrossSell, kUpSell, kContent };
// "discount", "bundle", "cross_sell", "up_sell", "content" (stored, and
// the kind a message template sees).
const char* OfferKindName(OfferKind k);

inline constexpr std::size_t kMaxOfferSkus = 50;

struct Offer {
  std::string offer_id;  // [a-z0-9][a-z0-9_-]{0,63}
  std::string display_name;
  OfferKind kind = OfferKind::kContent;
  std::string rule;               // segment language; "" for everyone
  std::vector<std::string> skus;  // the products it is about (at most 50)
  std::uint32_t discount_bp = 0;  // discount and bundle: 1..10000 basis points
  std::int64_t value_minor = 0;   // one acceptance's worth (minor units, >= 0)
  std::string content;            // opaque (up to 16 KiB)
  absl::Time start_time = absl::InfinitePast();
  absl::Time end_time = absl::InfiniteFuture();
  std::int64_t per_customer_cap = 0;  // presentations per customer; 0: no cap
  std::int64_t global_cap = 0;        // presentations overall; 0: no cap
  std::int32_t priority = 0;          // -1000..1000, higher first
  bool retired = false;
  std::int64_t version = 0;
  absl::Time create_time = absl::InfinitePast();
  absl::Time update_time = absl::InfinitePast();
};

// Checks an offer (INVALID_ARGUMENT naming the field) and normalizes it:
// offer_id, display_name (1..200), skus (unique, 1..128 characters each;
// required for bundles, cross-sells and up-sells), discount_basis_points
// (1..10000 for discounts and bundles, 0 for the others), value_minor
// (>= 0), content (<= 16 KiB), the window (end after start), caps (>= 0),
// priority (-1000..1000), rule (`check_rule`'s refusal, its message kept).
absl::Status NormalizeOffer(Offer& offer,
                            const std::function<absl::Status(const std::string&)>& check_rule);

// Not retired and within its window at `now`.
bool Active(const Offer& offer, absl::Time now);

struct OfferCandidate {
  const Offer* offer = nullptr;
  double relevance = 0;  // 0..1
};

struct RankedOffer {
  const Offer* offer = nullptr;
  double relevance = 0;
  double expected_value = 0;
};

// Best first: priority desc, expected value desc, offer id asc.
std::vector<RankedOffer> RankOffers(const std::vector<OfferCandidate>& candidates, double p_alive);

}  // namespace crm::personalization::domain
