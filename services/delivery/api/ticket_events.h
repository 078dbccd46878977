#pragma once
// The service desk's ticket.mail_queued events, consumer group "delivery":
// each names a mail the desk sends (a ticket's public reply or auto-reply),
// which becomes an email message of the ledger, once per mail (its content
// is read from the desk when it is sent). Other events are left to the
// other handlers.
#include "absl/status/status.h"
#include "libs/events/consumer.h"
#include "services/delivery/app/delivery.h"

namespace crm::delivery::api {

class TicketEventHandler final {
 public:
  explicit TicketEventHandler(app::Delivery& delivery) : delivery_(delivery) {}
  absl::Status Handle(const events::Event& e);

 private:
  app::Delivery& delivery_;
};

}  // namespace crm::delivery::api
