#pragma once
// A background job on a thread of its own: `round` runs once at Start(),
// then again after the wait it returns (its interval, or less when it has
// more to do), until Stop(). A round is not interrupted: Stop() waits for
// the running one to end.
#include <functional>
#include <thread>

#include "absl/synchronization/notification.h"
#include "absl/time/time.h"

namespace crm::service {

class PeriodicJob final {
 public:
  explicit PeriodicJob(std::function<absl::Duration()> round) : round_(std::move(round)) {}
  ~PeriodicJob() { Stop(); }
  PeriodicJob(const PeriodicJob&) = delete;
  PeriodicJob& operator=(const PeriodicJob&) = delete;

  void Start();
  void Stop();
  // True once Stop() was called: a long round checks it between steps.
  bool stopping() const { return stop_.HasBeenNotified(); }

 private:
  std::function<absl::Duration()> round_;
  absl::Notification stop_;
  std::thread thread_;
};

}  // namespace crm::service
