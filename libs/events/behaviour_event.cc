#include "libs/events/behaviour_event.h"

#include <cmath>
#include <nlohmann/json.hpp>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "libs/common/status_macros.h"
#include "libs/events/message_event.h"

namespace crm::events {
namespace {

constexpr char kPrefix[] = "behaviour.";

std::string OptionalString(const nlohmann::json& p, const char* key) {
  return p.contains(key) ? p.at(key).get<std::string>() : std::string();
}

constexpr char kBatch[] = "behaviour.tracked";
// Not a tracked event: the tenant's behaviour settings (BehaviourRetentionOf).
constexpr char kSettings[] = "behaviour.settings_updated";

// One event's fields (a behaviour.<type> payload, or an element of a
// batch's "events" with its "type"); json exceptions propagate.
absl::StatusOr<BehaviourFact> FactOf(const std::string& tenant, std::string type,
                                     const nlohmann::json& p) {
  BehaviourFact f;
  f.tenant_id = tenant;
  f.type = std::move(type);
  if (f.type.empty()) return absl::InvalidArgumentError("behaviour event without a type");
  f.event_id = p.at("event_id").get<std::string>();
  f.customer_id = OptionalString(p, "customer_id");
  f.visitor_id = OptionalString(p, "visitor_id");
  int64_t occurred_us = 0;
  if (!absl::SimpleAtoi(p.at("occurred_at_us").get<std::string>(), &occurred_us)) {
    return absl::InvalidArgumentError("behaviour event with a malformed occurred_at_us");
  }
  f.occurred_time = absl::FromUnixMicros(occurred_us);
  f.sku = OptionalString(p, "sku");
  if (p.contains("category_path")) {
    f.category_path = p.at("category_path").get<std::vector<std::string>>();
  }
  if (p.contains("value")) f.value = p.at("value").get<double>();
  f.currency_code = OptionalString(p, "currency_code");
  if (p.contains("quantity")) f.quantity = p.at("quantity").get<int64_t>();
  f.utm_campaign = OptionalString(p, "utm_campaign");
  if (!std::isfinite(f.value)) {
    return absl::InvalidArgumentError("behaviour event with a non-finite value");
  }
  return f;
}

}  // namespace

absl::StatusOr<std::optional<BehaviourFact>> BehaviourFactOf(
    const crm::events::v1::EventEnvelope& e) {
  if (!absl::StartsWith(e.type(), kPrefix) || e.type() == kBatch || e.type() == kSettings) {
    return std::optional<BehaviourFact>();
  }
  try {
    absl::StatusOr<BehaviourFact> f = FactOf(e.tenant_id(), e.type().substr(sizeof(kPrefix) - 1),
                                             nlohmann::json::parse(e.payload_json()));
    if (!f.ok()) return f.status();
    return std::optional<BehaviourFact>(*std::move(f));
  } catch (const nlohmann::json::exception&) {
    return absl::InvalidArgumentError("behaviour event payload is not the documented JSON");
  }
}

absl::StatusOr<std::optional<std::vector<BehaviourFact>>> BehaviourFactsOf(
    const crm::events::v1::EventEnvelope& e) {
  using Out = std::optional<std::vector<BehaviourFact>>;
  if (e.type() != kBatch) {
    absl::StatusOr<std::optional<BehaviourFact>> one = BehaviourFactOf(e);
    if (!one.ok()) return one.status();
    if (!*one) return Out();
    return Out(std::vector<BehaviourFact>{**std::move(one)});
  }
  std::vector<BehaviourFact> out;
  try {
    const nlohmann::json p = nlohmann::json::parse(e.payload_json());
    const nlohmann::json& events = p.at("events");
    if (!events.is_array()) {
      return absl::InvalidArgumentError("behaviour.tracked without a list of events");
    }
    out.reserve(events.size());
    for (const nlohmann::json& one : events) {
      absl::StatusOr<BehaviourFact> f =
          FactOf(e.tenant_id(), one.at("type").get<std::string>(), one);
      if (!f.ok()) return f.status();
      out.push_back(*std::move(f));
    }
  } catch (const nlohmann::json::exception&) {
    return absl::InvalidArgumentError("behaviour.tracked payload is not the documented JSON");
  }
  return Out(std::move(out));
}

absl::StatusOr<std::optional<BehaviourFact>> MessageFactOf(
    const crm::events::v1::EventEnvelope& e) {
  CRM_ASSIGN_OR_RETURN(std::optional<MessageEvent> m, MessageEventOf(e));
  if (!m || m->channel != "email" ||
      !(m->kind == "sent" || m->kind == "opened" || m->kind == "clicked")) {
    return std::optional<BehaviourFact>();
  }
  BehaviourFact f;
  f.tenant_id = m->tenant_id;
  f.event_id = m->event_id;
  f.occurred_time = m->occurred_time;
  f.type = absl::StrCat("email.", m->kind);
  f.customer_id = m->customer_id;
  f.utm_campaign = m->campaign_id;
  return std::optional<BehaviourFact>(std::move(f));
}

absl::StatusOr<std::optional<CustomerIdentified>> CustomerIdentifiedOf(
    const crm::events::v1::EventEnvelope& e) {
  if (e.type() != "customer.identified") return std::optional<CustomerIdentified>();
  CustomerIdentified c;
  c.tenant_id = e.tenant_id();
  c.event_id = e.event_id();
  try {
    nlohmann::json p = nlohmann::json::parse(e.payload_json());
    c.customer_id = p.at("customer_id").get<std::string>();
    c.visitor_id = p.at("visitor_id").get<std::string>();
  } catch (const nlohmann::json::exception&) {
    return absl::InvalidArgumentError("customer.identified payload is not the documented JSON");
  }
  return std::optional<CustomerIdentified>(std::move(c));
}

absl::StatusOr<std::optional<BehaviourRetention>> BehaviourRetentionOf(
    const crm::events::v1::EventEnvelope& e) {
  if (e.type() != kSettings) return std::optional<BehaviourRetention>();
  BehaviourRetention r;
  r.tenant_id = e.tenant_id();
  try {
    nlohmann::json p = nlohmann::json::parse(e.payload_json());
    r.retention_days = p.at("retention_days").get<int64_t>();
    r.version = p.at("version").get<int64_t>();
  } catch (const nlohmann::json::exception&) {
    return absl::InvalidArgumentError(
        "behaviour.settings_updated payload is not the documented JSON");
  }
  return std::optional<BehaviourRetention>(std::move(r));
}

}  // namespace crm::events
