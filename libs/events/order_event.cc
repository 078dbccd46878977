#include "libs/events/order_event.h"

#include <nlohmann/json.hpp>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"

namespace crm::events {

absl::StatusOr<std::optional<OrderFact>> OrderFactOf(const crm::events::v1::EventEnvelope& e) {
  if (!absl::StartsWith(e.type(), "order.")) return std::optional<OrderFact>();
  OrderFact f;
  f.tenant_id = e.tenant_id();
  try {
    nlohmann::json p = nlohmann::json::parse(e.payload_json());
    f.order_id = p.at("order_id").get<std::string>();
    f.customer_id = p.at("customer_id").get<std::string>();
    f.currency_code = p.at("currency_code").get<std::string>();
    f.status = p.at("status").get<std::string>();
    f.version = p.at("version").get<int64_t>();
    int64_t placed_us = 0;
    if (!absl::SimpleAtoi(p.at("total_minor").get<std::string>(), &f.total_minor) ||
        !absl::SimpleAtoi(p.at("placed_at_us").get<std::string>(), &placed_us)) {
      return absl::InvalidArgumentError("order event with malformed amounts or times");
    }
    // Events from before returns existed carry neither: nothing returned.
    f.net_minor = f.total_minor;
    if (p.contains("returned_minor") &&
        !absl::SimpleAtoi(p.at("returned_minor").get<std::string>(), &f.returned_minor)) {
      return absl::InvalidArgumentError("order event with malformed returned_minor");
    }
    if (p.contains("net_minor") &&
        !absl::SimpleAtoi(p.at("net_minor").get<std::string>(), &f.net_minor)) {
      return absl::InvalidArgumentError("order event with malformed net_minor");
    }
    if (f.returned_minor < 0 || f.net_minor < 0 || f.net_minor > f.total_minor) {
      return absl::InvalidArgumentError("order event with inconsistent amounts");
    }
    f.placed_time = absl::FromUnixMicros(placed_us);
  } catch (const nlohmann::json::exception&) {
    return absl::InvalidArgumentError("order event payload is not the documented JSON");
  }
  return std::optional<OrderFact>(std::move(f));
}

}  // namespace crm::events
