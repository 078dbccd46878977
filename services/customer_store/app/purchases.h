#pragma once
// Projection of the transaction engine's order events into customer-store.
#include "absl/status/status.h"
#include "services/customer_store/app/ports.h"

namespace crm::customer_store::app {

class PurchaseProjector final {
 public:
  PurchaseProjector(PurchaseRepository& repository, ViewCache& cache)
      : repository_(repository), cache_(cache) {}
  // Idempotent; invalidates the customer's cached view when it changed.
  absl::Status Apply(const domain::OrderFact& fact);

 private:
  PurchaseRepository& repository_;
  ViewCache& cache_;
};

}  // namespace crm::customer_store::app
