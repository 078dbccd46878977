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
    if (p.contains("lines")) {
      for (const auto& l : p.at("lines")) {
        OrderLineFact line;
        line.sku = l.at("sku").get<std::string>();
        line.quantity = l.at("quantity").get<int64_t>();
        line.returned_quantity = l.value("returned_quantity", int64_t{0});
        if (line.quantity < 0 || line.returned_quantity < 0 ||
            line.returned_quantity > line.quantity) {
          return absl::InvalidArgumentError("order event with inconsistent line quantities");
        }
        f.lines.push_back(std::move(line));
      }
    }
  } catch (const nlohmann::json::exception&) {
    return absl::InvalidArgumentError("order event payload is not the documented JSON");
  }
  return std::optional<OrderFact>(std::move(f));
}

absl::StatusOr<std::optional<ProductFact>> ProductFactOf(const crm::events::v1::EventEnvelope& e) {
  if (e.type() != "product.created" && e.type() != "product.updated") {
    return std::optional<ProductFact>();
  }
  ProductFact f;
  f.tenant_id = e.tenant_id();
  try {
    nlohmann::json p = nlohmann::json::parse(e.payload_json());
    f.sku = p.at("sku").get<std::string>();
    f.version = p.at("version").get<int64_t>();
    f.active = p.value("active", true);
    if (p.contains("category_path")) {
      f.category_path = p.at("category_path").get<std::vector<std::string>>();
    }
    auto amount = [&](const char* key) -> absl::StatusOr<std::optional<int64_t>> {
      const std::string text = p.value(key, std::string());
      if (text.empty()) return std::optional<int64_t>();
      int64_t v = 0;
      if (!absl::SimpleAtoi(text, &v) || v < 0) {
        return absl::InvalidArgumentError("product event with a malformed amount");
      }
      return std::optional<int64_t>(v);
    };
    absl::StatusOr<std::optional<int64_t>> price = amount("price_minor");
    if (!price.ok()) return price.status();
    absl::StatusOr<std::optional<int64_t>> cost = amount("cost_minor");
    if (!cost.ok()) return cost.status();
    f.price_minor = *price;
    f.cost_minor = *cost;
    f.currency_code = p.value("currency_code", std::string());
  } catch (const nlohmann::json::exception&) {
    return absl::InvalidArgumentError("product event payload is not the documented JSON");
  }
  if (f.sku.empty() || f.version <= 0) {
    return absl::InvalidArgumentError("product event without its sku or version");
  }
  return std::optional<ProductFact>(std::move(f));
}

}  // namespace crm::events
