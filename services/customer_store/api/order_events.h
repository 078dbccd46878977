#pragma once
// Inbound adapter for the transaction engine's order events (Redis Streams,
// consumer group "customer-store"): envelope -> OrderFact -> projection.
#include <vector>

#include "absl/status/statusor.h"
#include "crm/events/v1/envelope.pb.h"
#include "libs/events/consumer.h"
#include "services/customer_store/app/purchases.h"

namespace crm::customer_store::api {

class OrderEventHandler final {
 public:
  explicit OrderEventHandler(app::PurchaseProjector& projector) : projector_(projector) {}
  absl::Status Handle(const crm::events::v1::EventEnvelope& e);
  // The entries of one consumer read (events::BatchHandler):
  // their order facts projected together (PurchaseProjector::ApplyBatch);
  // one status per event.
  std::vector<absl::Status> HandleBatch(const std::vector<events::Event>& batch);

 private:
  app::PurchaseProjector& projector_;
};

}  // namespace crm::customer_store::api
