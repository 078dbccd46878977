#include "services/delivery/api/customer_events.h"

#include "libs/common/status_macros.h"
#include "libs/events/customer_event.h"
#include "libs/observability/log.h"

namespace crm::delivery::api {

absl::Status CustomerEventHandler::Handle(const events::Event& e) {
  CRM_ASSIGN_OR_RETURN(std::optional<events::CustomerChange> change,
                       events::CustomerChangeOf(e.envelope));
  if (!change || change->kind != events::CustomerChange::Kind::kErased) return absl::OkStatus();
  CRM_ASSIGN_OR_RETURN(
      int64_t erased,
      repository_.EraseCustomers(change->tenant_id, change->event_id, change->erased_ids));
  if (erased > 0) {
    observability::LogLine(observability::Severity::kInfo)
            .Field("tenant_id", change->tenant_id)
            .Field("customer_id", change->customer_id)
            .Field("messages", erased)
        << "erased customer's messages deleted";
  }
  return absl::OkStatus();
}

}  // namespace crm::delivery::api
