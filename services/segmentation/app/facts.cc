#include "services/segmentation/app/facts.h"

#include <map>
#include <string>

#include "libs/common/id.h"
#include "libs/common/status_macros.h"

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

absl::Status Check(const events::BehaviourFact& f) {
  if (!common::IsUuid(f.tenant_id) || !common::IsUuid(f.event_id) || f.type.empty() ||
      (f.customer_id.empty() ? f.visitor_id.empty() : !common::IsUuid(f.customer_id)) ||
      f.occurred_time == absl::InfinitePast() || f.occurred_time == absl::InfiniteFuture() ||
      !(f.currency_code.empty() || f.currency_code.size() == 3)) {
    return absl::InvalidArgumentError("behaviour event without the fields a fact needs");
  }
  return absl::OkStatus();
}

absl::Status Check(const events::ConsentFact& c) {
  if (!common::IsUuid(c.tenant_id) || !common::IsUuid(c.customer_id) || c.channel.empty() ||
      c.purpose.empty() || c.status.empty()) {
    return absl::InvalidArgumentError("consent.recorded without the fields a consent needs");
  }
  return absl::OkStatus();
}

absl::Status Check(const events::ProductFact& f) {
  if (!common::IsUuid(f.tenant_id) || f.sku.empty() || f.version <= 0) {
    return absl::InvalidArgumentError("product event without the fields a product needs");
  }
  return absl::OkStatus();
}

absl::Status Check(const events::BehaviourRetention& r) {
  if (!common::IsUuid(r.tenant_id) || r.retention_days < 0 || r.version <= 0) {
    return absl::InvalidArgumentError("behaviour.settings_updated without a retention and version");
  }
  return absl::OkStatus();
}

absl::Status Check(const events::CustomerIdentified& c) {
  if (!common::IsUuid(c.tenant_id) || c.event_id.empty() || !common::IsUuid(c.customer_id) ||
      c.visitor_id.empty()) {
    return absl::InvalidArgumentError("customer.identified without the ids a link needs");
  }
  return absl::OkStatus();
}

// Writes the facts of type T at `positions` per tenant in one call of
// `record` (tenant, batch); when a batch of several fails, each fact alone,
// so only a fact that fails on its own is retried.
template <typename T, typename Record>
void ApplyRun(const std::vector<Fact>& facts, const std::vector<size_t>& positions,
              std::vector<absl::Status>& out, Record record) {
  std::map<std::string, std::vector<size_t>> by_tenant;
  for (size_t i : positions) {
    const auto& f = std::get<T>(facts[i]);
    out[i] = Check(f);
    if (out[i].ok()) by_tenant[f.tenant_id].push_back(i);
  }
  for (const auto& [tenant, group] : by_tenant) {
    std::vector<T> batch;
    for (size_t i : group) batch.push_back(std::get<T>(facts[i]));
    absl::Status all = record(tenant, batch);
    if (all.ok() || group.size() == 1) {
      for (size_t i : group) out[i] = all;
      continue;
    }
    for (size_t j = 0; j < group.size(); ++j) out[group[j]] = record(tenant, {batch[j]});
  }
}

}  // namespace

