#pragma once
// What an order.* event of the transaction engine says about an order
// (docs/events.md, "order.placed ..."): the contract its consumers read.
// Plain values only, so consumers' domain code may hold it.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/time/time.h"

namespace crm::events {

struct OrderLineFact {
  std::string sku;
  int64_t quantity = 0;
  int64_t returned_quantity = 0;
};

struct OrderFact {
  std::string tenant_id;
  std::string order_id;
  std::string customer_id;
  std::string currency_code;
  int64_t total_minor = 0;
  int64_t returned_minor = 0;  // value of the returned units
  int64_t net_minor = 0;       // total - max(returned, refunded)
  // placed, paid, fulfilled, completed, cancelled, partially_returned, returned
  std::string status;
  absl::Time placed_time = absl::InfinitePast();
  int64_t version = 0;  // the order's; a newer version replaces an older one
  std::vector<OrderLineFact> lines;  // empty for events written before lines were read
};

// What a product.created / product.updated event of the transaction engine
// says about a catalog product (docs/events.md).
struct ProductFact {
  std::string tenant_id;
  std::string sku;
  int64_t version = 0;
  std::vector<std::string> category_path;  // top level first; empty in events before it
  bool active = true;
  // The list price and the unit cost (events before them carry neither;
  // a product without a cost carries none).
  std::optional<int64_t> price_minor;
  std::string currency_code;
  std::optional<int64_t> cost_minor;
};

}  // namespace crm::events
