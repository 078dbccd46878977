#pragma once
// OrderRepository over PostgreSQL (schema txn): orders, and the payments,
// returns and refunds that lock and update the order row
// (pg_order_money.cc); also the tenant's order settings.
#include <memory>
#include <optional>
#include <set>
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
  class Tx;  // app::OrderTx over one outbox::WriteTx (below)

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

  // The order's refunds, and its returns without their lines (id, amount,
  // reason, time): for the writes and the listings.
  std::vector<domain::Refund> LoadRefunds(pqxx::work& tx, const std::string& tenant,
                                          const std::string& order_id);
  std::vector<domain::Return> LoadReturns(pqxx::work& tx, const std::string& tenant,
                                          const std::string& order_id);

  pg::Pool& pool_;
  outbox::TransactionalWriter writer_;
};

// One write's transaction (app::OrderTx) over the repository's queries:
// orders in pg_order_repository.cc, payments, returns and refunds in
// pg_order_money.cc.
class PgOrderRepository::Tx final : public app::OrderTx {
 public:
  Tx(PgOrderRepository& repo, const outbox::WriteTx& w) : repo_(repo), w_(w) {}

  absl::StatusOr<domain::Order> LoadOrder(const std::string& id) override;
  absl::StatusOr<domain::Payment> LoadPayment(const std::string& order_id,
                                              const std::string& id) override;
  absl::StatusOr<domain::Refund> LoadRefund(const std::string& order_id,
                                            const std::string& id) override;
  std::vector<domain::Refund> LoadRefunds(const std::string& order_id) override;
  std::vector<domain::Return> LoadReturns(const std::string& order_id) override;
  std::set<std::string> KnownSkus(const std::vector<std::string>& skus) override;
  std::optional<std::string> OrderWithExternalId(const std::string& external_id) override;
  void SaveOrder(const domain::Order& o, bool is_new) override;
  void SavePayment(const domain::Payment& p, bool is_new) override;
  void SaveRefund(const domain::Refund& r, bool is_new) override;
  void AppendReturn(const domain::Return& r, const domain::Order& o) override;
  void EmitOrder(const std::string& type, const domain::Order& o) override;
  void EmitPayment(const std::string& type, const domain::Order& o,
                   const domain::Payment& p) override;
  void EmitReturn(const domain::Order& o, const domain::Return& r) override;
  void EmitRefund(const std::string& type, const domain::Order& o,
                  const domain::Refund& r) override;

 private:
  PgOrderRepository& repo_;
  const outbox::WriteTx& w_;
};

}  // namespace crm::transaction::storage
