#pragma once
// PersonalizationRepository over PostgreSQL (schema personalization).
#include <string>
#include <vector>

#include "libs/outbox/writer.h"
#include "libs/pg/pool.h"
#include "services/personalization/app/ports.h"

namespace crm::personalization::storage {

class PgPersonalizationRepository final : public app::PersonalizationRepository {
 public:
  explicit PgPersonalizationRepository(pg::Pool& pool);
  // The repository's named queries (with the outbox writer's, for the relay).
  static std::vector<pg::NamedQuery> Queries();

  absl::StatusOr<app::StoredBatch> Store(const std::string& tenant,
                                         const app::TenantBatch& b) override;
  absl::Status Load(app::StoredRows& rows) override;
  absl::StatusOr<app::ChosenTopics> Write(
      const outbox::WriteMeta& meta, const std::string& resource,
      absl::FunctionRef<absl::StatusOr<app::ChosenTopics>(app::InterestTx&)> work) override;

 private:
  class Tx;  // app::InterestTx over one outbox::WriteTx
  pg::Pool& pool_;
  outbox::TransactionalWriter writer_;
};

}  // namespace crm::personalization::storage
