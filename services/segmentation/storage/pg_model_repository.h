#pragma once
// ModelRepository over PostgreSQL (schema segmentation).
#include <string>
#include <vector>

#include "libs/outbox/unit_of_work.h"
#include "libs/pg/pool.h"
#include "services/segmentation/app/ports.h"

namespace crm::segmentation::storage {

class PgModelRepository final : public app::ModelRepository {
 public:
  PgModelRepository(pg::Pool& pool);
  // The repository's named queries (with the facts' and the writer's).
  static std::vector<pg::NamedQuery> Queries();

  absl::StatusOr<domain::ClvModel> Write(
      const outbox::WriteMeta& meta, const std::string& resource,
      absl::FunctionRef<absl::StatusOr<domain::ClvModel>(app::ModelTx&)> work) override;
  absl::StatusOr<std::optional<domain::ClvModel>> GetClvModel(const std::string& tenant) override;

 private:
  class Tx;  // app::ModelTx over one outbox::WriteTx
  pg::Pool& pool_;
  outbox::TransactionalWriter writer_;
};

}  // namespace crm::segmentation::storage
