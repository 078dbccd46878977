#include "tests/support/fakes/gateway/fake_rate_limiter.h"

namespace crm::testing {

absl::StatusOr<gateway::app::RateDecision> FakeRateLimiter::Take(const std::string& key_id,
                                                                 int rate, int burst, int want) {
  absl::MutexLock lock(&mu_);
  ++take_calls_;
  last_key_id_ = key_id;
  last_rate_ = rate;
  last_burst_ = burst;
  last_want_ = want;
  if (answer_.ok() && answer_->allowed) {
    gateway::app::RateDecision d = *answer_;
    d.granted = want;
    return d;
  }
  return answer_;
}

void FakeRateLimiter::Allow() {
  absl::MutexLock lock(&mu_);
  answer_ = gateway::app::RateDecision{true, absl::ZeroDuration()};
}
void FakeRateLimiter::Deny(absl::Duration retry_after) {
  absl::MutexLock lock(&mu_);
  answer_ = gateway::app::RateDecision{false, retry_after, 0};
}
void FakeRateLimiter::FailWith(absl::Status s) {
  absl::MutexLock lock(&mu_);
  answer_ = std::move(s);
}
int FakeRateLimiter::take_calls() const {
  absl::MutexLock lock(&mu_);
  return take_calls_;
}
std::string FakeRateLimiter::last_key_id() const {
  absl::MutexLock lock(&mu_);
  return last_key_id_;
}
int FakeRateLimiter::last_rate() const {
  absl::MutexLock lock(&mu_);
  return last_rate_;
}
int FakeRateLimiter::last_want() const {
  absl::MutexLock lock(&mu_);
  return last_want_;
}
int FakeRateLimiter::last_burst() const {
  absl::MutexLock lock(&mu_);
  return last_burst_;
}

}  // namespace crm::testing
