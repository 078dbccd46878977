#pragma once
// The web call center's context of a ticket (docs/service-desk.md, "Web
// call center context"): the ticket, the visit its requester was on when it
// was opened and the customer's 360 view, from customer-store at once.
#include <string>

#include "absl/status/statusor.h"
#include "libs/common/section_status.h"
#include "services/service_desk/app/ports.h"
#include "services/service_desk/app/tickets.h"

namespace crm::service_desk::app {

struct TicketContext {
  domain::Ticket ticket;
  CustomerContext::Parts parts;
};

// Why a part could not be had, as the client reads it: NOT_FOUND (the
// ticket's customer erased or merged away) as CUSTOMER_NOT_FOUND, else
// common::SectionStatusOf for customer-store.
common::SectionStatus ContextPartStatus(const absl::Status& s);

class TicketContexts {
 public:
  TicketContexts(Tickets& tickets, CustomerContext& customers)
      : tickets_(tickets), customers_(customers) {}
  // The ticket as GetTicket reads it (NOT_FOUND for another tenant's), then
  // customer-store's parts for it; their failures are in the parts.
  absl::StatusOr<TicketContext> Read(const std::string& tenant, const std::string& ticket_id);

 private:
  Tickets& tickets_;
  CustomerContext& customers_;
};

}  // namespace crm::service_desk::app