std::vector<absl::Status> Facts::Apply(const std::vector<Fact>& facts) {
  std::vector<absl::Status> out(facts.size());
  // Runs of order, behaviour and product facts, written before the next
  // change or link.
  std::vector<size_t> orders, behaviour, products;
  auto flush = [&] {
    ApplyRun<events::OrderFact>(
        facts, orders, out,
        [&](const std::string& tenant, const std::vector<events::OrderFact>& batch) {
          return repository_.RecordOrders(tenant, batch);
        });
    ApplyRun<events::BehaviourFact>(
        facts, behaviour, out,
        [&](const std::string& tenant, const std::vector<events::BehaviourFact>& batch) {
          return repository_.RecordBehaviour(tenant, batch);
        });
    ApplyRun<events::ProductFact>(
        facts, products, out,
        [&](const std::string& tenant, const std::vector<events::ProductFact>& batch) {
          return repository_.RecordProducts(tenant, batch);
        });
    orders.clear();
    behaviour.clear();
    products.clear();
  };
  for (size_t i = 0; i < facts.size(); ++i) {
    if (std::holds_alternative<events::OrderFact>(facts[i])) {
      orders.push_back(i);
    } else if (std::holds_alternative<events::BehaviourFact>(facts[i])) {
      behaviour.push_back(i);
    } else if (std::holds_alternative<events::ProductFact>(facts[i])) {
      products.push_back(i);
    } else if (const auto* c = std::get_if<events::CustomerChange>(&facts[i])) {
      flush();
      out[i] = Check(*c);
      if (out[i].ok()) out[i] = repository_.ApplyCustomerChange(*c);
    } else if (const auto* consent = std::get_if<events::ConsentFact>(&facts[i])) {
      flush();
      out[i] = Check(*consent);
      if (out[i].ok()) out[i] = repository_.RecordConsent(*consent);
    } else if (const auto* r = std::get_if<events::BehaviourRetention>(&facts[i])) {
      flush();
      out[i] = Check(*r);
      if (out[i].ok()) out[i] = repository_.RecordBehaviourRetention(*r);
    } else {
      flush();
      const auto& link = std::get<events::CustomerIdentified>(facts[i]);
      out[i] = Check(link);
      if (out[i].ok()) out[i] = repository_.LinkVisitor(link);
    }
  }
  flush();
  if (versions_ != nullptr) {
    std::set<std::string> changed;
    for (size_t i = 0; i < facts.size(); ++i) {
      if (!out[i].ok()) continue;
      if (const auto* o = std::get_if<events::OrderFact>(&facts[i])) changed.insert(o->tenant_id);
      if (const auto* c = std::get_if<events::CustomerChange>(&facts[i])) {
        if (c->kind != events::CustomerChange::Kind::kCreated &&
            c->kind != events::CustomerChange::Kind::kUpdated) {
          changed.insert(c->tenant_id);
        }
      }
    }
    for (const std::string& tenant : changed) versions_->Bump(tenant);
  }
  return out;
}

absl::StatusOr<common::TenantPurgeRound> Facts::PurgeExpiredBehaviour(
    absl::Time now,
    const std::function<void(const std::string& tenant, absl::Time cutoff)>& purged) {
  CRM_ASSIGN_OR_RETURN(auto tenants, repository_.TenantsWithBehaviourRetention());
  std::vector<std::pair<std::string, absl::Time>> cutoffs;
  for (const auto& [tenant, days] : tenants)
    cutoffs.emplace_back(tenant, now - absl::Hours(24) * days);
  CRM_ASSIGN_OR_RETURN(
      common::TenantPurgeRound round,
      purger_.Round(cutoffs, [&](const std::string& tenant, absl::Time cutoff, int64_t from) {
        return repository_.PurgeBehaviour(tenant, cutoff, from, kPurgeWindowBlocks);
      }));
  if (purged) {
    for (const auto& [tenant, cutoff] : cutoffs) purged(tenant, cutoff);
  }
  return round;
}

void AddTouchedCustomers(const Fact& fact, std::map<std::string, std::set<std::string>>& out) {
  if (const auto* order = std::get_if<events::OrderFact>(&fact)) {
    out[order->tenant_id].insert(order->customer_id);
  } else if (const auto* change = std::get_if<events::CustomerChange>(&fact)) {
    std::set<std::string>& ids = out[change->tenant_id];
    ids.insert(change->customer_id);
    if (!change->other_id.empty()) ids.insert(change->other_id);
    ids.insert(change->erased_ids.begin(), change->erased_ids.end());
  } else if (const auto* event = std::get_if<events::BehaviourFact>(&fact)) {
    // An anonymous event counts for a customer once its visitor is
    // identified: customer.identified touches that customer then.
    if (!event->customer_id.empty()) out[event->tenant_id].insert(event->customer_id);
  } else if (const auto* identified = std::get_if<events::CustomerIdentified>(&fact)) {
    out[identified->tenant_id].insert(identified->customer_id);
  } else if (const auto* consent = std::get_if<events::ConsentFact>(&fact)) {
    out[consent->tenant_id].insert(consent->customer_id);
  }
}

void AddChangedProducts(const Fact& fact, std::map<std::string, std::set<std::string>>& out) {
  if (const auto* product = std::get_if<events::ProductFact>(&fact)) {
    out[product->tenant_id].insert(product->sku);
  }
}

}  // namespace crm::segmentation::app
