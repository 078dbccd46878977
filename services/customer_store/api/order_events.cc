#include "services/customer_store/api/order_events.h"

#include "libs/common/status_macros.h"
#include "libs/events/order_event.h"

namespace crm::customer_store::api {

std::vector<absl::Status> OrderEventHandler::HandleBatch(
    const std::vector<events::Event>& batch) {
  std::vector<absl::Status> out(batch.size());
  std::vector<domain::OrderFact> facts;
  std::vector<size_t> where;
  for (size_t i = 0; i < batch.size(); ++i) {
    absl::StatusOr<std::optional<domain::OrderFact>> fact = events::OrderFactOf(batch[i].envelope);
    if (!fact.ok()) {
      out[i] = fact.status();
    } else if (*fact) {
      facts.push_back(**std::move(fact));
      where.push_back(i);
    }
  }
  if (facts.empty()) return out;
  std::vector<absl::Status> applied = projector_.ApplyBatch(facts);
  for (size_t j = 0; j < where.size(); ++j) out[where[j]] = std::move(applied[j]);
  return out;
}

absl::Status OrderEventHandler::Handle(const crm::events::v1::EventEnvelope& e) {
  CRM_ASSIGN_OR_RETURN(std::optional<domain::OrderFact> fact, events::OrderFactOf(e));
  if (!fact) return absl::OkStatus();
  return projector_.Apply(*fact);
}

}  // namespace crm::customer_store::api
