// customer-store: wiring only. No business logic, no SQL, no proto mapping.
#include "absl/synchronization/mutex.h"
#include "libs/common/clock.h"
#include "libs/common/executor.h"
#include "libs/common/id.h"
#include "libs/common/page_token.h"
#include "libs/common/shutdown.h"
#include "libs/grpcutil/rpc_metrics.h"
#include "libs/grpcutil/server_runner.h"
#include "libs/observability/log.h"
#include "libs/observability/metrics.h"
#include "libs/outbox/relay.h"
#include "libs/pg/pool.h"
#include "libs/redis/redis.h"
#include "services/customer_store/api/grpc_service.h"
#include "services/customer_store/app/customer_store.h"
#include "services/customer_store/app/import.h"
#include "services/customer_store/app/merge.h"
#include "services/customer_store/config.h"
#include "services/customer_store/storage/pg_customer_repository.h"
#include "services/customer_store/storage/redis_view_cache.h"

int main() {
  using namespace crm;  // NOLINT
  common::BlockShutdownSignals();
  // Debian's Abseil checks every Mutex for lock-order cycles; our lock order
  // is flat, and the check costs CPU on every lock.
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
  observability::InitLogging("customer-store");
  absl::StatusOr<customer_store::Config> config = customer_store::LoadConfig();
  if (!config.ok()) {
    CRM_LOG(Error) << "invalid configuration: " << config.status().message();
    return 2;
  }
  CRM_LOG(Info) << "config " << config->ToRedactedString();

  auto metrics = observability::Metrics::Create(config->metrics_port);
  if (!metrics.ok()) {
    CRM_LOG(Error) << metrics.status();
    return 1;
  }
  pg::PoolOptions pg_options;
  pg_options.dsn = config->pg_dsn;
  pg_options.size = config->pg_pool_size;
  pg_options.queries = customer_store::storage::PgCustomerRepository::Queries();
  pg_options.metrics = &(*metrics)->registry();
  auto pg = pg::Pool::Create(std::move(pg_options));
  if (!pg.ok()) {
    CRM_LOG(Error) << "postgresql: " << pg.status();
    return 1;
  }
  auto redis_options = redis::ParseAddress(config->redis_addr);
  if (!redis_options.ok()) {
    CRM_LOG(Error) << redis_options.status();
    return 2;
  }
  redis_options->size = config->redis_pool_size;
  redis_options->metrics = &(*metrics)->registry();
  auto redis = redis::Pool::Create(*redis_options);
  if (!redis.ok()) {
    CRM_LOG(Error) << redis.status();
    return 1;
  }

  customer_store::storage::PgCustomerRepository repository(**pg);
  customer_store::storage::RedisViewCache cache(**redis, config->view_cache_ttl);
  common::SystemClock clock;
  common::RandomIdGenerator ids;
  customer_store::app::CustomerStore store(repository, cache, clock, ids);
  customer_store::app::CustomerMerger merger(repository, cache, clock);
  customer_store::app::CustomerImporter importer(repository, cache, clock, ids);

  common::Executor executor(config->workers, static_cast<size_t>(config->max_queue));
  grpcutil::RpcMetrics rpc_metrics((*metrics)->registry(), "customer-store");
  common::PageTokenCodec tokens(config->page_token_secret);
  customer_store::api::CustomerStoreGrpcService service(store, merger, importer, executor, rpc_metrics,
                                                       tokens);

  outbox::RelayOptions relay_options;
  relay_options.schema = "customer_store";
  relay_options.producer = "customer-store";
  relay_options.partitions = config->event_partitions;
  relay_options.metrics = &(*metrics)->registry();
  outbox::Relay relay(**pg, **redis, relay_options);
  if (config->relay_enabled) relay.Start();

  grpcutil::ServerRunner server(absl::StrCat("0.0.0.0:", config->grpc_port));
  server.Register(&service);
  if (absl::Status s = server.Start(); !s.ok()) {
    CRM_LOG(Error) << s;
    return 1;
  }
  // Redis is a cache: the service serves without it, so readiness needs PostgreSQL only.
  server.WatchReadiness({[&] { return (*pg)->Ping(); }});
  int sig = common::WaitForShutdownSignal();
  CRM_LOG(Info).Field("signal", sig) << "shutting down";
  server.SetServing(false);
  server.Shutdown(config->shutdown_grace);
  relay.Stop();
  executor.Drain();
  return 0;
}
