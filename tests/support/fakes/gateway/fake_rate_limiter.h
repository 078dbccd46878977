#pragma once
// Scripted RateLimiter: answers with a fixed decision or error and records
// the arguments of the last Take.
#include <string>

#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "services/gateway/app/ports.h"

namespace crm::testing {

class FakeRateLimiter final : public gateway::app::RateLimiter {
 public:
  // Allow() grants every token asked for.
  absl::StatusOr<gateway::app::RateDecision> Take(const std::string& key_id, int rate, int burst,
                                                  int want) override;

  void Allow();
  void Deny(absl::Duration retry_after);
  void FailWith(absl::Status s);

  int take_calls() const;
  std::string last_key_id() const;
  int last_rate() const;
  int last_burst() const;
  int last_want() const;

 private:
  mutable absl::Mutex mu_;
  absl::StatusOr<gateway::app::RateDecision> answer_ ABSL_GUARDED_BY(mu_) =
      gateway::app::RateDecision{};
  int take_calls_ ABSL_GUARDED_BY(mu_) = 0;
  std::string last_key_id_ ABSL_GUARDED_BY(mu_);
  int last_rate_ ABSL_GUARDED_BY(mu_) = 0;
  int last_burst_ ABSL_GUARDED_BY(mu_) = 0;
  int last_want_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace crm::testing
