#include "libs/common/tenant_purge.h"

#include <algorithm>

namespace crm::common {

absl::StatusOr<TenantPurgeRound> TenantPurger::Round(
    const std::vector<std::pair<std::string, absl::Time>>& cutoffs, const PurgeWindow& remove) {
  absl::MutexLock lock(&mu_);
  TenantPurgeRound round;
  if (cutoffs.empty()) return round;
  const int share = std::max(1, max_steps_ / static_cast<int>(cutoffs.size()));
  for (const auto& [tenant, cutoff] : cutoffs) {
    int64_t from = next_.count(tenant) > 0 ? next_[tenant] : 0;
    bool done = false;
    for (int step = 0; step < share && !done; ++step) {
      absl::StatusOr<PurgeStep> s = remove(tenant, cutoff, from);
      if (!s.ok()) return s.status();
      round.deleted += s->deleted;
      from = s->next_block;
      done = s->done;
    }
    if (done) {
      next_.erase(tenant);
    } else {
      next_[tenant] = from;
      round.complete = false;
    }
  }
  return round;
}

}  // namespace crm::common
