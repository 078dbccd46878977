#pragma once
// Delivery's messages on the customer's timeline (docs/api.md, "The
// timeline"): an email sent, opened, clicked, unsubscribed from, or
// credited with an order is an INTERACTION_KIND_EMAIL entry (source
// "delivery", id the event's, so a redelivered event adds nothing), which
// the 360 view's interactions show too. Webhook messages went to the
// tenant's systems, not to the customer: no entry.
#include "absl/status/status.h"
#include "libs/events/message_fact.h"
#include "services/customer_store/app/ports.h"

namespace crm::customer_store::app {

// The entry of a message event (nullopt: none), pure.
std::optional<ActivityRepository::Activity> MessageActivityOf(const events::MessageEvent& m);

class MessageTimeline final {
 public:
  MessageTimeline(ActivityRepository& repository, ViewCache& cache)
      : repository_(repository), cache_(cache) {}
  absl::Status Apply(const events::MessageEvent& m);

 private:
  ActivityRepository& repository_;
  ViewCache& cache_;
};

}  // namespace crm::customer_store::app
