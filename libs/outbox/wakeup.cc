#include "libs/outbox/wakeup.h"

#include <map>
#include <memory>

namespace crm::outbox {

void Wakeup::Notify() {
  absl::MutexLock lock(&mu_);
  ++generation_;
  cv_.SignalAll();
}

uint64_t Wakeup::generation() {
  absl::MutexLock lock(&mu_);
  return generation_;
}

void Wakeup::Wait(uint64_t seen, absl::Duration timeout) {
  absl::Time deadline = absl::Now() + timeout;
  absl::MutexLock lock(&mu_);
  while (generation_ == seen) {
    if (cv_.WaitWithDeadline(&mu_, deadline)) return;  // timed out
  }
}

Wakeup& WakeupFor(const std::string& schema) {
  static absl::Mutex mu(absl::kConstInit);
  static auto* registry = new std::map<std::string, std::unique_ptr<Wakeup>>();
  absl::MutexLock lock(&mu);
  std::unique_ptr<Wakeup>& w = (*registry)[schema];
  if (!w) w = std::make_unique<Wakeup>();
  return *w;
}

}  // namespace crm::outbox
