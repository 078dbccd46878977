#pragma once
// The segmentation engine's record of an order (kept from the transaction
// engine's order.* events, newest version per order) and how records become
// the models' inputs.
#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "libs/events/order_fact.h"
#include "services/segmentation/domain/rfm.h"
#include "services/segmentation/domain/summary.h"

namespace crm::segmentation::domain {

struct PurchaseRecord {
  std::string order_id;
  std::string customer_id;  // the order's customer now (after merges)
  absl::Time placed_at;
  std::string currency_code;
  int64_t net_minor = 0;  // total - returned/refunded
  std::string status;
  int64_t version = 0;
};

// An order is a purchase unless it was cancelled or returned in full (a
// partially returned order is a purchase worth its net amount).
bool CountsAsPurchase(absl::string_view status);

// The skus an order's lines bought: those not returned in full, each once,
// sorted.
std::vector<std::string> BoughtSkus(const std::vector<events::OrderLineFact>& lines);

// The currency most counted purchases are in (ties: the smallest code);
// "" when there is none.
std::string MainCurrency(const std::vector<PurchaseRecord>& records);

// The counted purchases in `currency` as the models' transactions: the
// calendar day of placed_at in `tz`, the net amount in major units (minor /
// 10^digits; `minor_digits` of the currency). Records in other currencies
// are left out: amounts of different currencies are never added up.
std::vector<Transaction> TransactionsOf(const std::vector<PurchaseRecord>& records,
                                        absl::string_view currency, int minor_digits,
                                        const absl::TimeZone& tz);

// The same purchases as RFM orders (one per order, not merged by day).
std::vector<Order> RfmOrdersOf(const std::vector<Transaction>& transactions);

}  // namespace crm::segmentation::domain
