#pragma once
// Inbound adapter for customer-store's events (Redis Streams, consumer group
// "transaction"): customer.erased -> erasure of the customer's pipeline data.
// Every other event type is acknowledged and ignored.
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "crm/events/v1/envelope.pb.h"
#include "services/transaction/app/pipeline.h"

namespace crm::transaction::api {

inline constexpr char kConsumerGroup[] = "transaction";

struct CustomerErasure {
  std::string tenant_id;
  std::string event_id;
  // The erased customer first, then the customers merged into it.
  std::vector<std::string> customer_ids;
};

// nullopt for events that are not customer.erased; INVALID_ARGUMENT for a
// customer.erased whose payload is not the documented JSON.
absl::StatusOr<std::optional<CustomerErasure>> CustomerErasureOf(
    const crm::events::v1::EventEnvelope& e);

class CustomerEventHandler final {
 public:
  explicit CustomerEventHandler(app::Pipeline& pipeline) : pipeline_(pipeline) {}
  absl::Status Handle(const crm::events::v1::EventEnvelope& e);

 private:
  app::Pipeline& pipeline_;
};

}  // namespace crm::transaction::api
