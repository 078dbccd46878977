#pragma once
// A retention job: `round` deletes what is past its time (bounded per
// round, common::TenantPurger) and says how many rows it deleted and
// whether it finished (TenantPurgeRound); the job
// runs one at Start(), then one every `every`, or one second after a round
// that ran out of its budget, until the backlog is gone. Deleted rows are
// counted in the counter `metric`; a failed round is logged and tried again
// after `every`. Every replica may run it (the deletes are disjoint or
// already done).
#include <cstdint>
#include <functional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "libs/common/tenant_purge.h"
#include "libs/service/periodic.h"

namespace prometheus {
class Counter;
class Registry;
}  // namespace prometheus

namespace crm::service {

struct PurgeJobOptions {
  std::string component;  // the log lines' "component"
  std::string metric;     // counter of deleted rows
  std::string help;
  absl::Duration every = absl::Hours(1);  // zero: Start() starts nothing
};

class PurgeJob final {
 public:
  PurgeJob(PurgeJobOptions options, prometheus::Registry& metrics,
           std::function<absl::StatusOr<common::TenantPurgeRound>()> round);
  void Start();
  void Stop() { job_.Stop(); }
  // One round (what the thread runs); returns the wait before the next.
  absl::Duration RunOnce();

 private:
  const PurgeJobOptions options_;
  prometheus::Counter& deleted_;
  std::function<absl::StatusOr<common::TenantPurgeRound>()> round_;
  PeriodicJob job_;
};

}  // namespace crm::service
