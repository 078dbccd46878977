#pragma once
// ErpRepository over PostgreSQL (schema txn): set-based batch ingest (COPY
// into temporary staging tables, then INSERT ... SELECT) and the change
// export (see schema/007_order_changes.sql).
#include <string>
#include <vector>

#include "libs/outbox/writer.h"
#include "libs/pg/pool.h"
#include "services/transaction/app/erp_ports.h"
#include "services/transaction/schema_name.h"

namespace crm::transaction::storage {

class PgErpRepository final : public app::ErpRepository {
 public:
  explicit PgErpRepository(pg::Pool& pool) : pool_(pool), writer_(pool, kSchema) {}
  // Named queries to prepare on the pool (register in main.cc).
  static std::vector<pg::NamedQuery> Queries();

  absl::StatusOr<std::map<std::string, std::string>> ExistingExternalIds(
      const std::string& tenant, const std::vector<std::string>& external_ids) override;
  absl::StatusOr<std::vector<app::IngestRowResult>> IngestBatch(
      const app::Actor& actor, const std::string& batch_id,
      const std::vector<app::IngestRow>& rows) override;
  absl::StatusOr<app::ExportPage> ExportChanges(const std::string& tenant,
                                                const std::string& cursor, int limit) override;

 private:
  pg::Pool& pool_;
  outbox::TransactionalWriter writer_;
};

}  // namespace crm::transaction::storage
