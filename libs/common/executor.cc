#include "libs/common/executor.h"

namespace crm::common {

Executor::Executor(int workers, size_t max_queue) : max_queue_(max_queue) {
  for (int i = 0; i < workers; ++i) workers_.emplace_back([this] { WorkerLoop(); });
}

Executor::~Executor() { Drain(); }

bool Executor::TrySubmit(std::function<void()> task) {
  absl::MutexLock lock(&mu_);
  if (draining_ || queue_.size() >= max_queue_) return false;
  queue_.push_back(std::move(task));
  if (observer_) observer_(queue_.size());
  return true;
}

void Executor::SetDepthObserver(std::function<void(size_t)> observer) {
  absl::MutexLock lock(&mu_);
  observer_ = std::move(observer);
  if (observer_) observer_(queue_.size());
}

size_t Executor::queue_depth() const {
  absl::MutexLock lock(&mu_);
  return queue_.size();
}

void Executor::Drain() {
  {
    absl::MutexLock lock(&mu_);
    if (draining_ && workers_.empty()) return;
    draining_ = true;
  }
  for (auto& t : workers_) {
    if (t.joinable()) t.join();
  }
  workers_.clear();
}

void Executor::WorkerLoop() {
  for (;;) {
    std::function<void()> task;
    {
      absl::MutexLock lock(&mu_);
      mu_.Await(absl::Condition(
          +[](Executor* e) ABSL_EXCLUSIVE_LOCKS_REQUIRED(e->mu_) {
            return e->draining_ || !e->queue_.empty();
          },
          this));
      if (queue_.empty()) return;  // draining and nothing left
      task = std::move(queue_.front());
      queue_.pop_front();
      if (observer_) observer_(queue_.size());
    }
    task();
  }
}

}  // namespace crm::common
