#pragma once
// Reads customer-store's behaviour.* events into a BehaviourFact and its
// customer.identified events into a CustomerIdentified (docs/events.md).
#include <optional>

#include "absl/status/statusor.h"
#include "crm/events/v1/envelope.pb.h"
#include "libs/events/behaviour_fact.h"

namespace crm::events {

// std::nullopt for an event that is not behaviour.*; INVALID_ARGUMENT for a
// behaviour event whose payload is not the documented JSON.
absl::StatusOr<std::optional<BehaviourFact>> BehaviourFactOf(
    const crm::events::v1::EventEnvelope& e);

// std::nullopt for an event that is not customer.identified; INVALID_ARGUMENT
// for one whose payload is not the documented JSON.
absl::StatusOr<std::optional<CustomerIdentified>> CustomerIdentifiedOf(
    const crm::events::v1::EventEnvelope& e);

}  // namespace crm::events
