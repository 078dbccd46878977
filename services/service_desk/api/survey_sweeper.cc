#include "services/service_desk/api/survey_sweeper.h"

#include <prometheus/counter.h>
#include <prometheus/registry.h>

#include "libs/common/env.h"
#include "libs/common/status_macros.h"
#include "libs/common/tracking_token.h"
#include "libs/observability/log.h"

namespace crm::service_desk::api {

absl::StatusOr<SurveySweeperOptions> LoadSurveySweeperOptions() {
  SurveySweeperOptions o;
  CRM_ASSIGN_OR_RETURN(o.base_url, common::LinkBaseUrl("CRM_SURVEY_BASE_URL"));
  CRM_ASSIGN_OR_RETURN(o.every, common::EnvDuration("CRM_SURVEY_SWEEP_EVERY", o.every));
  if (o.every < absl::Milliseconds(100) || o.every > absl::Hours(1)) {
    return absl::InvalidArgumentError("CRM_SURVEY_SWEEP_EVERY must be 100ms..1h");
  }
  return o;
}

class SurveySweeper::Metrics final {
 public:
  explicit Metrics(prometheus::Registry& r)
      : sent_(Counter(r, "crm_service_desk_surveys_sent_total",
                      "Satisfaction surveys queued for delivery")),
        cancelled_(Counter(r, "crm_service_desk_surveys_cancelled_total",
                           "Due satisfaction surveys not sent (reopened, cooldown, ...)")),
        failures_(Counter(r, "crm_service_desk_survey_sweep_failures_total",
                          "Survey sweeper rounds with a failed read or send")) {}
  prometheus::Counter& sent_;
  prometheus::Counter& cancelled_;
  prometheus::Counter& failures_;

 private:
  static prometheus::Counter& Counter(prometheus::Registry& r, const char* name, const char* help) {
    return prometheus::BuildCounter().Name(name).Help(help).Register(r).Add({});
  }
};

SurveySweeper::SurveySweeper(app::Surveys& surveys, prometheus::Registry& registry,
                             SurveySweeperOptions options)
    : surveys_(surveys),
      options_(std::move(options)),
      metrics_(std::make_unique<Metrics>(registry)) {}

SurveySweeper::~SurveySweeper() { Stop(); }

void SurveySweeper::Start() {
  if (job_ || options_.base_url.empty()) return;
  job_ = std::make_unique<service::PeriodicJob>([this] { return Round(); });
  job_->Start();
}

void SurveySweeper::Stop() {
  if (job_) job_->Stop();
}

absl::Duration SurveySweeper::Round() {
  const app::SurveyRound round = surveys_.Sweep(options_.batch);
  metrics_->sent_.Increment(round.sent);
  metrics_->cancelled_.Increment(round.cancelled);
  if (!round.failure.ok()) {
    metrics_->failures_.Increment();
    observability::LogLine(observability::Severity::kWarning)
            .Field("error", round.failure.ToString())
        << "survey sweep round failed";
  }
  return round.more ? absl::ZeroDuration() : options_.every;
}

}  // namespace crm::service_desk::api
