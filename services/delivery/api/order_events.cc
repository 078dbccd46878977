#include "services/delivery/api/order_events.h"

#include "libs/common/status_macros.h"
#include "libs/events/order_event.h"
#include "libs/observability/log.h"

namespace crm::delivery::api {

absl::Status OrderEventHandler::Handle(const events::Event& e) {
  CRM_ASSIGN_OR_RETURN(std::optional<events::OrderFact> fact, events::OrderFactOf(e.envelope));
  if (!fact || fact->customer_id.empty()) return absl::OkStatus();
  app::OrderConversion order;
  order.event_id = e.envelope.event_id();
  order.order_id = fact->order_id;
  order.customer_id = fact->customer_id;
  order.currency_code = fact->currency_code;
  order.revenue_minor = fact->net_minor;
  order.version = fact->version;
  order.order_time = fact->placed_time;
  order.cancelled = fact->status == "cancelled";
  CRM_ASSIGN_OR_RETURN(app::ConversionResult r, conversions_.Record(fact->tenant_id, order));
  if (!r.credited_message_id.empty() && r.first_credit) {
    observability::LogLine(observability::Severity::kInfo)
            .Field("tenant_id", fact->tenant_id)
            .Field("order_id", fact->order_id)
            .Field("message_id", r.credited_message_id)
        << "order credited to a message";
  }
  return absl::OkStatus();
}

}  // namespace crm::delivery::api
