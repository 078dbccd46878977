#pragma once
// In-process wake-up of the outbox relay: a write that committed outbox rows
// notifies the relay of its schema, which then publishes at once instead of
// at its next idle poll (CRM_... idle_poll, 50 ms). Rows written by another
// replica are still found by that poll.
#include <cstdint>
#include <string>

#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace crm::outbox {

class Wakeup final {
 public:
  void Notify();
  uint64_t generation();
  // Returns once the generation differs from `seen` or after `timeout`.
  void Wait(uint64_t seen, absl::Duration timeout);

 private:
  absl::Mutex mu_;
  absl::CondVar cv_;
  uint64_t generation_ ABSL_GUARDED_BY(mu_) = 0;
};

// The process-wide wake-up of one outbox schema ("txn", "customer_store").
Wakeup& WakeupFor(const std::string& schema);

}  // namespace crm::outbox
