#pragma once
// transaction's order.* events, consumer group "delivery": conversions
// (docs/delivery.md, "Conversions"). Each version of an order is credited
// to the message its customer last clicked within the tenant's attribution
// window before the order was placed, and counted against the campaigns
// that reached (or held out) the customer within it; a cancelled order
// counts for nothing. Other events are left to the other handlers.
#include "absl/status/status.h"
#include "libs/events/consumer.h"
#include "services/delivery/app/conversions.h"

namespace crm::delivery::api {

class OrderEventHandler final {
 public:
  explicit OrderEventHandler(app::Conversions& conversions) : conversions_(conversions) {}
  absl::Status Handle(const events::Event& e);

 private:
  app::Conversions& conversions_;
};

}  // namespace crm::delivery::api
