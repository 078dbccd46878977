#pragma once
// The SLA sweeper of a replica (docs/service-desk.md, "SLA sweeper"):
// `threads` threads each running Slas::Sweep, again at once while rounds
// find work, else every `idle`. Threads and replicas share the work: each
// batch locks its tickets and skips those another batch or a write holds.
// Metrics:
// crm_service_desk_sla_evaluations_total, crm_service_desk_sla_notices_total,
// crm_service_desk_sla_sweep_failures_total.
#include <memory>
#include <vector>

#include "absl/time/time.h"
#include "libs/service/periodic.h"
#include "services/service_desk/app/slas.h"

namespace prometheus {
class Registry;
}

namespace crm::service_desk::api {

struct SlaSweeperOptions {
  int batch = 500;  // tickets a round takes (and a rebase page)
  absl::Duration idle = absl::Seconds(1);
  int threads = 2;  // a batch's round trips wait on PostgreSQL: two overlap them
};

class SlaSweeper final {
 public:
  SlaSweeper(app::Slas& slas, prometheus::Registry& registry, SlaSweeperOptions options);
  ~SlaSweeper();
  void Start();
  void Stop();  // waits for the running round

 private:
  absl::Duration Round();

  app::Slas& slas_;
  const SlaSweeperOptions options_;
  class Metrics;
  std::unique_ptr<Metrics> metrics_;
  std::vector<std::unique_ptr<service::PeriodicJob>> jobs_;
};

}  // namespace crm::service_desk::api
