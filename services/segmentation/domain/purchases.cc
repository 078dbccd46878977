#include "services/segmentation/domain/purchases.h"

#include <cmath>
#include <map>
#include <set>

namespace crm::segmentation::domain {

bool CountsAsPurchase(absl::string_view status) {
  return status != "cancelled" && status != "returned";
}

std::vector<std::string> BoughtSkus(const std::vector<events::OrderLineFact>& lines) {
  std::set<std::string> skus;
  for (const events::OrderLineFact& l : lines) {
    if (!l.sku.empty() && l.quantity > l.returned_quantity) skus.insert(l.sku);
  }
  return {skus.begin(), skus.end()};
}

std::string MainCurrency(const std::vector<PurchaseRecord>& records) {
  std::map<std::string, int64_t> counts;  // ordered: ties go to the smallest code
  for (const PurchaseRecord& r : records) {
    if (CountsAsPurchase(r.status)) ++counts[r.currency_code];
  }
  std::string best;
  int64_t most = 0;
  for (const auto& [code, n] : counts) {
    if (n > most) {
      best = code;
      most = n;
    }
  }
  return best;
}

std::vector<Transaction> TransactionsOf(const std::vector<PurchaseRecord>& records,
                                        absl::string_view currency, int minor_digits,
                                        const absl::TimeZone& tz) {
  const double scale = std::pow(10.0, minor_digits);
  std::vector<Transaction> out;
  out.reserve(records.size());
  for (const PurchaseRecord& r : records) {
    if (!CountsAsPurchase(r.status) || r.currency_code != currency) continue;
    out.push_back({r.customer_id, absl::ToCivilDay(r.placed_at, tz),
                   static_cast<double>(r.net_minor) / scale});
  }
  return out;
}

std::vector<Order> RfmOrdersOf(const std::vector<Transaction>& transactions) {
  std::vector<Order> out;
  out.reserve(transactions.size());
  for (const Transaction& t : transactions) out.push_back({t.customer_id, t.day, t.amount});
  return out;
}

}  // namespace crm::segmentation::domain
