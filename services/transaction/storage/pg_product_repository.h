#pragma once
// ProductRepository over PostgreSQL (schema txn).
#include <string>
#include <vector>

#include "libs/outbox/unit_of_work.h"
#include "libs/pg/pool.h"
#include "services/transaction/app/ports.h"
#include "services/transaction/schema_name.h"

namespace crm::transaction::storage {

class PgProductRepository final : public app::ProductRepository {
 public:
  explicit PgProductRepository(pg::Pool& pool) : pool_(pool), writer_(pool, kSchema) {}
  // The repository's named queries and the transactional writer's
  // ("txn.insert_audit"...), registered once here for the service.
  static std::vector<pg::NamedQuery> Queries();

  absl::StatusOr<domain::Product> Write(
      const outbox::WriteMeta& meta, const std::string& resource,
      absl::FunctionRef<absl::StatusOr<domain::Product>(app::ProductTx&)> work) override;
  absl::StatusOr<app::BatchResult> Write(
      const outbox::WriteMeta& meta, const std::string& resource,
      absl::FunctionRef<absl::StatusOr<app::BatchResult>(app::ProductTx&)> work) override;

  absl::StatusOr<domain::Product> Get(const std::string& tenant, const std::string& sku) override;
  absl::StatusOr<app::ProductPage> List(const std::string& tenant,
                                        const app::ProductQuery& q) override;

 private:
  class Tx;  // app::ProductTx over one outbox::WriteTx
  template <typename T>
  absl::StatusOr<T> RunTx(const outbox::WriteMeta& meta, const std::string& resource,
                          const outbox::AnswerCodec<T>& codec,
                          absl::FunctionRef<absl::StatusOr<T>(app::ProductTx&)> work);
  absl::StatusOr<std::optional<domain::Product>> Find(pqxx::work& tx, const std::string& tenant,
                                                      const std::string& sku, bool for_update);

  pg::Pool& pool_;
  outbox::TransactionalWriter writer_;
};

}  // namespace crm::transaction::storage
