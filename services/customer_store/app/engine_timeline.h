#pragma once
// Other engines' events on the customer's timeline (docs/api.md, "The
// timeline"), each entry's id the event's, so a redelivered event adds
// nothing; the 360 view's interactions show them too.
// - Delivery's messages: an email, SMS or push sent, opened, clicked,
//   unsubscribed from, or credited with an order (source "delivery"; ids
//   only, never the content). Webhook messages went to the tenant's
//   systems, not to the customer: no entry.
// - The service desk's tickets: opened, the customer's messages and the
//   agents' public replies (internal notes are not the customer's), solved
//   and reopened (INTERACTION_KIND_TICKET, source "service-desk").
#include <optional>

#include "absl/status/status.h"
#include "libs/events/message_fact.h"
#include "libs/events/ticket_fact.h"
#include "services/customer_store/app/ports.h"

namespace crm::customer_store::app {

// The entry of an event (nullopt: none), pure.
std::optional<ActivityRepository::Activity> MessageActivityOf(const events::MessageEvent& m);
std::optional<ActivityRepository::Activity> TicketActivityOf(const events::TicketEvent& t);

class EngineTimeline final {
 public:
  EngineTimeline(ActivityRepository& repository, ViewCache& cache)
      : repository_(repository), cache_(cache) {}
  absl::Status Apply(const events::MessageEvent& m) { return Record(MessageActivityOf(m)); }
  absl::Status Apply(const events::TicketEvent& t) { return Record(TicketActivityOf(t)); }

 private:
  // Adds the entry (none: nothing) and forgets the customer's cached view.
  absl::Status Record(const std::optional<ActivityRepository::Activity>& a);

  ActivityRepository& repository_;
  ViewCache& cache_;
};

}  // namespace crm::customer_store::app
