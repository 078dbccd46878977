#include "libs/service/periodic.h"

namespace crm::service {

void PeriodicJob::Start() {
  if (thread_.joinable() || stop_.HasBeenNotified()) return;
  thread_ = std::thread([this] {
    while (!stop_.HasBeenNotified()) {
      const absl::Duration wait = round_();
      if (stop_.WaitForNotificationWithTimeout(wait)) return;
    }
  });
}

void PeriodicJob::Stop() {
  if (!stop_.HasBeenNotified()) stop_.Notify();
  if (thread_.joinable()) thread_.join();
}

}  // namespace crm::service
