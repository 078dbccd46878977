#pragma once
// The offer use cases: definitions written through the unit of work
// (checked at save time, kept in memory per tenant) and the next best
// offers of a customer, ranked (domain/offers.h), their caps claimed and
// every decision logged in one transaction.
#include <functional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "libs/common/clock.h"
#include "libs/outbox/write_meta.h"
#include "services/personalization/app/definition_cache.h"
#include "services/personalization/app/ports.h"
#include "services/personalization/app/recommender.h"
#include "services/personalization/domain/offers.h"

namespace crm::personalization::app {

inline constexpr std::size_t kMaxOffersPerTenant = 1000;
inline constexpr std::size_t kMaxOffersPerAnswer = 10;

class Offers {
 public:
  Offers(OfferRepository& repository, const Recommender& recommender,
         SegmentationPeer& segmentation, const common::Clock* clock = nullptr);

  absl::Status Load();  // every tenant's offers (at start)

  // ALREADY_EXISTS (OFFER_EXISTS); FAILED_PRECONDITION (TOO_MANY_OFFERS)
  // beyond kMaxOffersPerTenant; INVALID_ARGUMENT as domain::NormalizeOffer.
  absl::StatusOr<domain::Offer> Create(const outbox::WriteMeta& meta, domain::Offer draft);
  // Replaces the definition (its presentations so far still count against
  // the caps). if_match: ABORTED (ETAG_MISMATCH). NOT_FOUND (OFFER_NOT_FOUND).
  absl::StatusOr<domain::Offer> Update(const outbox::WriteMeta& meta, domain::Offer draft,
                                       const std::string& if_match);
  // Retired: never offered again; kept for the decisions that name it.
  absl::StatusOr<domain::Offer> Retire(const outbox::WriteMeta& meta, const std::string& offer_id,
                                       const std::string& if_match);
  absl::StatusOr<domain::Offer> Get(const std::string& tenant, const std::string& offer_id) const;
  std::vector<domain::Offer> List(const std::string& tenant) const;  // id order
  absl::StatusOr<std::int64_t> Presented(const std::string& tenant,
                                         const std::string& offer_id) const;

  // Up to `count` (1..kMaxOffersPerAnswer) offers for the customer: the
  // active ones whose rule segmentation matches, ranked; each one's caps
  // claimed in rank order (an offer whose cap is reached is skipped for the
  // next); each decision logged. Once per idempotency key. A customer who
  // objected to profiling gets the offers without a rule, ranked by
  // priority and value alone. NOT_FOUND (CUSTOMER_NOT_FOUND).
  absl::StatusOr<NextBestOffers> Next(const outbox::WriteMeta& meta, const std::string& customer_id,
                                      std::size_t count);

 private:
  absl::Status Refresh(const std::string& tenant, const std::string& offer_id);
  absl::StatusOr<domain::Offer> Change(const outbox::WriteMeta& meta, const std::string& offer_id,
                                       const std::string& if_match,
                                       const std::function<void(domain::Offer&)>& edit);

  OfferRepository& repository_;
  const Recommender& recommender_;
  SegmentationPeer& segmentation_;
  common::SystemClock system_clock_;
  const common::Clock& clock_;
  absl::Mutex write_mu_;  // definition writes one at a time: memory in commit order
  DefinitionCache<domain::Offer> cache_;
};

}  // namespace crm::personalization::app
