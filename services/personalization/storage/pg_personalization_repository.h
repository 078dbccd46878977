#pragma once
// PersonalizationRepository over PostgreSQL (schema personalization).
#include <string>
#include <vector>

#include "libs/pg/pool.h"
#include "services/personalization/app/ports.h"

namespace crm::personalization::storage {

class PgPersonalizationRepository final : public app::PersonalizationRepository {
 public:
  explicit PgPersonalizationRepository(pg::Pool& pool) : pool_(pool) {}
  // The repository's named queries (with the outbox writer's, for the relay).
  static std::vector<pg::NamedQuery> Queries();

  absl::StatusOr<app::StoredBatch> Store(const std::string& tenant,
                                         const app::TenantBatch& b) override;
  absl::Status Load(app::StoredRows& rows) override;

 private:
  pg::Pool& pool_;
};

}  // namespace crm::personalization::storage
