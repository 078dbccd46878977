#pragma once
// OrderRepository over PostgreSQL (schema txn).
#include <string>
#include <vector>

#include "libs/outbox/writer.h"
#include "libs/pg/pool.h"
#include "services/transaction/app/ports.h"

namespace crm::transaction::storage {

class PgOrderRepository final : public app::OrderRepository {
 public:
  explicit PgOrderRepository(pg::Pool& pool) : pool_(pool), writer_(pool, "txn") {}
  static std::vector<pg::NamedQuery> Queries();

  absl::StatusOr<domain::Order> Insert(const app::Actor& actor, const domain::Order& o) override;
  absl::StatusOr<domain::Order> Get(const std::string& tenant, const std::string& id) override;
  absl::StatusOr<app::OrderPage> List(const std::string& tenant,
                                      const app::OrderQuery& q) override;
  absl::StatusOr<domain::Order> Transition(const app::Actor& actor, const std::string& id,
                                           domain::OrderStatus to, absl::Time now) override;

 private:
  absl::StatusOr<domain::Order> Load(pqxx::work& tx, const std::string& tenant,
                                     const std::string& id, bool for_update);
  absl::Status LoadLines(pqxx::work& tx, const std::string& tenant,
                         std::vector<domain::Order*> orders);
  void EmitOrder(pqxx::work& tx, const outbox::WriteMeta& meta, const domain::Order& o);

  pg::Pool& pool_;
  outbox::TransactionalWriter writer_;
};

}  // namespace crm::transaction::storage
