#pragma once
// One bounded round of a per-tenant purge (retention jobs): tenant by
// tenant, `remove(tenant, cutoff, batch_size)` deletes at most batch_size
// rows older than the tenant's cutoff in one short transaction and says how
// many it deleted; a tenant is done when a batch deletes fewer. Each tenant
// gets its share of the round's `max_batches` (at least one), so one with a
// large backlog does not hold the others back; what is left is worked off
// by the next rounds (`complete` false).
#include <cstdint>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace crm::common {

struct TenantPurgeLimits {
  int batch_size = 5000;  // rows per delete transaction
  int max_batches = 100;  // per round, over every tenant
};

struct TenantPurgeRound {
  int64_t deleted = 0;
  bool complete = true;  // false: some tenant's share ran out first
};

using PurgeBatch =
    std::function<absl::StatusOr<int64_t>(const std::string& tenant, absl::Time cutoff, int limit)>;

absl::StatusOr<TenantPurgeRound> PurgeTenants(
    const std::vector<std::pair<std::string, absl::Time>>& cutoffs, TenantPurgeLimits limits,
    const PurgeBatch& remove);

}  // namespace crm::common
