#pragma once
// Retry delays for failed deliveries (pure).
#include "absl/time/time.h"

namespace crm::delivery::domain {

// The delay before retrying after the `attempt`-th failure (1-based; values
// below 1 count as 1): exponential backoff with "equal jitter".
//
//   d      = min(base * 2^(attempt - 1), cap)   (computed without overflow)
//   result = d/2 + jitter * d/2                 (so d/2 <= result < d)
//
// Half of the delay is guaranteed, so a retry never comes back immediately;
// the other half is spread by `jitter`, a uniform value in [0, 1) drawn from
// the caller's RNG (clamped into [0, 1]), so that endpoints failing together
// do not get their retries in lock step. base <= 0 or cap <= 0 give zero;
// cap < base caps the first delay too. `cap` should be finite.
absl::Duration RetryDelay(int attempt, absl::Duration base, absl::Duration cap, double jitter);

}  // namespace crm::delivery::domain
