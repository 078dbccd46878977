#include "services/service_desk/api/sla_sweeper.h"

#include <prometheus/counter.h>
#include <prometheus/registry.h>

#include "libs/observability/log.h"

namespace crm::service_desk::api {

class SlaSweeper::Metrics final {
 public:
  explicit Metrics(prometheus::Registry& r)
      : evaluations_(Counter(r, "crm_service_desk_sla_evaluations_total",
                             "Tickets whose SLA the sweeper evaluated (due or after a policy "
                             "change)")),
        notices_(Counter(r, "crm_service_desk_sla_notices_total",
                         "SLA warnings, breaches and escalations the sweeper told")),
        failures_(Counter(r, "crm_service_desk_sla_sweep_failures_total",
                          "Sweeper rounds with a failed read or batch")) {}
  prometheus::Counter& evaluations_;
  prometheus::Counter& notices_;
  prometheus::Counter& failures_;

 private:
  static prometheus::Counter& Counter(prometheus::Registry& r, const char* name, const char* help) {
    return prometheus::BuildCounter().Name(name).Help(help).Register(r).Add({});
  }
};

SlaSweeper::SlaSweeper(app::Slas& slas, prometheus::Registry& registry, SlaSweeperOptions options)
    : slas_(slas), options_(options), metrics_(std::make_unique<Metrics>(registry)) {}

SlaSweeper::~SlaSweeper() { Stop(); }

void SlaSweeper::Start() {
  if (job_) return;
  job_ = std::make_unique<service::PeriodicJob>([this] { return Round(); });
  job_->Start();
}

void SlaSweeper::Stop() {
  if (job_) job_->Stop();
}

absl::Duration SlaSweeper::Round() {
  const app::SweepRound round = slas_.Sweep(options_.batch);
  metrics_->evaluations_.Increment(round.evaluated);
  metrics_->notices_.Increment(round.notices);
  if (!round.failure.ok()) {
    metrics_->failures_.Increment();
    observability::LogLine(observability::Severity::kWarning)
            .Field("error", round.failure.ToString())
        << "SLA sweep round failed";
  }
  // A round with work: the next one at once (a backlog drains batch by
  // batch); else after `idle`, the lateness of a notice at most.
  return round.evaluated > 0 ? absl::ZeroDuration() : options_.idle;
}

}  // namespace crm::service_desk::api
