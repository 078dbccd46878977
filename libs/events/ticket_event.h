#pragma once
// Reads the service desk's ticket.* event envelopes into TicketEvent.
#include <optional>

#include "absl/status/statusor.h"
#include "crm/events/v1/envelope.pb.h"
#include "libs/events/ticket_fact.h"

namespace crm::events {

// std::nullopt for an event that is not ticket.created, ticket.message_added
// or ticket.status_changed; INVALID_ARGUMENT for one whose payload is not
// the documented JSON.
absl::StatusOr<std::optional<TicketEvent>> TicketEventOf(const crm::events::v1::EventEnvelope& e);

// std::nullopt for an event that is not ticket.mail_queued; INVALID_ARGUMENT
// for one whose payload is not the documented JSON.
absl::StatusOr<std::optional<TicketMailQueued>> TicketMailQueuedOf(
    const crm::events::v1::EventEnvelope& e);

}  // namespace crm::events
