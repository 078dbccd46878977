#pragma once
// On-demand refits that may outlast the call (a million customers take
// tens of seconds, beyond a gateway's deadline): each runs on a thread of
// its own. A call waits for its run up to `wait`; when the run is still
// going, the call answers ABORTED (REFIT_RUNNING: 409, as a request whose
// idempotency key is in use by a call in progress) and the refit goes on
// in the background. A call with the same request id (and body) waits for
// the same run again, and once it has finished gets its answer (kept here
// for kKeep after the run started, then replayed by the unit of work). At most `max_running` refits run at once in a process
// (each holds the tenant's purchases in memory); beyond that RESOURCE_EXHAUSTED.
#include <functional>
#include <future>
#include <map>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "libs/outbox/write_meta.h"
#include "services/segmentation/app/models.h"

namespace crm::segmentation::app {

class RefitRuns {
 public:
  using Refit =
      std::function<absl::StatusOr<domain::ClvModel>(const outbox::WriteMeta&, const RefitRequest&)>;
  // `refit`: the refit itself (Models::RefitClv); `on_refitted`: called on the
  // run's thread with the tenant after a refit that made a model.
  RefitRuns(Refit refit, std::function<void(const std::string& tenant)> on_refitted,
            absl::Duration wait, int max_running = 2);
  ~RefitRuns();  // waits for the runs still going

  absl::StatusOr<domain::ClvModel> Run(const outbox::WriteMeta& actor, const RefitRequest& request);

  static constexpr absl::Duration kKeep = absl::Minutes(10);

 private:
  using Result = std::shared_future<absl::StatusOr<domain::ClvModel>>;
  struct Entry {
    Result result;
    absl::Time started;
  };
  const Refit refit_;
  const std::function<void(const std::string&)> on_refitted_;
  const absl::Duration wait_;
  const int max_running_;
  absl::Mutex mu_;
  std::map<std::string, Entry> runs_ ABSL_GUARDED_BY(mu_);  // tenant, key, body
};

}  // namespace crm::segmentation::app
