#pragma once
// A bounded worker pool. Submit never blocks: a full queue is reported to the
// caller, who answers RESOURCE_EXHAUSTED (our backpressure).
#include <cstddef>
#include <deque>
#include <functional>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"

namespace crm::common {

class Executor final {
 public:
  Executor(int workers, size_t max_queue);
  ~Executor();
  Executor(const Executor&) = delete;
  Executor& operator=(const Executor&) = delete;

  // False when the queue is full or the executor is draining.
  [[nodiscard]] bool TrySubmit(std::function<void()> task);
  // Stops accepting work, runs what is queued, joins the workers.
  void Drain();
  size_t queue_depth() const;
  size_t max_queue() const { return max_queue_; }
  // Told the queue's depth whenever it changes (a task queued or taken by a
  // worker), under the executor's lock: keep it cheap (a gauge's Set).
  void SetDepthObserver(std::function<void(size_t)> observer);

 private:
  void WorkerLoop();

  const size_t max_queue_;
  mutable absl::Mutex mu_;
  std::deque<std::function<void()>> queue_ ABSL_GUARDED_BY(mu_);
  bool draining_ ABSL_GUARDED_BY(mu_) = false;
  std::function<void(size_t)> observer_ ABSL_GUARDED_BY(mu_);
  std::vector<std::thread> workers_;
};

}  // namespace crm::common
