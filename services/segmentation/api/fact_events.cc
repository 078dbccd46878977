#include "services/segmentation/api/fact_events.h"

#include "libs/events/customer_event.h"
#include "libs/events/order_event.h"

namespace crm::segmentation::api {

std::vector<absl::Status> FactEventHandler::HandleBatch(const std::vector<events::Event>& batch) {
  std::vector<absl::Status> out(batch.size());
  std::vector<app::Fact> facts;
  std::vector<size_t> where;
  for (size_t i = 0; i < batch.size(); ++i) {
    const auto& e = batch[i].envelope;
    absl::StatusOr<std::optional<events::OrderFact>> order = events::OrderFactOf(e);
    if (!order.ok()) {
      out[i] = order.status();
      continue;
    }
    if (*order) {
      facts.emplace_back(**std::move(order));
      where.push_back(i);
      continue;
    }
    absl::StatusOr<std::optional<events::CustomerChange>> change = events::CustomerChangeOf(e);
    if (!change.ok()) {
      out[i] = change.status();
    } else if (*change) {
      facts.emplace_back(**std::move(change));
      where.push_back(i);
    }
  }
  std::vector<absl::Status> applied = facts_.Apply(facts);
  std::map<std::string, std::set<std::string>> touched;
  for (size_t j = 0; j < where.size(); ++j) {
    if (applied[j].ok()) app::AddTouchedCustomers(facts[j], touched);
    out[where[j]] = std::move(applied[j]);
  }
  for (const auto& [tenant, ids] : touched) {
    absl::Status s = segments_.Touch(tenant, std::vector<std::string>(ids.begin(), ids.end()));
    if (s.ok()) continue;
    for (size_t j = 0; j < where.size(); ++j) {
      if (out[where[j]].ok() && batch[where[j]].envelope.tenant_id() == tenant) out[where[j]] = s;
    }
  }
  return out;
}

}  // namespace crm::segmentation::api
