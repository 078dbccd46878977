#pragma once
// In-memory CustomerInsights (the segmentation engine as the 360 view sees
// it): each call answers what the test set (a value or a status, NOT_FOUND
// by default), at once or never (hang: the future stays pending until the
// fake is destroyed, as a peer that does not answer), and remembers who
// asked.
#include <future>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "services/customer_store/app/ports.h"

namespace crm::testing {

class FakeCustomerInsights final : public customer_store::app::CustomerInsights {
 public:
  using Scores = customer_store::domain::CustomerScores;
  using Segments = std::vector<customer_store::domain::SegmentMembership>;

  void set_scores(absl::StatusOr<Scores> s) {
    absl::MutexLock l(&mu_);
    scores_ = std::move(s);
    scores_hang_ = false;
  }
  void set_segments(absl::StatusOr<Segments> s) {
    absl::MutexLock l(&mu_);
    segments_ = std::move(s);
    segments_hang_ = false;
  }
  void hang_scores() {
    absl::MutexLock l(&mu_);
    scores_hang_ = true;
  }
  void hang_segments() {
    absl::MutexLock l(&mu_);
    segments_hang_ = true;
  }

  std::future<absl::StatusOr<Scores>> ScoresOf(const customer_store::app::Caller& caller,
                                               const std::string& customer_id) override {
    absl::MutexLock l(&mu_);
    callers_.push_back(caller);
    asked_.push_back(customer_id);
    return Answer(scores_, scores_hang_, pending_scores_);
  }
  std::future<absl::StatusOr<Segments>> SegmentsOf(const customer_store::app::Caller& caller,
                                                   const std::string& customer_id) override {
    absl::MutexLock l(&mu_);
    callers_.push_back(caller);
    asked_.push_back(customer_id);
    return Answer(segments_, segments_hang_, pending_segments_);
  }

  // Every call made (scores and segments), in order.
  std::vector<customer_store::app::Caller> callers() const {
    absl::MutexLock l(&mu_);
    return callers_;
  }
  int calls() const {
    absl::MutexLock l(&mu_);
    return static_cast<int>(asked_.size());
  }

 private:
  template <typename T>
  static std::future<absl::StatusOr<T>> Answer(
      const absl::StatusOr<T>& value, bool hang,
      std::vector<std::promise<absl::StatusOr<T>>>& pending) {
    std::promise<absl::StatusOr<T>> p;
    std::future<absl::StatusOr<T>> f = p.get_future();
    if (hang) {
      pending.push_back(std::move(p));
    } else {
      p.set_value(value);
    }
    return f;
  }

  mutable absl::Mutex mu_;
  absl::StatusOr<Scores> scores_ = absl::NotFoundError("customer not found");
  absl::StatusOr<Segments> segments_ = absl::NotFoundError("customer not found");
  bool scores_hang_ = false;
  bool segments_hang_ = false;
  std::vector<std::promise<absl::StatusOr<Scores>>> pending_scores_;
  std::vector<std::promise<absl::StatusOr<Segments>>> pending_segments_;
  std::vector<customer_store::app::Caller> callers_;
  std::vector<std::string> asked_;
};

}  // namespace crm::testing
