#include "services/segmentation/api/refit_scheduler.h"

#include "libs/observability/log.h"

namespace crm::segmentation::api {

void RefitScheduler::RunOnce() {
  absl::StatusOr<app::Models::ScheduledRefits> r = models_.RefitDue(config_.refit_after);
  if (!r.ok()) {
    observability::LogLine(observability::Severity::kWarning)
            .Field("component", "refit_scheduler")
            .Field("error", r.status().ToString())
        << "scheduled refit round failed";
  } else if (r->refitted > 0 || r->refused > 0) {
    observability::LogLine(observability::Severity::kInfo)
            .Field("component", "refit_scheduler")
            .Field("refitted", r->refitted)
            .Field("refused", r->refused)
        << "scheduled refits";
  }
}

void RefitScheduler::Start() {
  if (config_.refit_after == absl::ZeroDuration()) return;
  thread_ = std::thread([this] {
    do {
      RunOnce();
    } while (!stop_.WaitForNotificationWithTimeout(config_.check_every));
  });
}

void RefitScheduler::Stop() {
  if (!stop_.HasBeenNotified()) stop_.Notify();
  if (thread_.joinable()) thread_.join();
}

}  // namespace crm::segmentation::api
