#pragma once
// Bounded rounds of a per-tenant purge (retention jobs). A tenant's expired
// rows are deleted in steps over the table's blocks: `remove(tenant,
// cutoff, from_block)` deletes the rows older than the cutoff in a window
// of blocks starting at from_block, in one short transaction, and says how
// many it deleted, where the next window starts and whether the table ends
// there. Each step reads only its own blocks (a TID range scan), so a
// backlog of n rows costs O(n), not a rescan of the deleted rows per batch.
// Each tenant gets its share of the round's `max_steps` (at least one), so
// one with a large backlog does not hold the others back; a tenant not done
// goes on from where it stopped in the next round (`complete` false).
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace crm::common {

struct PurgeStep {
  int64_t deleted = 0;
  int64_t next_block = 0;  // where the next window starts
  bool done = false;       // the window reached the end of the table
};

struct TenantPurgeRound {
  int64_t deleted = 0;
  bool complete = true;  // false: some tenant's share ran out first
};

using PurgeWindow = std::function<absl::StatusOr<PurgeStep>(const std::string& tenant,
                                                            absl::Time cutoff, int64_t from_block)>;

class TenantPurger {
 public:
  explicit TenantPurger(int max_steps = 100) : max_steps_(max_steps) {}
  // One round over `cutoffs` (tenant, cutoff).
  absl::StatusOr<TenantPurgeRound> Round(
      const std::vector<std::pair<std::string, absl::Time>>& cutoffs, const PurgeWindow& remove);

 private:
  const int max_steps_;
  absl::Mutex mu_;                                            // one round at a time
  std::map<std::string, int64_t> next_ ABSL_GUARDED_BY(mu_);  // tenants not done
};

}  // namespace crm::common
