#pragma once
// Orders (pure): validation, totals and the status machine.
#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"

namespace crm::transaction::domain {

// Numeric values match crm.transaction.v1.OrderStatus / SalesChannel.
enum class OrderStatus : int {
  kUnspecified = 0,
  kPlaced = 1,
  kPaid = 2,
  kFulfilled = 3,
  kCompleted = 4,
  kCancelled = 5,
};
enum class SalesChannel : int { kUnspecified = 0, kWeb, kStore, kCallCenter, kApp, kErp };

struct OrderLine {
  std::string sku;
  int64_t quantity = 0;
  int64_t unit_price_minor = 0;
  int64_t discount_minor = 0;
  int64_t line_total_minor = 0;  // computed
};

struct Order {
  std::string id;
  std::string customer_id;
  std::string currency_code;
  std::vector<OrderLine> lines;
  int64_t total_minor = 0;  // 0 on input: computed; else must match
  SalesChannel channel = SalesChannel::kUnspecified;
  std::string store_id;
  absl::Time placed_time = absl::InfinitePast();
  OrderStatus status = OrderStatus::kUnspecified;
  int64_t version = 0;
  absl::Time create_time = absl::InfinitePast();
  absl::Time update_time = absl::InfinitePast();
};

inline constexpr int kMaxOrderLines = 500;

const char* StatusName(OrderStatus s);  // "placed", "paid", ...
// Validates a new order, upper-cases its currency and computes line totals
// and the total (checked against a given total). Errors name the field
// ("lines[2].quantity").
absl::Status NormalizeAndValidate(Order& o);
// FAILED_PRECONDITION (INVALID_ORDER_TRANSITION) naming the current status
// unless `to` may follow `from`.
absl::Status CheckTransition(OrderStatus from, OrderStatus to);
std::string EtagOf(const Order& o);

}  // namespace crm::transaction::domain
