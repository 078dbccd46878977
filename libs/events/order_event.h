#pragma once
// Reads an order.* event envelope into an OrderFact.
#include <optional>

#include "absl/status/statusor.h"
#include "crm/events/v1/envelope.pb.h"
#include "libs/events/order_fact.h"

namespace crm::events {

// std::nullopt for an event that is not order.*; INVALID_ARGUMENT for an
// order event whose payload is not the documented JSON.
absl::StatusOr<std::optional<OrderFact>> OrderFactOf(const crm::events::v1::EventEnvelope& e);

// std::nullopt for an event that is not product.created / product.updated;
// INVALID_ARGUMENT for one whose payload is not the documented JSON.
absl::StatusOr<std::optional<ProductFact>> ProductFactOf(const crm::events::v1::EventEnvelope& e);

}  // namespace crm::events
