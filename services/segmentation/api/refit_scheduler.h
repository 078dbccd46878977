#pragma once
// Runs the scheduled refit of lifetime-value models (app::Models::RefitDue)
// on a thread of its own: a round at start, then one every `check_every`.
#include <thread>

#include "absl/synchronization/notification.h"
#include "services/segmentation/app/models.h"
#include "services/segmentation/config.h"

namespace crm::segmentation::api {

class RefitScheduler final {
 public:
  RefitScheduler(app::Models& models, RefitScheduleConfig config)
      : models_(models), config_(config) {}
  ~RefitScheduler() { Stop(); }
  void Start();  // no thread when refit_after is 0
  void Stop();
  // One round (also what the thread runs); logs what it did.
  void RunOnce();

 private:
  app::Models& models_;
  const RefitScheduleConfig config_;
  absl::Notification stop_;
  std::thread thread_;
};

}  // namespace crm::segmentation::api
