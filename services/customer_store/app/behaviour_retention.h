#pragma once
// Per-tenant retention of behaviour events: the settings (GET/PATCH
// /v1/behaviour/settings) and the purge round the background job runs
// (service::PurgeJob, wired in main). A round deletes, tenant by tenant,
// the events that occurred before the tenant's cutoff, a window of heap
// blocks per short transaction and at most `max_steps` of them per round (a
// larger backlog goes on in the next rounds; common/tenant_purge.h), then
// drops the monthly partitions no event can reach any more that are empty.
#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "libs/common/clock.h"
#include "libs/common/tenant_purge.h"
#include "services/customer_store/app/ports.h"
#include "services/customer_store/domain/behaviour.h"

namespace crm::customer_store::app {

struct RetentionLimits {
  int window_blocks = 256;  // heap blocks per partition per delete transaction
  int max_steps = 100;      // delete transactions per round, over every tenant
};

// deleted, complete (common::TenantPurgeRound), and:
struct RetentionRound : common::TenantPurgeRound {
  int tenants = 0;             // tenants with a retention
  int partitions_dropped = 0;  // empty months dropped
};

class BehaviourRetention {
 public:
  BehaviourRetention(BehaviourRepository& writes, BehaviourRetentionStore& store,
                     const common::Clock& clock, RetentionLimits limits = {})
      : writes_(writes), store_(store), clock_(clock), limits_(limits) {}

  absl::StatusOr<domain::BehaviourSettings> Settings(const std::string& tenant);
  // Sets the retention (0: keep until erased; else 1..kMaxRetentionDays):
  // ABORTED ETAG_MISMATCH when `if_match` is set and stale; an unchanged
  // value answers the settings as they are (no new version, no event).
  absl::StatusOr<domain::BehaviourSettings> UpdateSettings(const Actor& actor,
                                                           int64_t retention_days,
                                                           const std::string& if_match);
  // One purge round at the clock's now.
  absl::StatusOr<RetentionRound> PurgeOnce();

 private:
  BehaviourRepository& writes_;
  BehaviourRetentionStore& store_;
  const common::Clock& clock_;
  const RetentionLimits limits_;
  common::TenantPurger purger_{limits_.max_steps};
};

}  // namespace crm::customer_store::app
