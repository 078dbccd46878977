#pragma once
// OrderRepository over PostgreSQL (schema txn).
#include <string>
#include <vector>

#include "libs/outbox/unit_of_work.h"
#include "libs/pg/pool.h"
#include "services/transaction/app/ports.h"
#include "services/transaction/schema_name.h"

namespace crm::transaction::storage {

// Also the payments / returns / refunds and order-settings repository: they
// lock and update the order row (pg_order_money.cc).
class PgOrderRepository final : public app::OrderRepository,
                                public app::OrderMoneyRepository,
                                public app::OrderSettingsRepository {
 public:
  explicit PgOrderRepository(pg::Pool& pool) : pool_(pool), writer_(pool, kSchema) {}
  static std::vector<pg::NamedQuery> Queries();

  absl::StatusOr<domain::Order> Insert(const app::Actor& actor, const domain::Order& o) override;
  absl::StatusOr<std::optional<domain::Order>> FindReplay(const app::Actor& actor) override;
  // The body of Insert inside a caller's transaction (no idempotency key):
  // SKUs and external id checked, order and lines written, order.placed
  // emitted. Used to create the order of a won opportunity atomically.
  absl::Status InsertInTransaction(pqxx::work& tx, const outbox::WriteMeta& meta,
                                   const domain::Order& o);
  absl::StatusOr<domain::Order> Get(const std::string& tenant, const std::string& id) override;
  absl::StatusOr<app::OrderPage> List(const std::string& tenant,
                                      const app::OrderQuery& q) override;
  absl::StatusOr<domain::Order> Transition(const app::Actor& actor, const std::string& id,
                                           domain::OrderStatus to, absl::Time now) override;

  absl::StatusOr<domain::Payment> RecordPayment(const app::Actor& actor,
                                                const domain::Payment& p) override;
  absl::StatusOr<domain::Payment> UpdatePaymentStatus(const app::Actor& actor,
                                                      const std::string& order_id,
                                                      const std::string& payment_id,
                                                      domain::PaymentStatus to,
                                                      absl::Time now) override;
  absl::StatusOr<std::vector<domain::Payment>> ListPayments(const std::string& tenant,
                                                            const std::string& order_id) override;
  absl::StatusOr<domain::Return> CreateReturn(
      const app::Actor& actor, const domain::Return& r,
      const std::vector<domain::ReturnLineRequest>& lines) override;
  absl::StatusOr<std::vector<domain::Return>> ListReturns(const std::string& tenant,
                                                          const std::string& order_id) override;
  absl::StatusOr<domain::Refund> CreateRefund(const app::Actor& actor,
                                              const domain::Refund& r) override;
  absl::StatusOr<domain::Refund> UpdateRefundStatus(const app::Actor& actor,
                                                    const std::string& order_id,
                                                    const std::string& refund_id,
                                                    domain::RefundStatus to,
                                                    absl::Time now) override;
  absl::StatusOr<std::vector<domain::Refund>> ListRefunds(const std::string& tenant,
                                                          const std::string& order_id) override;

  // OrderSettingsRepository
  absl::StatusOr<app::OrderSettings> GetSettings(const std::string& tenant) override;
  absl::StatusOr<app::OrderSettings> UpdateSettings(const app::Actor& actor,
                                                    const app::OrderSettings& s,
                                                    const std::string& if_match,
                                                    absl::Time now) override;

 private:
  static std::vector<pg::NamedQuery> MoneyQueries();
  // domain::ApplyOrderChange (version + 1), the running sums and status
  // written, its order event emitted.
  void SaveOrderMoney(pqxx::work& tx, const outbox::WriteMeta& meta, domain::Order& o,
                      domain::OrderStatus before, absl::Time now);
  // The order's returns without their lines (id, amount, reason, time).
  std::vector<domain::Return> LoadReturns(pqxx::work& tx, const std::string& tenant,
                                          const std::string& order_id);
  void EmitPayment(pqxx::work& tx, const outbox::WriteMeta& meta, const domain::Order& o,
                   const domain::Payment& p);
  void EmitRefund(pqxx::work& tx, const outbox::WriteMeta& meta, const domain::Order& o,
                  const domain::Refund& r);
  absl::StatusOr<domain::Order> Load(pqxx::work& tx, const std::string& tenant,
                                     const std::string& id, bool for_update);
  absl::Status LoadLines(pqxx::work& tx, const std::string& tenant,
                         std::vector<domain::Order*> orders);
  void EmitOrder(pqxx::work& tx, const outbox::WriteMeta& meta, const domain::Order& o);

  pg::Pool& pool_;
  outbox::TransactionalWriter writer_;
};

}  // namespace crm::transaction::storage
