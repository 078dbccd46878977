#pragma once
// Conversions (docs/delivery.md, "Conversions"), pure: which message an
// order is credited to, and how a campaign variant's order rate compares
// with its holdout's.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/time/time.h"

namespace crm::delivery::domain {

// The tenant's attribution settings (part of the delivery policy).
struct AttributionPolicy {
  // An order is credited to the customer's message last clicked within the
  // window before it; with opens_count, a message last opened also counts
  // when none was clicked.
  absl::Duration window = absl::Hours(24 * 7);
  bool opens_count = false;
};
inline constexpr absl::Duration kMaxAttributionWindow = absl::Hours(24 * 90);

// One of the customer's sent messages as attribution sees it: its first
// and latest click and open.
struct Touch {
  std::string message_id;
  std::optional<absl::Time> first_click_time;
  std::optional<absl::Time> last_click_time;
  std::optional<absl::Time> first_open_time;
  std::optional<absl::Time> last_open_time;
};

// The index of the touch an order at `order_time` is credited to: the
// latest click in [order_time - window, order_time] (a message's latest
// click, or its first when the latest came after the order); else
// (opens_count) the latest open in it the same way; nullopt when none.
std::optional<size_t> CreditedTouch(const std::vector<Touch>& touches, absl::Time order_time,
                                    const AttributionPolicy& policy);

// A campaign variant's order rate against its holdout's: the difference of
// two proportions with a Wald confidence interval (z = 1.96: 95 %). With an
// empty group the rates that cannot be computed are 0 and `defined` false.
struct Lift {
  double variant_rate = 0;
  double holdout_rate = 0;
  double difference = 0;  // variant_rate - holdout_rate
  double low = 0;         // the interval of the difference
  double high = 0;
  bool defined = false;
};
Lift LiftOverHoldout(int64_t variant_converted, int64_t variant_size, int64_t holdout_converted,
                     int64_t holdout_size, double z = 1.96);

}  // namespace crm::delivery::domain
