// customer-store: wiring only. No business logic, no SQL, no proto mapping.
#include "libs/common/clock.h"
#include "libs/common/id.h"
#include "libs/events/message_event.h"
#include "libs/events/ticket_event.h"
#include "libs/grpcutil/channel.h"
#include "libs/observability/log.h"
#include "libs/service/purge_job.h"
#include "libs/service/runtime.h"
#include "services/customer_store/api/grpc_service.h"
#include "services/customer_store/api/order_events.h"
#include "services/customer_store/app/behaviour.h"
#include "services/customer_store/app/behaviour_retention.h"
#include "services/customer_store/app/customer_store.h"
#include "services/customer_store/app/customer_views.h"
#include "services/customer_store/app/engine_timeline.h"
#include "services/customer_store/app/import.h"
#include "services/customer_store/app/merge.h"
#include "services/customer_store/app/purchases.h"
#include "services/customer_store/app/resolve.h"
#include "services/customer_store/clients/grpc_customer_insights.h"
#include "services/customer_store/config.h"
#include "services/customer_store/schema_name.h"
#include "services/customer_store/storage/pg_customer_repository.h"
#include "services/customer_store/storage/redis_view_cache.h"

int main() {
  using namespace crm;  // NOLINT
  service::Boot boot("customer-store");
  const customer_store::Config config = boot.Config(customer_store::LoadConfig());
  std::unique_ptr<service::Runtime> rt =
      boot.Start(config.service, customer_store::storage::PgCustomerRepository::Queries());

  customer_store::storage::PgCustomerRepository repository(rt->pg());
  customer_store::storage::RedisViewCache cache(rt->redis(), config.view_cache_ttl);
  common::SystemClock clock;
  common::RandomIdGenerator ids;
  customer_store::app::CustomerStore store(repository, cache, clock, ids);
  customer_store::app::CustomerMerger merger(repository, cache, clock);
  customer_store::app::CustomerImporter importer(repository, cache, clock, ids);
  customer_store::app::CustomerResolver resolver(repository, clock, ids);
  customer_store::app::BehaviourTracker tracker(repository, cache, clock, ids);
  // The 360 view's scores and segments, asked of segmentation
  // (CRM_SEGMENTATION_ADDR / _TIMEOUT) unless answered within
  // CRM_VIEW_SECTIONS_TTL; a section it cannot give is left out.
  customer_store::clients::GrpcCustomerInsights insights(
      grpcutil::MakeChannel(config.segmentation.addr), config.segmentation.timeout);
  customer_store::app::InsightsCache insights_cache(clock, config.view_sections_ttl);
  customer_store::app::CustomerViews views(store, insights, config.segmentation.timeout,
                                           &insights_cache);
  // Per-tenant retention of behaviour events: settings and the purge job.
  customer_store::app::BehaviourRetention retention(repository, repository, clock);
  service::PurgeJob retention_job(
      {"behaviour_retention", "crm_behaviour_events_purged_total",
       "Behaviour events deleted for being older than their tenant's retention",
       config.retention_check},
      rt->registry(), [&] { return retention.PurgeOnce(); });
  rt->AddListener(
      [&] {
        retention_job.Start();
        return absl::OkStatus();
      },
      [&] { retention_job.Stop(); });
  customer_store::api::CustomerStoreGrpcService service(store, merger, importer, rt->executor(),
                                                        rt->rpc_metrics(), rt->tokens(), resolver,
                                                        tracker, views, retention);

  // Order events from the transaction engine feed the purchase aggregates.
  customer_store::app::PurchaseProjector projector(repository, cache);
  customer_store::api::OrderEventHandler order_events(projector);
  // Delivery's messages and the service desk's tickets become timeline entries.
  customer_store::app::EngineTimeline timeline(repository, cache);
  // One projection transaction per consumer read (batch).
  rt->AddBatchConsumer("customer-store", config.consumer,
                       [&](const std::vector<events::Event>& batch) {
                         std::vector<absl::Status> out = order_events.HandleBatch(batch);
                         for (size_t i = 0; i < batch.size(); ++i) {
                           if (!out[i].ok()) continue;
                           absl::StatusOr<std::optional<events::MessageEvent>> m =
                               events::MessageEventOf(batch[i].envelope);
                           absl::StatusOr<std::optional<events::TicketEvent>> t =
                               events::TicketEventOf(batch[i].envelope);
                           if (!m.ok()) {
                             out[i] = m.status();
                           } else if (*m) {
                             out[i] = timeline.Apply(**m);
                           } else if (!t.ok()) {
                             out[i] = t.status();
                           } else if (*t) {
                             out[i] = timeline.Apply(**t);
                           }
                         }
                         return out;
                       });
  return rt->Serve(customer_store::kSchema, {&service});
}
