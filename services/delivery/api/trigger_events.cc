#include "services/delivery/api/trigger_events.h"

#include <nlohmann/json.hpp>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "libs/common/id.h"
#include "libs/common/status_macros.h"
#include "libs/events/behaviour_event.h"
#include "libs/events/order_event.h"

namespace crm::delivery::api {
namespace {

// segment.entered's payload (docs/events.md): segment_id, customer_id,
// at_us (a string); nullopt for one that is not that.
std::optional<app::TriggerEvent> SegmentEntered(const events::v1::EventEnvelope& e) {
  try {
    const nlohmann::json j = nlohmann::json::parse(e.payload_json());
    app::TriggerEvent t;
    t.kind = domain::TriggerKind::kSegmentEntered;
    t.segment_id = j.at("segment_id").get<std::string>();
    t.customer_id = j.at("customer_id").get<std::string>();
    int64_t at_us = 0;
    if (!absl::SimpleAtoi(j.at("at_us").get<std::string>(), &at_us) ||
        !common::IsUuid(t.customer_id)) {
      return std::nullopt;
    }
    t.time = absl::FromUnixMicros(at_us);
    return t;
  } catch (const nlohmann::json::exception&) {
    return std::nullopt;
  }
}

}  // namespace

absl::Status TriggerEventHandler::Handle(const events::Event& e) {
  std::optional<app::TriggerEvent> trigger;
  if (e.envelope.type() == "segment.entered") {
    trigger = SegmentEntered(e.envelope);
    if (!trigger) {
      return absl::InvalidArgumentError("segment.entered payload is not the documented JSON");
    }
  } else if (e.envelope.type() == "order.placed") {
    CRM_ASSIGN_OR_RETURN(std::optional<events::OrderFact> fact, events::OrderFactOf(e.envelope));
    if (!fact || fact->customer_id.empty()) return absl::OkStatus();
    // The goal of abandoned-cart reminders first, then the order's own
    // triggers.
    CRM_ASSIGN_OR_RETURN(int reached, campaigns_.ReachGoal(e.envelope.tenant_id(),
                                                           fact->customer_id, fact->placed_time));
    (void)reached;
    trigger = app::TriggerEvent{domain::TriggerKind::kOrderPlaced, "", fact->customer_id, "",
                                fact->placed_time};
  } else if (absl::StartsWith(e.envelope.type(), "behaviour.")) {
    CRM_ASSIGN_OR_RETURN(std::optional<std::vector<events::BehaviourFact>> facts,
                         events::BehaviourFactsOf(e.envelope));
    if (!facts) return absl::OkStatus();
    for (const events::BehaviourFact& f : *facts) {
      // An anonymous visitor's cart has nobody to remind yet.
      if (f.type != "cart.item_added" || !common::IsUuid(f.customer_id)) continue;
      app::TriggerEvent cart{domain::TriggerKind::kCartAbandoned, "", f.customer_id, f.event_id,
                             f.occurred_time};
      CRM_ASSIGN_OR_RETURN(int added, campaigns_.Trigger(e.envelope.tenant_id(), cart));
      (void)added;
    }
    return absl::OkStatus();
  } else {
    return absl::OkStatus();
  }
  trigger->event_id = e.envelope.event_id();
  CRM_ASSIGN_OR_RETURN(int added, campaigns_.Trigger(e.envelope.tenant_id(), *trigger));
  (void)added;
  CRM_ASSIGN_OR_RETURN(int moved, journeys_.OnEvent(e.envelope.tenant_id(), *trigger));
  (void)moved;
  return absl::OkStatus();
}

}  // namespace crm::delivery::api
