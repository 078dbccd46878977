#include "services/gateway/domain/token_bucket.h"

#include <algorithm>
#include <cmath>

namespace crm::gateway::domain {

absl::Duration LocalTokenBuckets::Take(const std::string& key, int rate, int burst,
                                       absl::Time now) {
  rate = std::max(rate, 1);
  burst = std::max(burst, 1);
  auto it = buckets_.find(key);
  if (it == buckets_.end()) {
    // Bounded memory: a flood of keys empties the table, which can only
    // grant a fresh burst to keys that were already admitted.
    if (buckets_.size() >= max_keys_) buckets_.clear();
    it = buckets_.emplace(key, Bucket{static_cast<double>(burst), now}).first;
  }
  Bucket& b = it->second;
  if (now > b.updated) {
    double refill = absl::ToDoubleSeconds(now - b.updated) * rate;
    b.tokens = std::min(static_cast<double>(burst), b.tokens + refill);
    b.updated = now;
  }
  if (b.tokens >= 1.0) {
    b.tokens -= 1.0;
    return absl::ZeroDuration();
  }
  double wait_s = (1.0 - b.tokens) / rate;
  return std::max(absl::Milliseconds(1), absl::Seconds(wait_s));
}

}  // namespace crm::gateway::domain
