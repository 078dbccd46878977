#include "libs/common/tenant_purge.h"

#include <algorithm>

namespace crm::common {

absl::StatusOr<TenantPurgeRound> PurgeTenants(
    const std::vector<std::pair<std::string, absl::Time>>& cutoffs, TenantPurgeLimits limits,
    const PurgeBatch& remove) {
  TenantPurgeRound round;
  if (cutoffs.empty()) return round;
  const int share = std::max(1, limits.max_batches / static_cast<int>(cutoffs.size()));
  for (const auto& [tenant, cutoff] : cutoffs) {
    for (int batch = 0;; ++batch) {
      if (batch == share) {
        round.complete = false;
        break;
      }
      absl::StatusOr<int64_t> n = remove(tenant, cutoff, limits.batch_size);
      if (!n.ok()) return n.status();
      round.deleted += *n;
      if (*n < limits.batch_size) break;
    }
  }
  return round;
}

}  // namespace crm::common
