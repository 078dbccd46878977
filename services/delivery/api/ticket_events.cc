#include "services/delivery/api/ticket_events.h"

#include "libs/common/status_macros.h"
#include "libs/events/ticket_event.h"
#include "libs/observability/log.h"

namespace crm::delivery::api {

absl::Status TicketEventHandler::Handle(const events::Event& e) {
  CRM_ASSIGN_OR_RETURN(std::optional<events::TicketMailQueued> mail,
                       events::TicketMailQueuedOf(e.envelope));
  if (!mail) return absl::OkStatus();
  absl::StatusOr<domain::Message> m =
      delivery_.QueueTicketMail(mail->tenant_id, mail->customer_id, mail->ticket_id, mail->mail_id);
  if (absl::IsInvalidArgument(m.status())) {
    // Not a mail any retry could queue: acknowledged, and said.
    observability::LogLine(observability::Severity::kWarning)
            .Field("event_id", mail->event_id)
            .Field("error", m.status().ToString())
        << "ticket.mail_queued event refused";
    return absl::OkStatus();
  }
  return m.status();
}

}  // namespace crm::delivery::api
