#pragma once
// PriceRepository over PostgreSQL (personalization.price_policies,
// price_quotes; schema 006).
#include <string>
#include <utility>
#include <vector>

#include "libs/outbox/writer.h"
#include "libs/pg/pool.h"
#include "services/personalization/app/ports.h"

namespace crm::personalization::storage {

class PgPriceRepository final : public app::PriceRepository {
 public:
  explicit PgPriceRepository(pg::Pool& pool);
  static std::vector<pg::NamedQuery> Queries();

  absl::StatusOr<domain::PricePolicy> Write(
      const outbox::WriteMeta& meta, const std::string& resource,
      absl::FunctionRef<absl::StatusOr<domain::PricePolicy>(app::PriceTx&)> work) override;
  absl::StatusOr<std::vector<std::pair<std::string, domain::PricePolicy>>> LoadAllPolicies()
      override;
  absl::StatusOr<std::optional<domain::PricePolicy>> CurrentPolicy(
      const std::string& tenant) override;
  absl::Status LogQuote(const std::string& tenant, const app::QuoteRecord& q) override;

 private:
  class Tx;  // app::PriceTx over one outbox::WriteTx
  pg::Pool& pool_;
  outbox::TransactionalWriter writer_;
};

}  // namespace crm::personalization::storage
