#pragma once
// Reads customer-store's consent.recorded events (docs/events.md) into a
// ConsentFact.
#include <optional>

#include "absl/status/statusor.h"
#include "crm/events/v1/envelope.pb.h"
#include "libs/events/consent_fact.h"

namespace crm::events {

// std::nullopt for any other event; INVALID_ARGUMENT for a consent.recorded
// whose payload is not the documented JSON or names an unknown channel,
// purpose or status number.
absl::StatusOr<std::optional<ConsentFact>> ConsentFactOf(const crm::events::v1::EventEnvelope& e);

}  // namespace crm::events
