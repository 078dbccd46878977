#pragma once
// What the service desk's ticket.* events say about a customer's ticket
// (docs/events.md): the contract their consumers read. Plain values only, so
// consumers' domain and app code may hold it.
#include <cstdint>
#include <string>

#include "absl/time/time.h"

namespace crm::events {

struct TicketEvent {
  std::string tenant_id;
  std::string event_id;  // the envelope's
  // "created", "message_added", "status_changed", "survey_answered"
  std::string kind;
  std::string ticket_id;
  int64_t number = 0;
  std::string customer_id;  // the requester
  std::string subject;
  std::string channel;       // "email", "web_form", "chat", "phone", "api"
  std::string status;        // after the event
  std::string from_status;   // status_changed: before it
  std::string message_kind;  // message_added: "customer", "public_reply", "internal_note"
  std::string survey_kind;   // survey_answered: "csat" (rating 1..5) or "nps" (0..10)
  int rating = -1;           // survey_answered
  absl::Time occurred_time = absl::InfinitePast();  // the envelope's commit time
};

// ticket.mail_queued: a mail the desk sends (a public reply of a mail
// ticket, an auto-reply), for the delivery engine to send; its content is
// read from the desk (GetOutboundMail), never carried by the event.
struct TicketMailQueued {
  std::string tenant_id;
  std::string event_id;
  std::string ticket_id;
  std::string customer_id;  // the requester
  std::string mail_id;
  std::string mail_kind;  // "reply", "auto_reply"
};

}  // namespace crm::events
