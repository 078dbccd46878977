#include "services/segmentation/api/fact_events.h"

#include "libs/events/batch_read.h"
#include "libs/events/behaviour_event.h"
#include "libs/events/consent_event.h"
#include "libs/events/customer_event.h"
#include "libs/events/order_event.h"

namespace crm::segmentation::api {
namespace {

// The engine's own writes: another replica's segment, settings or model
// change that this replica evaluates for the customers it holds.
bool IsEngineWrite(const std::string& type) {
  return type == "segment.created" || type == "segment.updated" || type == "segment.deleted" ||
         type == "segmentation.settings_updated" || type == "segmentation.clv_model_refitted";
}

}  // namespace

std::vector<absl::Status> FactEventHandler::HandleBatch(const std::vector<events::Event>& batch) {
  std::vector<absl::Status> out(batch.size());
  std::vector<app::Fact> facts;
  std::vector<size_t> where;
  for (size_t i = 0; i < batch.size(); ++i) {
    // The first decoder of the event's kind reads it; other events stay OK.
    static_cast<void>(
        events::ReadFact(events::OrderFactOf, batch, i, facts, where, out[i]) ||
        events::ReadFact(events::CustomerChangeOf, batch, i, facts, where, out[i]) ||
        events::ReadFacts(events::BehaviourFactsOf, batch, i, facts, where, out[i]) ||
        events::ReadFact(events::MessageFactOf, batch, i, facts, where, out[i]) ||
        events::ReadFact(events::CustomerIdentifiedOf, batch, i, facts, where, out[i]) ||
        events::ReadFact(events::ConsentFactOf, batch, i, facts, where, out[i]) ||
        events::ReadFact(events::ProductFactOf, batch, i, facts, where, out[i]) ||
        events::ReadFact(events::BehaviourRetentionOf, batch, i, facts, where, out[i]));
  }
  std::vector<absl::Status> applied = facts_.Apply(facts);
  std::map<std::string, std::set<std::string>> touched, products;
  for (size_t j = 0; j < where.size(); ++j) {
    if (applied[j].ok()) {
      app::AddTouchedCustomers(facts[j], touched);
      app::AddChangedProducts(facts[j], products);
    }
    // An event of several facts (a behaviour batch) fails with its first failing fact.
    if (out[where[j]].ok()) out[where[j]] = std::move(applied[j]);
  }
  // Partitioned: the engine's own writes, by tenant (positions in `batch`);
  // always: a new retention of behaviour (every customer again under it).
  std::map<std::string, std::vector<size_t>> resync;
  for (size_t i = 0; segments_.partitioned() && i < batch.size(); ++i) {
    if (IsEngineWrite(batch[i].envelope.type())) resync[batch[i].envelope.tenant_id()].push_back(i);
  }
  for (size_t j = 0; j < where.size(); ++j) {
    if (out[where[j]].ok() && std::holds_alternative<events::BehaviourRetention>(facts[j])) {
      resync[batch[where[j]].envelope.tenant_id()].push_back(where[j]);
    }
  }
  std::set<std::string> tenants;
  for (const auto& [tenant, _] : touched) tenants.insert(tenant);
  for (const auto& [tenant, _] : products) tenants.insert(tenant);
  for (const auto& [tenant, _] : resync) tenants.insert(tenant);
  for (const std::string& tenant : tenants) {
    absl::Status s;
    auto writes = resync.find(tenant);
    if (writes != resync.end()) s = segments_.Resync(tenant);
    if (auto it = products.find(tenant); s.ok() && it != products.end()) {
      s = segments_.ProductsChanged(tenant, {it->second.begin(), it->second.end()});
    }
    if (auto it = touched.find(tenant); s.ok() && it != touched.end()) {
      s = segments_.Touch(tenant, {it->second.begin(), it->second.end()});
    }
    if (s.ok()) continue;
    for (size_t j = 0; j < where.size(); ++j) {
      if (out[where[j]].ok() && batch[where[j]].envelope.tenant_id() == tenant) out[where[j]] = s;
    }
    if (writes != resync.end()) {
      for (size_t i : writes->second) {
        if (out[i].ok()) out[i] = s;
      }
    }
  }
  return out;
}

}  // namespace crm::segmentation::api
