#pragma once
// ModelRepository over PostgreSQL (schema segmentation).
#include <string>
#include <vector>

#include "libs/pg/pool.h"
#include "services/segmentation/app/ports.h"

namespace crm::segmentation::storage {

class PgModelRepository final : public app::ModelRepository {
 public:
  explicit PgModelRepository(pg::Pool& pool) : pool_(pool) {}
  static std::vector<pg::NamedQuery> Queries();

  absl::StatusOr<std::optional<domain::ClvModel>> GetClvModel(const std::string& tenant) override;

 private:
  pg::Pool& pool_;
};

}  // namespace crm::segmentation::storage
