// segmentation (engine 2): wiring only.
#include "absl/strings/str_cat.h"
#include "libs/common/clock.h"
#include "libs/common/service_config.h"
#include "libs/service/purge_job.h"
#include "libs/service/runtime.h"
#include "services/segmentation/api/fact_events.h"
#include "services/segmentation/api/grpc_service.h"
#include "services/segmentation/api/refit_scheduler.h"
#include "services/segmentation/api/replica_grpc.h"
#include "services/segmentation/api/segment_clock.h"
#include "services/segmentation/clients/grpc_replica_peers.h"
#include "services/segmentation/config.h"
#include "services/segmentation/schema_name.h"
#include "services/segmentation/storage/pg_fact_repository.h"
#include "services/segmentation/storage/pg_model_repository.h"
#include "services/segmentation/storage/pg_segment_repository.h"

int main() {
  using namespace crm;  // NOLINT
  service::Boot boot("segmentation");
  const common::ServiceConfig config = boot.Config(common::LoadServiceConfig());
  // Consumer of order.* (transaction), customer.* and behaviour.* (customer-store) events.
  const common::EventConsumerConfig consumer = boot.Config(common::LoadEventConsumerConfig(2));
  const segmentation::RefitScheduleConfig schedule =
      boot.Config(segmentation::LoadRefitScheduleConfig());
  const segmentation::LiveSegmentsConfig live = boot.Config(segmentation::LoadLiveSegmentsConfig());
  // Replicas: each holds the customers of its event partitions.
  const segmentation::ReplicaConfig replicas =
      boot.Config(segmentation::LoadReplicaConfig(config.event_partitions));
  std::vector<pg::NamedQuery> queries = segmentation::storage::PgModelRepository::Queries();
  for (pg::NamedQuery& q : segmentation::storage::PgSegmentRepository::Queries()) {
    queries.push_back(std::move(q));
  }
  std::unique_ptr<service::Runtime> rt = boot.Start(config, std::move(queries));
  segmentation::storage::PgModelRepository models_repository(rt->pg());
  segmentation::storage::PgFactRepository facts_repository(rt->pg());
  common::SystemClock clock;
  segmentation::storage::PgSegmentRepository segments_repository(rt->pg());
  // Purchases changed per tenant: scores reuse the tenant's RFM breakpoints until then.
  segmentation::app::PurchaseVersions purchase_versions;
  segmentation::app::Models models(models_repository, facts_repository, segments_repository, clock,
                                   &purchase_versions);
  segmentation::clients::GrpcReplicaPeers peers(
      replicas.peers(), absl::StrCat("segmentation-replica-", replicas.ordinal), replicas.timeout,
      replicas.sync_timeout());
  segmentation::app::LiveSegments segments(segments_repository, facts_repository, models_repository,
                                           clock, segmentation::domain::FieldCatalog::Default(),
                                           live.refresh_every, replicas.ownership(), &peers);
  // On-demand refits: in the background past the call's wait; the live
  // segments (here and on every replica) read each new model.
  segmentation::app::RefitRuns refits(
      [&](const outbox::WriteMeta& actor, const segmentation::app::RefitRequest& r) {
        return models.RefitClv(actor, r);
      },
      [&](const std::string& tenant) {
        segments.Refresh(tenant).IgnoreError();
        segments.SyncPeers(tenant);
      },
      schedule.on_demand_wait);
  segmentation::api::SegmentationGrpcService service(models, segments, refits, rt->executor(),
                                                     rt->rpc_metrics(), rt->tokens());
  segmentation::app::Facts facts(facts_repository, &purchase_versions);
  segmentation::api::FactEventHandler fact_events(facts, segments);
  rt->AddBatchConsumer(
      replicas.consumer_group(), consumer,
      [&](const std::vector<events::Event>& batch) { return fact_events.HandleBatch(batch); });
  // Models older than CRM_CLV_REFIT_AFTER are refitted in the background.
  segmentation::api::RefitScheduler scheduler(models, schedule);
  // Live segments: rebuilt at start, time-driven changes followed every tick.
  segmentation::api::SegmentClock segment_clock(segments, live);
  // Behaviour older than its tenant's retention leaves the table and memory.
  service::PurgeJob behaviour_purge(
      {"behaviour_purge", "crm_segmentation_behaviour_purged_total",
       "Behaviour facts deleted for being older than their tenant's retention",
       live.behaviour_purge_every},
      rt->registry(), [&] {
        return facts.PurgeExpiredBehaviour(clock.Now(),
                                           [&](const std::string& tenant, absl::Time cutoff) {
                                             segments.ForgetBehaviourBefore(tenant, cutoff);
                                           });
      });
  rt->AddListener(
      [&] {
        scheduler.Start();
        segment_clock.Start();
        behaviour_purge.Start();
        return absl::OkStatus();
      },
      [&] {
        behaviour_purge.Stop();
        segment_clock.Stop();
        scheduler.Stop();
      });
  segmentation::api::ReplicaGrpcService replica_service(segments, rt->executor(),
                                                        rt->rpc_metrics());
  return rt->Serve(segmentation::kSchema, {&service, &replica_service});
}
