// customer-store: wiring only. No business logic, no SQL, no proto mapping.
#include "libs/common/clock.h"
#include "libs/common/id.h"
#include "libs/observability/log.h"
#include "libs/service/runtime.h"
#include "services/customer_store/api/grpc_service.h"
#include "services/customer_store/api/order_events.h"
#include "services/customer_store/app/customer_store.h"
#include "services/customer_store/app/import.h"
#include "services/customer_store/app/merge.h"
#include "services/customer_store/app/purchases.h"
#include "services/customer_store/app/resolve.h"
#include "services/customer_store/config.h"
#include "services/customer_store/schema_name.h"
#include "services/customer_store/storage/pg_customer_repository.h"
#include "services/customer_store/storage/redis_view_cache.h"

int main() {
  using namespace crm;  // NOLINT
  service::InitProcess("customer-store");
  absl::StatusOr<customer_store::Config> config = customer_store::LoadConfig();
  if (!config.ok()) {
    CRM_LOG(Error) << "invalid configuration: " << config.status().message();
    return 2;
  }
  CRM_LOG(Info) << "config " << config->ToRedactedString();
  auto rt = service::Runtime::Create("customer-store", config->service,
                                     customer_store::storage::PgCustomerRepository::Queries());
  if (!rt.ok()) {
    CRM_LOG(Error) << "start-up: " << rt.status();
    return 1;
  }

  customer_store::storage::PgCustomerRepository repository((*rt)->pg());
  customer_store::storage::RedisViewCache cache((*rt)->redis(), config->view_cache_ttl);
  common::SystemClock clock;
  common::RandomIdGenerator ids;
  customer_store::app::CustomerStore store(repository, cache, clock, ids);
  customer_store::app::CustomerMerger merger(repository, cache, clock);
  customer_store::app::CustomerImporter importer(repository, cache, clock, ids);
  customer_store::app::CustomerResolver resolver(repository, clock, ids);
  customer_store::api::CustomerStoreGrpcService service(store, merger, importer,
                                                        (*rt)->executor(), (*rt)->rpc_metrics(),
                                                        (*rt)->tokens(), resolver);

  // Order events from the transaction engine feed the purchase aggregates.
  customer_store::app::PurchaseProjector projector(repository, cache);
  customer_store::api::OrderEventHandler order_events(projector);
  // One projection transaction per consumer read (batch).
  (*rt)->AddBatchConsumer("customer-store", config->consumer,
                          [&](const std::vector<events::Event>& batch) {
                            return order_events.HandleBatch(batch);
                          });
  return (*rt)->Serve(customer_store::kSchema, {&service});
}
