#pragma once
// What the segmentation use cases need from storage.
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "libs/events/customer_change.h"
#include "libs/events/order_fact.h"
#include "libs/outbox/write_port.h"
#include "services/segmentation/domain/clv_model.h"
#include "services/segmentation/domain/purchases.h"

namespace crm::segmentation::app {

// One refit's transaction: reads the tenant's purchases, stores the model.
class ModelTx {
 public:
  virtual ~ModelTx() = default;
  virtual absl::StatusOr<std::vector<domain::PurchaseRecord>> LoadPurchases() = 0;
  virtual void Save(const domain::ClvModel& m) = 0;
  virtual void EmitRefitted(const domain::ClvModel& m) = 0;
};

struct TenantModel {
  std::string tenant_id;
  domain::ClvModel model;
};

class ModelRepository : public outbox::UnitOfWork<ModelTx, domain::ClvModel> {
 public:
  virtual absl::StatusOr<std::optional<domain::ClvModel>> GetClvModel(
      const std::string& tenant) = 0;
  // Across tenants (the refit scheduler): up to `limit` models fitted before
  // `fitted_before`, oldest first.
  virtual absl::StatusOr<std::vector<TenantModel>> ModelsFittedBefore(absl::Time fitted_before,
                                                                      int limit) = 0;
};

// The facts the engine keeps from other engines' events, in its own schema.
class FactRepository {
 public:
  virtual ~FactRepository() = default;
  // Every order of the tenant, any status (callers filter).
  virtual absl::StatusOr<std::vector<domain::PurchaseRecord>> Purchases(
      const std::string& tenant) = 0;
  // Whether the tenant has this customer (created, not erased) or orders of it.
  virtual absl::StatusOr<bool> KnowsCustomer(const std::string& tenant,
                                             const std::string& customer_id) = 0;

  // One tenant's order facts in one transaction; a fact older than the
  // version kept is ignored.
  virtual absl::Status RecordOrders(const std::string& tenant,
                                    const std::vector<events::OrderFact>& facts) = 0;
  // Applies a customer change once per event id (a replay changes nothing).
  virtual absl::Status ApplyCustomerChange(const events::CustomerChange& change) = 0;
};

}  // namespace crm::segmentation::app
