#pragma once
// Reads customer-store's behaviour.* events into a BehaviourFact and its
// customer.identified events into a CustomerIdentified (docs/events.md).
#include <optional>
#include <vector>

#include "absl/status/statusor.h"
#include "crm/events/v1/envelope.pb.h"
#include "libs/events/behaviour_fact.h"

namespace crm::events {

// std::nullopt for an event that is not behaviour.*; INVALID_ARGUMENT for a
// behaviour event whose payload is not the documented JSON.
absl::StatusOr<std::optional<BehaviourFact>> BehaviourFactOf(
    const crm::events::v1::EventEnvelope& e);

// The facts of one event: every event of a behaviour.tracked batch (what
// customer-store publishes: one per TrackEvents call), or the one fact of a
// behaviour.<type> event (published before batches; still read). std::nullopt
// for any other event; INVALID_ARGUMENT for a payload that is not the
// documented JSON (a batch is read whole or not at all).
absl::StatusOr<std::optional<std::vector<BehaviourFact>>> BehaviourFactsOf(
    const crm::events::v1::EventEnvelope& e);

// Delivery's message.sent, message.opened and message.clicked of an email
// (docs/events.md) as the customer's behaviour: types email.sent,
// email.opened, email.clicked at the event's commit time, the campaign id as
// the campaign property. std::nullopt for other events (and other channels:
// webhooks reach the tenant's systems, not the customer); INVALID_ARGUMENT
// for one whose payload is not the documented JSON.
absl::StatusOr<std::optional<BehaviourFact>> MessageFactOf(const crm::events::v1::EventEnvelope& e);

// std::nullopt for an event that is not customer.identified; INVALID_ARGUMENT
// for one whose payload is not the documented JSON.
absl::StatusOr<std::optional<CustomerIdentified>> CustomerIdentifiedOf(
    const crm::events::v1::EventEnvelope& e);

// std::nullopt for an event that is not behaviour.settings_updated;
// INVALID_ARGUMENT for one whose payload is not the documented JSON.
absl::StatusOr<std::optional<BehaviourRetention>> BehaviourRetentionOf(
    const crm::events::v1::EventEnvelope& e);

}  // namespace crm::events
