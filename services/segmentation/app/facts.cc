#include "services/segmentation/app/facts.h"

#include <map>
#include <string>

#include "libs/common/id.h"

namespace crm::segmentation::app {
namespace {

absl::Status Check(const events::OrderFact& f) {
  if (!common::IsUuid(f.tenant_id) || !common::IsUuid(f.order_id) ||
      !common::IsUuid(f.customer_id) || f.currency_code.size() != 3 || f.version <= 0) {
    return absl::InvalidArgumentError("order event without the fields a purchase needs");
  }
  return absl::OkStatus();
}

absl::Status Check(const events::CustomerChange& c) {
  if (!common::IsUuid(c.tenant_id) || c.event_id.empty() || !common::IsUuid(c.customer_id)) {
    return absl::InvalidArgumentError("customer event without the ids a change needs");
  }
  const bool pair = c.kind == events::CustomerChange::Kind::kMerged ||
                    c.kind == events::CustomerChange::Kind::kUnmerged;
  if (pair && !common::IsUuid(c.other_id)) {
    return absl::InvalidArgumentError("customer event without the other customer's id");
  }
  for (const std::string& id : c.erased_ids) {
    if (!common::IsUuid(id)) return absl::InvalidArgumentError("erased customer id is not a UUID");
  }
  return absl::OkStatus();
}

}  // namespace

void Facts::ApplyOrders(const std::vector<Fact>& facts, const std::vector<size_t>& positions,
                        std::vector<absl::Status>& out) {
  std::map<std::string, std::vector<size_t>> by_tenant;
  for (size_t i : positions) {
    const auto& f = std::get<events::OrderFact>(facts[i]);
    out[i] = Check(f);
    if (out[i].ok()) by_tenant[f.tenant_id].push_back(i);
  }
  for (const auto& [tenant, group] : by_tenant) {
    std::vector<events::OrderFact> batch;
    for (size_t i : group) batch.push_back(std::get<events::OrderFact>(facts[i]));
    absl::Status all = repository_.RecordOrders(tenant, batch);
    if (all.ok() || group.size() == 1) {
      for (size_t i : group) out[i] = all;
      continue;
    }
    // The tenant's transaction failed whole: each fact alone, so only a
    // fact that fails on its own is retried.
    for (size_t j = 0; j < group.size(); ++j) {
      out[group[j]] = repository_.RecordOrders(tenant, {batch[j]});
    }
  }
}

std::vector<absl::Status> Facts::Apply(const std::vector<Fact>& facts) {
  std::vector<absl::Status> out(facts.size());
  std::vector<size_t> orders;  // a run of order facts, written before the next change
  for (size_t i = 0; i < facts.size(); ++i) {
    if (std::holds_alternative<events::OrderFact>(facts[i])) {
      orders.push_back(i);
      continue;
    }
    ApplyOrders(facts, orders, out);
    orders.clear();
    const auto& c = std::get<events::CustomerChange>(facts[i]);
    out[i] = Check(c);
    if (out[i].ok()) out[i] = repository_.ApplyCustomerChange(c);
  }
  ApplyOrders(facts, orders, out);
  return out;
}

void AddTouchedCustomers(const Fact& fact, std::map<std::string, std::set<std::string>>& out) {
  if (const auto* order = std::get_if<events::OrderFact>(&fact)) {
    out[order->tenant_id].insert(order->customer_id);
  } else if (const auto* change = std::get_if<events::CustomerChange>(&fact)) {
    std::set<std::string>& ids = out[change->tenant_id];
    ids.insert(change->customer_id);
    if (!change->other_id.empty()) ids.insert(change->other_id);
    ids.insert(change->erased_ids.begin(), change->erased_ids.end());
  }
}

}  // namespace crm::segmentation::app
