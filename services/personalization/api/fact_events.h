#pragma once
// Inbound adapter for the events the engine learns from (Redis Streams,
// consumer group "personalization"): order.* and product.* (transaction),
// behaviour.tracked, customer.* and consent.recorded (customer-store).
#include <vector>

#include "libs/events/consumer.h"
#include "services/personalization/app/recommender.h"

namespace crm::personalization::api {

// One status per event; events of other types are acknowledged unread.
std::vector<absl::Status> HandleFactBatch(app::Recommender& recommender,
                                          const std::vector<events::Event>& batch);

}  // namespace crm::personalization::api
