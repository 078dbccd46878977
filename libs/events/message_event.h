#pragma once
// Reads delivery's message.* event envelopes into MessageEvent.
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "crm/events/v1/envelope.pb.h"
#include "libs/events/message_fact.h"

namespace crm::events {

// std::nullopt for an event that is not one of those five; INVALID_ARGUMENT
// for one whose payload is not the documented JSON.
absl::StatusOr<std::optional<MessageEvent>> MessageEventOf(const crm::events::v1::EventEnvelope& e);

}  // namespace crm::events
