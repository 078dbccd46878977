#pragma once
// OrderRepository over PostgreSQL (schema txn): orders, and the payments,
// returns and refunds that lock and update the order row
// (pg_order_money.cc); also the tenant's order settings.
#include <memory>
#include <string>
#include <vector>

#include "libs/outbox/unit_of_work.h"
#include "libs/pg/pool.h"
#include "services/transaction/app/ports.h"
#include "services/transaction/schema_name.h"

namespace crm::transaction::storage {

class PgOrderRepository final : public app::OrderRepository, public app::OrderSettingsRepository {
 public:
  explicit PgOrderRepository(pg::Pool& pool) : pool_(pool), writer_(pool, kSchema) {}
  static std::vector<pg::NamedQuery> Queries();

  absl::StatusOr<domain::Order> Write(
      const outbox::WriteMeta& meta, const std::string& resource,
      absl::FunctionRef<absl::StatusOr<domain::Order>(app::OrderTx&)> work) override;
  absl::StatusOr<domain::Payment> Write(
      const outbox::WriteMeta& meta, const std::string& resource,
      absl::FunctionRef<absl::StatusOr<domain::Payment>(app::OrderTx&)> work) override;
  absl::StatusOr<domain::Return> Write(
      const outbox::WriteMeta& meta, const std::string& resource,
      absl::FunctionRef<absl::StatusOr<domain::Return>(app::OrderTx&)> work) override;
  absl::StatusOr<domain::Refund> Write(
      const outbox::WriteMeta& meta, const std::string& resource,
      absl::FunctionRef<absl::StatusOr<domain::Refund>(app::OrderTx&)> work) override;
  // The orders' port inside another write's transaction (a won
  // opportunity's order, written with the close).
  std::unique_ptr<app::OrderTx> TxOf(const outbox::WriteTx& w);

  absl::StatusOr<std::optional<domain::Order>> FindReplay(const app::Actor& actor) override;
  absl::StatusOr<domain::Order> Get(const std::string& tenant, const std::string& id) override;
  absl::StatusOr<app::OrderPage> List(const std::string& tenant, const app::OrderQuery& q) override;
  absl::StatusOr<std::vector<domain::Payment>> ListPayments(const std::string& tenant,
                                                            const std::string& order_id) override;
  absl::StatusOr<std::vector<domain::Return>> ListReturns(const std::string& tenant,
                                                          const std::string& order_id) override;
  absl::StatusOr<std::vector<domain::Refund>> ListRefunds(const std::string& tenant,
                                                          const std::string& order_id) override;

  // OrderSettingsRepository
  absl::StatusOr<app::OrderSettings> GetSettings(const std::string& tenant) override;
  absl::StatusOr<app::OrderSettings> UpdateSettings(const app::Actor& actor,
                                                    const app::OrderSettings& s,
                                                    const std::string& if_match,
                                                    absl::Time now) override;

 private:
  class Tx;  // app::OrderTx over one outbox::WriteTx
  template <typename T>
  absl::StatusOr<T> RunTx(const outbox::WriteMeta& meta, const std::string& resource,
                          const outbox::AnswerCodec<T>& codec,
                          absl::FunctionRef<absl::StatusOr<T>(app::OrderTx&)> work) {
    return outbox::WriteOnce<T>(writer_, meta, resource, codec,
                                [&](const outbox::WriteTx& w) -> absl::StatusOr<T> {
                                  std::unique_ptr<app::OrderTx> tx = TxOf(w);
                                  return work(*tx);
                                });
  }
  static std::vector<pg::NamedQuery> MoneyQueries();
  absl::StatusOr<domain::Order> Load(pqxx::work& tx, const std::string& tenant,
                                     const std::string& id, bool for_update);
  absl::Status LoadLines(pqxx::work& tx, const std::string& tenant,
                         std::vector<domain::Order*> orders);

  // The money side of Tx (pg_order_money.cc).
  absl::StatusOr<domain::Payment> LoadPayment(const outbox::WriteTx& w, const std::string& order_id,
                                              const std::string& id);
  absl::StatusOr<domain::Refund> LoadRefund(const outbox::WriteTx& w, const std::string& order_id,
                                            const std::string& id);
  std::vector<domain::Refund> LoadRefunds(pqxx::work& tx, const std::string& tenant,
                                          const std::string& order_id);
  // The order's returns without their lines (id, amount, reason, time).
  std::vector<domain::Return> LoadReturns(pqxx::work& tx, const std::string& tenant,
                                          const std::string& order_id);
  void SavePayment(const outbox::WriteTx& w, const domain::Payment& p, bool is_new);
  void SaveRefund(const outbox::WriteTx& w, const domain::Refund& r, bool is_new);
  void AppendReturn(const outbox::WriteTx& w, const domain::Return& r, const domain::Order& o);
  static void EmitPayment(const outbox::WriteTx& w, const std::string& type, const domain::Order& o,
                          const domain::Payment& p);
  static void EmitReturn(const outbox::WriteTx& w, const domain::Order& o, const domain::Return& r);
  static void EmitRefund(const outbox::WriteTx& w, const std::string& type, const domain::Order& o,
                         const domain::Refund& r);

  pg::Pool& pool_;
  outbox::TransactionalWriter writer_;
};

}  // namespace crm::transaction::storage
