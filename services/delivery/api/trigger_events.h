#pragma once
// The events that trigger campaigns (docs/delivery.md, "Triggered
// campaigns"), consumer group "delivery": segmentation's segment.entered,
// transaction's order.placed (which also reaches the goal of abandoned-cart
// reminders) and customer-store's cart.item_added of a known customer
// (behaviour.tracked batches). Each becomes an app::TriggerEvent for the
// tenant's running campaigns of its kind. Other events are left to the
// other handlers.
#include "absl/status/status.h"
#include "libs/events/consumer.h"
#include "services/delivery/app/campaigns.h"
#include "services/delivery/app/journeys.h"

namespace crm::delivery::api {

// segment.entered and order.placed also reach journeys (their triggers,
// waits and goals).
class TriggerEventHandler final {
 public:
  TriggerEventHandler(app::Campaigns& campaigns, app::Journeys& journeys)
      : campaigns_(campaigns), journeys_(journeys) {}
  absl::Status Handle(const events::Event& e);

 private:
  app::Campaigns& campaigns_;
  app::Journeys& journeys_;
};

}  // namespace crm::delivery::api
