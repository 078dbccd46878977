#pragma once
// The survey sweeper of a replica (docs/service-desk.md, "Satisfaction"):
// a thread running Surveys::Sweep every `every`, again at once while a
// round reads full batches. Replicas may sweep at once: a survey is sent
// under its row's lock, and the second finds it sent. Off while no base
// URL is set (the answer links would lead nowhere): surveys then wait,
// scheduled. Metrics: crm_service_desk_surveys_sent_total,
// crm_service_desk_surveys_cancelled_total,
// crm_service_desk_survey_sweep_failures_total.
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "libs/service/periodic.h"
#include "services/service_desk/app/surveys.h"

namespace prometheus {
class Registry;
}

namespace crm::service_desk::api {

struct SurveySweeperOptions {
  // The gateway as customers reach it (CRM_SURVEY_BASE_URL): the answer
  // links' base; "": no survey is sent.
  std::string base_url;
  absl::Duration every = absl::Seconds(30);  // CRM_SURVEY_SWEEP_EVERY
  int batch = 200;
};
absl::StatusOr<SurveySweeperOptions> LoadSurveySweeperOptions();

class SurveySweeper final {
 public:
  SurveySweeper(app::Surveys& surveys, prometheus::Registry& registry,
                SurveySweeperOptions options);
  ~SurveySweeper();
  void Start();  // nothing without a base URL
  void Stop();   // waits for the running round

 private:
  absl::Duration Round();

  app::Surveys& surveys_;
  const SurveySweeperOptions options_;
  class Metrics;
  std::unique_ptr<Metrics> metrics_;
  std::unique_ptr<service::PeriodicJob> job_;
};

}  // namespace crm::service_desk::api
