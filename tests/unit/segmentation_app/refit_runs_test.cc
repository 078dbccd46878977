// On-demand refits in the background (services/segmentation/app/refit_runs.h):
// a call waits up to its wait, then answers REFIT_RUNNING while the refit
// goes on; a call with the same key joins the same run and gets its model;
// runs are bounded per process.
#include "services/segmentation/app/refit_runs.h"

#include <catch2/catch.hpp>
#include <atomic>
#include <string>
#include <vector>

#include "absl/synchronization/notification.h"
#include "libs/common/errors.h"

namespace {

using crm::segmentation::app::RefitRequest;
using crm::segmentation::app::RefitRuns;

crm::outbox::WriteMeta Actor(const std::string& key, const std::string& tenant = "t1") {
  return {tenant, "tester", "", "RefitClvModel", key, "fp"};
}

TEST_CASE("a refit longer than the wait goes on in the background and answers a retry",
          "[segmentation][app][refit]") {
  absl::Notification release;
  std::atomic<int> calls{0};
  std::vector<std::string> refitted;
  absl::Mutex mu;
  RefitRuns runs(
      [&](const crm::outbox::WriteMeta& actor, const RefitRequest&)
          -> absl::StatusOr<crm::segmentation::domain::ClvModel> {
        ++calls;
        if (actor.idempotency_key == "bad") return absl::FailedPreconditionError("too few");
        release.WaitForNotification();
        crm::segmentation::domain::ClvModel m;
        m.currency_code = "CHF";
        return m;
      },
      [&](const std::string& tenant) {
        absl::MutexLock l(&mu);
        refitted.push_back(tenant);
      },
      absl::Milliseconds(50));

  auto first = runs.Run(Actor("k1"), {});
  CHECK(first.status().code() == absl::StatusCode::kAborted);
  CHECK(crm::common::ReasonOf(first.status()) == "REFIT_RUNNING");
  auto again = runs.Run(Actor("k1"), {});  // the same run, not a second one
  CHECK(crm::common::ReasonOf(again.status()) == "REFIT_RUNNING");
  CHECK(calls == 1);
  CHECK(crm::common::ReasonOf(runs.Run(Actor("k2"), {}).status()) == "REFIT_RUNNING");
  CHECK(calls == 2);
  // Two run at once at most.
  auto third = runs.Run(Actor("k3"), {});
  CHECK(third.status().code() == absl::StatusCode::kResourceExhausted);
  CHECK(calls == 2);

  release.Notify();
  auto done = runs.Run(Actor("k1"), {});
  REQUIRE(done.ok());
  CHECK(done->currency_code == "CHF");
  CHECK(calls == 2);
  // A third may run now; a refused refit answers its refusal (only models
  // reach the callback).
  auto bad = runs.Run(Actor("bad"), {});
  CHECK(bad.status().code() == absl::StatusCode::kFailedPrecondition);
  CHECK(runs.Run(Actor("k2"), {}).ok());
  // A finished run answers again from memory (no second refit), and every
  // model made reached the callback once.
  CHECK(runs.Run(Actor("k1"), {}).ok());
  CHECK(calls == 3);
  absl::MutexLock l(&mu);
  CHECK(refitted == std::vector<std::string>{"t1", "t1"});
}

}  // namespace
