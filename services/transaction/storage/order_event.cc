#include "services/transaction/storage/order_event.h"

#include <nlohmann/json.hpp>

#include "absl/strings/str_cat.h"

namespace crm::transaction::storage {

std::string OrderEventType(const domain::Order& o) { return domain::StatusEventType(o.status); }

std::string OrderEventPayload(const domain::Order& o) {
  nlohmann::json lines = nlohmann::json::array();
  for (const auto& l : o.lines) {
    lines.push_back({{"sku", l.sku},
                     {"quantity", l.quantity},
                     {"returned_quantity", l.returned_quantity},
                     {"line_total_minor", absl::StrCat(l.line_total_minor)}});
    if (!l.price_quote_id.empty()) lines.back()["price_quote_id"] = l.price_quote_id;
  }
  return nlohmann::json{{"order_id", o.id},
                        {"customer_id", o.customer_id},
                        {"external_id", o.external_id},
                        {"status", domain::StatusName(o.status)},
                        {"currency_code", o.currency_code},
                        {"total_minor", absl::StrCat(o.total_minor)},
                        {"returned_minor", absl::StrCat(o.returned_minor)},
                        {"net_minor", absl::StrCat(domain::NetMinor(o))},
                        {"placed_at_us", absl::StrCat(absl::ToUnixMicros(o.placed_time))},
                        {"version", o.version},
                        {"lines", lines}}
      .dump();
}

}  // namespace crm::transaction::storage
