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
  static std::vector<pg::NamedQuery> Queries();

  absl::StatusOr<domain::Product> Insert(const app::Actor& actor, const domain::Product& p) override;
  absl::StatusOr<domain::Product> Get(const std::string& tenant, const std::string& sku) override;
  absl::StatusOr<domain::Product> Update(const app::Actor& actor, const std::string& sku,
                                         const std::string& if_match,
                                         const Mutation& mutate) override;
  absl::StatusOr<app::ProductPage> List(const std::string& tenant,
                                        const app::ProductQuery& q) override;
  absl::StatusOr<app::BatchResult> Upsert(const app::Actor& actor,
                                          const std::vector<domain::Product>& products) override;

 private:
  absl::StatusOr<domain::Product> Load(pqxx::work& tx, const std::string& tenant,
                                       const std::string& sku, bool for_update);
  void WriteRow(pqxx::work& tx, const std::string& tenant, const domain::Product& p, bool insert);
  void EmitProduct(pqxx::work& tx, const outbox::WriteMeta& meta, const char* type,
                   const domain::Product& p);

  pg::Pool& pool_;
  outbox::TransactionalWriter writer_;
};

}  // namespace crm::transaction::storage
