#include "services/customer_store/api/retention_job.h"

#include "libs/observability/log.h"
#include "prometheus/counter.h"
#include "prometheus/registry.h"

namespace crm::customer_store::api {

RetentionJob::RetentionJob(app::BehaviourRetention& retention, absl::Duration every,
                           prometheus::Registry& metrics)
    : retention_(retention),
      every_(every),
      purged_(prometheus::BuildCounter()
                  .Name("crm_behaviour_events_purged_total")
                  .Help("Behaviour events deleted for being older than their tenant's retention")
                  .Register(metrics)
                  .Add({})),
      dropped_(prometheus::BuildCounter()
                   .Name("crm_behaviour_partitions_dropped_total")
                   .Help("Empty monthly partitions of behaviour events dropped")
                   .Register(metrics)
                   .Add({})),
      job_([this] { return RunOnce(); }) {}

void RetentionJob::Start() {
  if (every_ > absl::ZeroDuration()) job_.Start();
}

absl::Duration RetentionJob::RunOnce() {
  absl::StatusOr<app::RetentionRound> r = retention_.PurgeOnce();
  if (!r.ok()) {
    CRM_LOG(Warning).Field("component", "behaviour_retention")
        << "behaviour retention round failed: " << r.status();
    return every_;
  }
  purged_.Increment(static_cast<double>(r->deleted));
  dropped_.Increment(r->partitions_dropped);
  if (r->deleted > 0 || r->partitions_dropped > 0) {
    CRM_LOG(Info)
            .Field("component", "behaviour_retention")
            .Field("tenants", r->tenants)
            .Field("deleted", r->deleted)
            .Field("partitions_dropped", r->partitions_dropped)
            .Field("complete", r->complete)
        << "behaviour events past their retention purged";
  }
  return r->complete ? every_ : std::min(every_, absl::Seconds(1));
}

}  // namespace crm::customer_store::api
