#pragma once
// Reads customer-store's customer.created / erased / merged / unmerged events
// (docs/events.md) into a CustomerChange.
#include <optional>

#include "absl/status/statusor.h"
#include "crm/events/v1/envelope.pb.h"
#include "libs/events/customer_change.h"

namespace crm::events {

// std::nullopt for any other event; INVALID_ARGUMENT for one of these whose
// payload is not the documented JSON.
absl::StatusOr<std::optional<CustomerChange>> CustomerChangeOf(
    const crm::events::v1::EventEnvelope& e);

}  // namespace crm::events
