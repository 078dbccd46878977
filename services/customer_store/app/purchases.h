#pragma once
// Projection of the transaction engine's order events into customer-store.
#include <vector>

#include "absl/status/status.h"
#include "services/customer_store/app/ports.h"

namespace crm::customer_store::app {

class PurchaseProjector final {
 public:
  PurchaseProjector(PurchaseRepository& repository, ViewCache& cache)
      : repository_(repository), cache_(cache) {}
  // Idempotent; invalidates the customer's cached view when it changed.
  absl::Status Apply(const domain::OrderFact& fact);
  // Apply() of every fact, one status per fact (same order). The valid
  // facts of each tenant are recorded in one transaction
  // (PurchaseRepository::RecordOrders), in order, so one customer's facts
  // keep their order; when that transaction fails, each of its facts is
  // applied alone, so a poison fact fails alone and the others are kept.
  std::vector<absl::Status> ApplyBatch(const std::vector<domain::OrderFact>& facts);

 private:
  void Invalidate(const domain::OrderFact& fact, const PurchaseRepository::Change& change);
  PurchaseRepository& repository_;
  ViewCache& cache_;
};

}  // namespace crm::customer_store::app
