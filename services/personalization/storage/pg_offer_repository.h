#pragma once
// OfferRepository over PostgreSQL (personalization.offers, offer_totals,
// offer_customer_counts, offer_decisions; schema 004).
#include <string>
#include <utility>
#include <vector>

#include "libs/outbox/writer.h"
#include "libs/pg/pool.h"
#include "services/personalization/app/ports.h"

namespace crm::personalization::storage {

class PgOfferRepository final : public app::OfferRepository {
 public:
  explicit PgOfferRepository(pg::Pool& pool);
  static std::vector<pg::NamedQuery> Queries();

  absl::StatusOr<domain::Offer> Write(
      const outbox::WriteMeta& meta, const std::string& resource,
      absl::FunctionRef<absl::StatusOr<domain::Offer>(app::OfferTx&)> work) override;
  absl::StatusOr<app::NextBestOffers> Write(
      const outbox::WriteMeta& meta, const std::string& resource,
      absl::FunctionRef<absl::StatusOr<app::NextBestOffers>(app::OfferTx&)> work) override;
  absl::StatusOr<std::vector<std::pair<std::string, domain::Offer>>> LoadAllOffers() override;
  absl::StatusOr<std::optional<domain::Offer>> CurrentOffer(const std::string& tenant,
                                                            const std::string& offer_id) override;
  absl::StatusOr<std::int64_t> Presented(const std::string& tenant,
                                         const std::string& offer_id) override;

 private:
  class Tx;  // app::OfferTx over one outbox::WriteTx
  pg::Pool& pool_;
  outbox::TransactionalWriter writer_;
};

}  // namespace crm::personalization::storage
