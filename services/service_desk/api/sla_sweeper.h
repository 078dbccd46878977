#pragma once
// The SLA sweeper of a replica (docs/service-desk.md, "SLA sweeper"): a
// thread running Slas::Sweep, again at once while rounds find work, else
// every `idle`. Replicas share the work: each batch locks its tickets and
// skips those another replica or a write holds. Metrics:
// crm_service_desk_sla_evaluations_total, crm_service_desk_sla_notices_total,
// crm_service_desk_sla_sweep_failures_total.
#include <memory>

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
  std::unique_ptr<service::PeriodicJob> job_;
};

}  // namespace crm::service_desk::api
