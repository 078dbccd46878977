#include "services/delivery/domain/backoff.h"

#include <algorithm>

namespace crm::delivery::domain {

absl::Duration RetryDelay(int attempt, absl::Duration base, absl::Duration cap, double jitter) {
  if (base <= absl::ZeroDuration() || cap <= absl::ZeroDuration()) return absl::ZeroDuration();
  absl::Duration d = std::min(base, cap);
  // Doubling stops at the cap, so at most ~100 iterations happen however
  // large `attempt` is (absl::Duration saturates rather than overflows).
  for (int i = 1; i < attempt && d < cap; ++i) {
    d = d > cap / 2 ? cap : d * 2;
  }
  if (!(jitter >= 0.0)) jitter = 0.0;  // also NaN
  if (jitter > 1.0) jitter = 1.0;
  absl::Duration half = d / 2;
  return half + half * jitter;
}

}  // namespace crm::delivery::domain
