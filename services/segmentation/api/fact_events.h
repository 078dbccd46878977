#pragma once
// Inbound adapter for the order.*, customer.* and behaviour.* events the
// engine keeps facts from (Redis Streams, consumer group "segmentation", or
// "segmentation-<k>" for replica k > 0: ReplicaConfig).
#include <vector>

#include "libs/events/consumer.h"
#include "services/segmentation/app/facts.h"
#include "services/segmentation/app/live_segments.h"

namespace crm::segmentation::api {

class FactEventHandler final {
 public:
  FactEventHandler(app::Facts& facts, app::LiveSegments& segments)
      : facts_(facts), segments_(segments) {}
  // One status per event; events of other types are acknowledged unread.
  // Once the facts are stored, the live segments re-evaluate the customers
  // they concern; when that fails, the tenant's events are answered with its
  // error (the consumer delivers them again: storing facts is idempotent).
  // Partitioned, the engine's own segment, settings and model events make
  // this replica Resync() their tenant.
  std::vector<absl::Status> HandleBatch(const std::vector<events::Event>& batch);

 private:
  app::Facts& facts_;
  app::LiveSegments& segments_;
};

}  // namespace crm::segmentation::api
