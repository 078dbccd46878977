#include "libs/service/purge_job.h"

#include <algorithm>

#include "libs/observability/log.h"
#include "prometheus/counter.h"
#include "prometheus/registry.h"

namespace crm::service {

PurgeJob::PurgeJob(PurgeJobOptions options, prometheus::Registry& metrics,
                   std::function<absl::StatusOr<common::TenantPurgeRound>()> round)
    : options_(std::move(options)),
      deleted_(prometheus::BuildCounter()
                   .Name(options_.metric)
                   .Help(options_.help)
                   .Register(metrics)
                   .Add({})),
      round_(std::move(round)),
      job_([this] { return RunOnce(); }) {}

void PurgeJob::Start() {
  if (options_.every > absl::ZeroDuration()) job_.Start();
}

absl::Duration PurgeJob::RunOnce() {
  absl::StatusOr<common::TenantPurgeRound> r = round_();
  if (!r.ok()) {
    CRM_LOG(Warning).Field("component", options_.component) << "purge round failed: " << r.status();
    return options_.every;
  }
  deleted_.Increment(static_cast<double>(r->deleted));
  if (r->deleted > 0) {
    CRM_LOG(Info)
            .Field("component", options_.component)
            .Field("deleted", r->deleted)
            .Field("complete", r->complete)
        << "rows past their retention purged";
  }
  return r->complete ? options_.every : std::min(options_.every, absl::Seconds(1));
}

}  // namespace crm::service
