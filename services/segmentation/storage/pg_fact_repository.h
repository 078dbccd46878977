#pragma once
// FactRepository over PostgreSQL (schema segmentation): the customers,
// orders and behaviour the engine keeps from customer.*, order.* and
// behaviour.* events.
#include <functional>
#include <string>
#include <vector>

#include "libs/pg/pool.h"
#include "services/segmentation/app/ports.h"

namespace crm::segmentation::storage {

class PgFactRepository final : public app::FactRepository {
 public:
  explicit PgFactRepository(pg::Pool& pool) : pool_(pool) {}
  static std::vector<pg::NamedQuery> Queries();
  // The tenant's orders in `tx` (shared with the model's refit).
  static absl::StatusOr<std::vector<domain::PurchaseRecord>> Purchases(pg::Pool& pool,
                                                                       pqxx::work& tx,
                                                                       const std::string& tenant);

  absl::StatusOr<std::vector<domain::PurchaseRecord>> Purchases(const std::string& tenant) override;
  absl::StatusOr<std::vector<domain::PurchaseRecord>> PurchasesOf(
      const std::string& tenant, const std::string& customer_id) override;
  absl::StatusOr<bool> KnowsCustomer(const std::string& tenant,
                                     const std::string& customer_id) override;
  absl::Status RecordOrders(const std::string& tenant,
                            const std::vector<events::OrderFact>& facts) override;
  absl::Status ApplyCustomerChange(const events::CustomerChange& change) override;
  absl::Status RecordBehaviour(const std::string& tenant,
                               const std::vector<events::BehaviourFact>& facts) override;
  absl::Status LinkVisitor(const events::CustomerIdentified& link) override;
  absl::Status RecordBehaviourRetention(const events::BehaviourRetention& r) override;
  absl::StatusOr<std::vector<std::pair<std::string, int64_t>>> TenantsWithBehaviourRetention()
      override;
  absl::StatusOr<common::PurgeStep> PurgeBehaviour(const std::string& tenant, absl::Time cutoff,
                                                   int64_t from_block, int blocks) override;
  absl::Status RecordConsent(const events::ConsentFact& consent) override;
  absl::Status RecordProducts(const std::string& tenant,
                              const std::vector<events::ProductFact>& facts) override;
  absl::StatusOr<domain::SkuCategories> ProductCategories(const std::string& tenant) override;
  absl::StatusOr<std::vector<domain::CustomerConsent>> Consents(
      const std::string& tenant,
      const std::optional<std::vector<std::string>>& customer_ids) override;
  absl::StatusOr<std::vector<domain::CustomerProfile>> Profiles(
      const std::string& tenant,
      const std::optional<std::vector<std::string>>& customer_ids) override;
  absl::StatusOr<std::vector<domain::CustomerEvent>> Behaviour(const std::string& tenant) override;
  // The three reads in one transaction.
  absl::StatusOr<CustomerFacts> FactsOf(const std::string& tenant,
                                        const std::vector<std::string>& customer_ids) override;
  absl::StatusOr<std::vector<domain::CustomerEvent>> BehaviourOf(
      const std::string& tenant, const std::vector<std::string>& customer_ids) override;

 private:
  // Runs `all` (tenant) or, with ids, `of` (tenant, the ids that are UUIDs;
  // none: no query) and hands each row to `on_row`.
  absl::Status SelectFor(const std::string& tenant,
                         const std::optional<std::vector<std::string>>& customer_ids,
                         const pg::NamedQuery& all, const pg::NamedQuery& of,
                         const std::function<absl::Status(const pqxx::row&)>& on_row);

  pg::Pool& pool_;
};

}  // namespace crm::segmentation::storage
