#include "services/segmentation/app/refit_runs.h"

#include <chrono>
#include <utility>

#include "absl/strings/str_cat.h"
#include "libs/common/errors.h"

namespace crm::segmentation::app {
namespace {

bool Ready(const std::shared_future<absl::StatusOr<domain::ClvModel>>& f) {
  return f.wait_for(std::chrono::seconds(0)) == std::future_status::ready;
}

}  // namespace

RefitRuns::RefitRuns(Refit refit, std::function<void(const std::string&)> on_refitted,
                     absl::Duration wait, int max_running)
    : refit_(std::move(refit)),
      on_refitted_(std::move(on_refitted)),
      wait_(wait),
      max_running_(max_running) {}

RefitRuns::~RefitRuns() {
  absl::MutexLock l(&mu_);
  for (auto& [_, run] : runs_) run.result.wait();
}

absl::StatusOr<domain::ClvModel> RefitRuns::Run(const outbox::WriteMeta& actor,
                                                const RefitRequest& request) {
  const std::string key =
      absl::StrCat(actor.tenant_id, "\n", actor.idempotency_key, "\n", actor.fingerprint);
  const absl::Time now = absl::Now();
  Result run;
  {
    absl::MutexLock l(&mu_);
    int running = 0;
    for (auto it = runs_.begin(); it != runs_.end();) {  // forget the old finished ones
      if (!Ready(it->second.result)) {
        ++running;
        ++it;
      } else {
        it = now - it->second.started > kKeep ? runs_.erase(it) : std::next(it);
      }
    }
    auto it = runs_.find(key);
    if (it != runs_.end()) {
      run = it->second.result;
    } else {
      if (running >= max_running_) {
        return common::WithReason(
            absl::ResourceExhaustedError(absl::StrCat(
                max_running_, " refits are running in this replica; retry when one has finished")),
            "RATE_LIMITED");
      }
      run = std::async(std::launch::async, [this, actor, request] {
              absl::StatusOr<domain::ClvModel> m = refit_(actor, request);
              if (m.ok() && on_refitted_) on_refitted_(actor.tenant_id);
              return m;
            }).share();
      runs_[key] = {run, now};
    }
  }
  if (run.wait_for(absl::ToChronoNanoseconds(wait_)) != std::future_status::ready) {
    return common::WithReason(
        absl::AbortedError(
            "the refit is still running in the background; call again with the same requestId "
            "for its result"),
        "REFIT_RUNNING");
  }
  return run.get();
}

}  // namespace crm::segmentation::app
