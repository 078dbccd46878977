#pragma once
// Drives the live segments on a thread of its own: loads every tenant that
// has segments at start (rebuilding memberships from the tables and
// publishing what changed while the service was down), then every `tick`
// re-evaluates the customers whose time-driven change is due.
#include <thread>

#include "absl/synchronization/notification.h"
#include "services/segmentation/app/live_segments.h"
#include "services/segmentation/config.h"

namespace crm::segmentation::api {

class SegmentClock final {
 public:
  SegmentClock(app::LiveSegments& segments, LiveSegmentsConfig config)
      : segments_(segments), config_(config) {}
  ~SegmentClock() { Stop(); }
  void Start();
  void Stop();

 private:
  void Load();
  app::LiveSegments& segments_;
  const LiveSegmentsConfig config_;
  absl::Notification stop_;
  std::thread thread_;
};

}  // namespace crm::segmentation::api
