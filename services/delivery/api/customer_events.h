#pragma once
// customer-store's events, consumer group "delivery": customer.erased
// deletes the erased customers' messages from the ledger (recipients are
// personal data). Every other event is acknowledged and ignored.
#include "absl/status/status.h"
#include "libs/events/consumer.h"
#include "services/delivery/app/ports.h"

namespace crm::delivery::api {

inline constexpr char kConsumerGroup[] = "delivery";

class CustomerEventHandler final {
 public:
  explicit CustomerEventHandler(app::DeliveryRepository& repository) : repository_(repository) {}
  absl::Status Handle(const events::Event& e);

 private:
  app::DeliveryRepository& repository_;
};

}  // namespace crm::delivery::api
