#pragma once
// Inbound adapter for the order.*, customer.* and behaviour.* events the
// engine keeps facts from (Redis Streams, consumer group "segmentation").
#include <vector>

#include "libs/events/consumer.h"
#include "services/segmentation/app/facts.h"

namespace crm::segmentation::api {

inline constexpr char kConsumerGroup[] = "segmentation";

class FactEventHandler final {
 public:
  explicit FactEventHandler(app::Facts& facts) : facts_(facts) {}
  // One status per event; events of other types are acknowledged unread.
  std::vector<absl::Status> HandleBatch(const std::vector<events::Event>& batch);

 private:
  app::Facts& facts_;
};

}  // namespace crm::segmentation::api
