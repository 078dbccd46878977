#include "services/service_desk/api/automation_sweeper.h"

#include <prometheus/counter.h>
#include <prometheus/registry.h>

#include "libs/observability/log.h"

namespace crm::service_desk::api {

class AutomationSweeper::Metrics final {
 public:
  explicit Metrics(prometheus::Registry& r)
      : firings_(Counter(r, "crm_service_desk_automation_firings_total",
                         "Automation firings written (changes, notes or refusals)")),
        examined_(Counter(r, "crm_service_desk_automation_examined_total",
                          "Candidate tickets the automation sweeper read")),
        failures_(Counter(r, "crm_service_desk_automation_sweep_failures_total",
                          "Automation sweeper rounds with a failed read or firing")) {}
  prometheus::Counter& firings_;
  prometheus::Counter& examined_;
  prometheus::Counter& failures_;

 private:
  static prometheus::Counter& Counter(prometheus::Registry& r, const char* name, const char* help) {
    return prometheus::BuildCounter().Name(name).Help(help).Register(r).Add({});
  }
};

AutomationSweeper::AutomationSweeper(app::AutomationRules& automations,
                                     prometheus::Registry& registry,
                                     AutomationSweeperOptions options)
    : automations_(automations), options_(options), metrics_(std::make_unique<Metrics>(registry)) {}

AutomationSweeper::~AutomationSweeper() { Stop(); }

void AutomationSweeper::Start() {
  if (job_) return;
  job_ = std::make_unique<service::PeriodicJob>([this] { return Round(); });
  job_->Start();
}

void AutomationSweeper::Stop() {
  if (job_) job_->Stop();
}

absl::Duration AutomationSweeper::Round() {
  const app::AutomationRound round = automations_.Sweep(options_.batch);
  metrics_->firings_.Increment(round.fired);
  metrics_->examined_.Increment(round.examined);
  if (!round.failure.ok()) {
    metrics_->failures_.Increment();
    observability::LogLine(observability::Severity::kWarning)
            .Field("error", round.failure.ToString())
        << "automation sweep round failed";
  }
  return round.more ? absl::ZeroDuration() : options_.every;
}

}  // namespace crm::service_desk::api
