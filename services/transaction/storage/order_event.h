#pragma once
// The order.<status> event every order write emits (docs/events.md), shared
// by the order repository and the ERP ingest so both speak the same payload.
#include <string>

#include "services/transaction/domain/order.h"

namespace crm::transaction::storage {

// "order.placed", "order.partially_returned", ...
std::string OrderEventType(const domain::Order& o);
// JSON payload: order_id, customer_id, external_id, status, currency_code,
// total_minor, returned_minor, net_minor, placed_at_us, version, lines.
std::string OrderEventPayload(const domain::Order& o);

}  // namespace crm::transaction::storage
