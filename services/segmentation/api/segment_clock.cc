#include "services/segmentation/api/segment_clock.h"

#include "libs/observability/log.h"

namespace crm::segmentation::api {

void SegmentClock::Load() {
  // Retried until it works: a tenant whose memberships are not rebuilt
  // would miss its time-driven changes.
  while (true) {
    absl::Status s = segments_.LoadAll();
    if (s.ok()) break;
    observability::LogLine(observability::Severity::kWarning)
            .Field("component", "live_segments")
            .Field("error", s.ToString())
        << "loading the live segments failed; retrying";
    if (stop_.WaitForNotificationWithTimeout(absl::Seconds(5))) return;
  }
  app::LiveStats stats = segments_.Stats();
  observability::LogLine(observability::Severity::kInfo)
          .Field("component", "live_segments")
          .Field("tenants", static_cast<int64_t>(stats.tenants))
          .Field("customers", static_cast<int64_t>(stats.customers))
          .Field("segments", static_cast<int64_t>(stats.segments))
          .Field("memory_bytes", static_cast<int64_t>(stats.memory_bytes))
          .Field("bytes_per_customer",
                 stats.customers == 0 ? 0.0
                                      : static_cast<double>(stats.memory_bytes) /
                                            static_cast<double>(stats.customers))
          .Field("rebuild_seconds", absl::ToDoubleSeconds(stats.last_rebuild))
          .Field("unreadable_segments", static_cast<int64_t>(stats.unreadable_segments))
      << "live segments loaded";
}

void SegmentClock::Start() {
  thread_ = std::thread([this] {
    Load();
    while (!stop_.WaitForNotificationWithTimeout(config_.tick)) {
      absl::StatusOr<int> n = segments_.Tick();
      if (!n.ok()) {
        observability::LogLine(observability::Severity::kWarning)
                .Field("component", "live_segments")
                .Field("error", n.status().ToString())
            << "re-evaluating due customers failed; retried at the next tick";
      }
    }
  });
}

void SegmentClock::Stop() {
  if (!stop_.HasBeenNotified()) stop_.Notify();
  if (thread_.joinable()) thread_.join();
}

}  // namespace crm::segmentation::api
