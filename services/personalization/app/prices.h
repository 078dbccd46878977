#pragma once
// Personal prices: the tenant's price policy (guardrails and discount
// tiers, written through the unit of work, kept in memory) and quotes. A
// quote takes the product's list price and cost from the catalog events,
// the customer's tier from segmentation (the first tier whose rule the
// customer matches), bounds the discount by the guardrails
// (domain/pricing.h), logs the quote and signs it (libs/common/price_quote.h)
// so that transaction charges exactly that price when an order cites it.
#include <string>

#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "libs/common/clock.h"
#include "libs/outbox/write_meta.h"
#include "services/personalization/app/definition_cache.h"
#include "services/personalization/app/ports.h"
#include "services/personalization/app/recommender.h"
#include "services/personalization/domain/pricing.h"

namespace crm::personalization::app {

struct SignedQuote {
  QuoteRecord quote;
  std::string token;
};

class Prices {
 public:
  // `quote_key`: common::PriceQuoteKey of the deployment's context key.
  Prices(PriceRepository& repository, const Recommender& recommender,
         SegmentationPeer& segmentation, std::string quote_key,
         const common::Clock* clock = nullptr);

  absl::Status Load();  // every tenant's policy (at start)

  // The tenant's policy (version 0, no tiers, no discount: never written).
  domain::PricePolicy Policy(const std::string& tenant) const;
  // Replaces the policy (INVALID_ARGUMENT as domain::NormalizePolicy, its
  // rules compiled now); if_match: ABORTED (ETAG_MISMATCH).
  absl::StatusOr<domain::PricePolicy> UpdatePolicy(const outbox::WriteMeta& meta,
                                                   domain::PricePolicy draft,
                                                   const std::string& if_match);

  // One unit of `sku` for the customer, in `currency` (the product's list
  // price currency). NOT_FOUND (CUSTOMER_NOT_FOUND); FAILED_PRECONDITION
  // (PRODUCT_NOT_QUOTABLE) for a product the catalog events never
  // described, inactive, without a list price or in another currency. When
  // segmentation does not answer, the list price (kRulesUnavailable).
  absl::StatusOr<SignedQuote> Quote(const std::string& tenant, const std::string& customer_id,
                                    const std::string& sku, const std::string& currency);

 private:
  PriceRepository& repository_;
  const Recommender& recommender_;
  SegmentationPeer& segmentation_;
  const std::string quote_key_;
  common::SystemClock system_clock_;
  const common::Clock& clock_;
  absl::Mutex write_mu_;  // policy writes one at a time: memory in commit order
  DefinitionCache<domain::PricePolicy> cache_;  // one per tenant, id ""
};

}  // namespace crm::personalization::app
