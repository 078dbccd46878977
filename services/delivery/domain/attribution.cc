#include "services/delivery/domain/attribution.h"

#include <cmath>

namespace crm::delivery::domain {
namespace {

// Of a message's first and latest time, the latest within [from, to].
std::optional<absl::Time> Within(const std::optional<absl::Time>& first,
                                 const std::optional<absl::Time>& last, absl::Time from,
                                 absl::Time to) {
  for (const std::optional<absl::Time>& t : {last, first}) {
    if (t && *t >= from && *t <= to) return t;
  }
  return std::nullopt;
}

// The touch with the latest time within [from, to], by index.
template <typename Get>
std::optional<size_t> Latest(const std::vector<Touch>& touches, absl::Time from, absl::Time to,
                             Get get) {
  std::optional<size_t> best;
  std::optional<absl::Time> best_time;
  for (size_t i = 0; i < touches.size(); ++i) {
    std::optional<absl::Time> t = get(touches[i], from, to);
    if (t && (!best_time || *t > *best_time)) {
      best = i;
      best_time = t;
    }
  }
  return best;
}

}  // namespace

std::optional<size_t> CreditedTouch(const std::vector<Touch>& touches, absl::Time order_time,
                                    const AttributionPolicy& policy) {
  const absl::Time from = order_time - policy.window;
  std::optional<size_t> click =
      Latest(touches, from, order_time, [](const Touch& t, absl::Time a, absl::Time b) {
        return Within(t.first_click_time, t.last_click_time, a, b);
      });
  if (click || !policy.opens_count) return click;
  return Latest(touches, from, order_time, [](const Touch& t, absl::Time a, absl::Time b) {
    return Within(t.first_open_time, t.last_open_time, a, b);
  });
}

Lift LiftOverHoldout(int64_t variant_converted, int64_t variant_size, int64_t holdout_converted,
                     int64_t holdout_size, double z) {
  Lift l;
  if (variant_size > 0) {
    l.variant_rate = static_cast<double>(variant_converted) / static_cast<double>(variant_size);
  }
  if (holdout_size > 0) {
    l.holdout_rate = static_cast<double>(holdout_converted) / static_cast<double>(holdout_size);
  }
  if (variant_size <= 0 || holdout_size <= 0) return l;
  l.defined = true;
  l.difference = l.variant_rate - l.holdout_rate;
  const double se = std::sqrt(l.variant_rate * (1 - l.variant_rate) / variant_size +
                              l.holdout_rate * (1 - l.holdout_rate) / holdout_size);
  l.low = l.difference - z * se;
  l.high = l.difference + z * se;
  return l;
}

}  // namespace crm::delivery::domain
