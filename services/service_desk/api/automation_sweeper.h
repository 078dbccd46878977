#pragma once
// The automation sweeper of a replica (docs/service-desk.md,
// "Automations"): a thread running AutomationRules::Sweep every `every`
// (a minute), again at once while a round reads full pages. Replicas may
// sweep at once: a firing is recorded under the ticket's lock, so the
// second finds it not due. Metrics: crm_service_desk_automation_firings_total,
// crm_service_desk_automation_examined_total,
// crm_service_desk_automation_sweep_failures_total.
#include <memory>

#include "absl/time/time.h"
#include "libs/service/periodic.h"
#include "services/service_desk/app/automations.h"

namespace prometheus {
class Registry;
}

namespace crm::service_desk::api {

struct AutomationSweeperOptions {
  int batch = 500;  // candidate tickets of one automation a round reads
  absl::Duration every = absl::Minutes(1);
};

class AutomationSweeper final {
 public:
  AutomationSweeper(app::AutomationRules& automations, prometheus::Registry& registry,
                    AutomationSweeperOptions options);
  ~AutomationSweeper();
  void Start();
  void Stop();  // waits for the running round

 private:
  absl::Duration Round();

  app::AutomationRules& automations_;
  const AutomationSweeperOptions options_;
  class Metrics;
  std::unique_ptr<Metrics> metrics_;
  std::unique_ptr<service::PeriodicJob> job_;
};

}  // namespace crm::service_desk::api
