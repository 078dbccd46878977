#include <algorithm>
#include <limits>

// gateway: wiring only. REST/JSON and gRPC front doors over one pipeline
// (authenticate, authorize, rate limit, forward).
#include "crm/customer_store/v1/customer_store.grpc.pb.h"
#include "crm/customer_store/v1/customer_store.pb.h"
#include "crm/gateway/v1/admin.grpc.pb.h"
#include "crm/gateway/v1/admin.pb.h"
#include "crm/transaction/v1/erp.grpc.pb.h"
#include "crm/transaction/v1/erp.pb.h"
#include "crm/transaction/v1/transaction.grpc.pb.h"
#include "crm/transaction/v1/pipeline.grpc.pb.h"
#include "crm/transaction/v1/pipeline.pb.h"
#include "crm/transaction/v1/transaction.pb.h"
#include "absl/synchronization/mutex.h"
#include "libs/common/clock.h"
#include "libs/common/executor.h"
#include "libs/common/page_token.h"
#include "libs/common/service_config.h"
#include "libs/common/shutdown.h"
#include "libs/grpcutil/channel.h"
#include "libs/grpcutil/rpc_metrics.h"
#include "libs/grpcutil/server_runner.h"
#include "libs/observability/log.h"
#include "libs/observability/metrics.h"
#include "libs/outbox/purge.h"
#include "libs/outbox/writer.h"
#include "libs/pg/pool.h"
#include "libs/redis/redis.h"
#include "services/gateway/api/admin_service.h"
#include "services/gateway/api/http_server.h"
#include "services/gateway/api/openapi.h"
#include "services/gateway/api/grpc_proxy_service.h"
#include "services/gateway/api/proxy.h"
#include "services/gateway/api/reflection.h"
#include "services/gateway/api/rest_gateway.h"
#include "services/gateway/app/access.h"
#include "services/gateway/config.h"
#include "services/gateway/storage/pg_key_store.h"
#include "services/gateway/storage/redis_rate_limiter.h"

int main() {
  using namespace crm;  // NOLINT
  common::BlockShutdownSignals();
  // Debian's Abseil checks every Mutex for lock-order cycles; our lock order
  // is flat, and the check costs CPU on every lock.
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
  observability::InitLogging("gateway");
  auto config = gateway::LoadConfig();
  if (!config.ok()) {
    CRM_LOG(Error) << "invalid configuration: " << config.status().message();
    return 2;
  }
  CRM_LOG(Info) << "config " << config->ToRedactedString();
  auto metrics = observability::Metrics::Create(config->metrics_port, config->bind_host);
  if (!metrics.ok()) {
    CRM_LOG(Error) << metrics.status();
    return 1;
  }
  prometheus::Registry& registry = (*metrics)->registry();

  pg::PoolOptions pg_options;
  pg_options.dsn = config->pg_dsn;
  pg_options.size = config->pg_pool_size;
  pg_options.queries = gateway::storage::PgKeyStore::Queries();
  pg_options.metrics = &registry;
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
  redis_options->metrics = &registry;
  auto redis = redis::Pool::Create(*redis_options);
  if (!redis.ok()) {
    CRM_LOG(Error) << redis.status();
    return 1;
  }

  common::SystemClock clock;
  // Admin writes with a request_id seal their stored answers under a key
  // derived from the context key (storage/pg_key_store.h); keys expire.
  gateway::storage::PgKeyStore keys(**pg, config->context_key);
  if (absl::Status s = outbox::SetIdempotencyKeyTtl(config->idempotency_key_ttl); !s.ok()) {
    CRM_LOG(Error) << s;
    return 2;
  }
  outbox::KeyPurgeOptions purge_options;
  purge_options.schema = "access";
  purge_options.metrics = &registry;
  outbox::KeyPurger purger(**pg, purge_options);
  purger.Start();
  gateway::storage::RedisRateLimiter limiter(**redis);
  gateway::app::AccessOptions access_options;
  access_options.key_cache_ttl = config->key_cache_ttl;
  access_options.default_rate_per_second = config->default_rate_per_second;
  gateway::app::Access access(keys, limiter, clock, access_options);
  gateway::app::Admin admin(keys, access, clock);
  common::Executor executor(config->workers, static_cast<size_t>(config->max_queue));
  common::PageTokenCodec tokens(config->page_token_secret);
  grpcutil::SetContextKey(config->context_key);

  // Internal admin service: no listening port at all, reached only through
  // the proxy over an in-process channel, so nothing outside this process can
  // call it with forged x-crm-* headers.
  grpcutil::RpcMetrics admin_metrics(registry, "gateway-admin");
  // The gateway's one executor (admission, admin calls): its queue depth.
  executor.SetDepthObserver(
      [&admin_metrics](size_t depth) { admin_metrics.SetQueueDepth(static_cast<double>(depth)); });
  gateway::api::AdminGrpcService admin_service(admin, executor, admin_metrics, tokens);
  grpcutil::ServerRunner admin_server("");
  admin_server.Register(&admin_service);
  if (absl::Status s = admin_server.Start(); !s.ok()) {
    CRM_LOG(Error) << s;
    return 1;
  }
  admin_server.SetServing(true);

  gateway::api::Proxy proxy(access, executor, registry, config->backend_deadline,
                            config->upload_deadline, config->max_streams_per_tenant);
  auto customer_store = grpcutil::MakeChannel(config->customer_store_addr);
  auto transaction = grpcutil::MakeChannel(config->transaction_addr);
  // gRPC only (streaming): relayed by the proxy, no REST routes. The
  // descriptor reference keeps erp.proto linked: the proxy and reflection
  // read the methods from the generated pool.
  (void)transaction::v1::IngestOrdersRequest::descriptor();
  const std::vector<std::pair<std::string, std::shared_ptr<grpc::Channel>>> backends = {
      {customer_store::v1::CustomerStoreService::service_full_name(), customer_store},
      {transaction::v1::TransactionService::service_full_name(), transaction},
      {transaction::v1::ErpIntegrationService::service_full_name(), transaction},
      {transaction::v1::PipelineService::service_full_name(), transaction},
      {gateway::v1::AdminService::service_full_name(), admin_server.InProcessChannel()}};
  std::vector<std::string> public_services = {"grpc.health.v1.Health",
                                              "grpc.reflection.v1.ServerReflection",
                                              "grpc.reflection.v1alpha.ServerReflection"};
  for (const auto& [name, channel] : backends) {
    proxy.AddBackend(name, channel);
    public_services.push_back(name);
  }
  gateway::api::Reflection reflection(public_services);

  // Through a message of each file, so the linker keeps the descriptors.
  std::vector<const google::protobuf::ServiceDescriptor*> services = {
      customer_store::v1::Customer::descriptor()->file()->FindServiceByName("CustomerStoreService"),
      gateway::v1::Tenant::descriptor()->file()->FindServiceByName("AdminService"),
      transaction::v1::Product::descriptor()->file()->FindServiceByName("TransactionService"),
      transaction::v1::Lead::descriptor()->file()->FindServiceByName("PipelineService")};
  gateway::api::RestOptions rest_options;
  rest_options.cors_allowed_origins = config->cors_allowed_origins;
  rest_options.max_json_body_bytes = static_cast<size_t>(config->max_body_bytes);
  rest_options.openapi_json = gateway::api::GenerateOpenApi(
      gateway::api::RoutesFromServices(services), "CRM API", "v1");
  auto rest = gateway::api::RestGateway::Create(proxy, services, rest_options, registry);
  if (!rest.ok()) {
    CRM_LOG(Error) << rest.status();
    return 1;
  }

  gateway::api::GrpcProxyService grpc_proxy(proxy, reflection,
                                            static_cast<size_t>(config->max_upload_bytes));
  grpcutil::ServerRunner server(common::ListenAddress(config->bind_host, config->grpc_port));
  server.DisableBuiltinReflection();  // `reflection` lists the relayed services too
  server.builder().SetMaxReceiveMessageSize(static_cast<int>(
      std::min<int64_t>(config->max_upload_bytes, std::numeric_limits<int>::max())));
  server.RegisterGeneric(&grpc_proxy);
  if (absl::Status s = server.Start(); !s.ok()) {
    CRM_LOG(Error) << s;
    return 1;
  }

  gateway::api::HttpServerOptions http_options;
  http_options.address = config->bind_host;
  http_options.port = config->http_port;
  http_options.threads = config->http_threads;
  http_options.max_body_bytes =
      static_cast<size_t>(std::max(config->max_body_bytes, config->max_upload_bytes));
  // Head first: a request is admitted before its body is read.
  gateway::api::HttpServer http(
      http_options, gateway::api::HeadHandler([&](gateway::api::HttpRequest req,
                                                  gateway::api::BodyReader read_body,
                                                  gateway::api::Responder respond) {
        (*rest)->Handle(std::move(req), std::move(read_body), std::move(respond));
      }));
  if (absl::Status s = http.Start(); !s.ok()) {
    CRM_LOG(Error) << s;
    return 1;
  }
  CRM_LOG(Info).Field("http_port", http.port()).Field("grpc_port", server.port()) << "gateway up";

  server.WatchReadiness({[&]() -> absl::Status {
    absl::Status s = (*pg)->Ping();
    if (s.ok()) s = grpcutil::ProbeHealth(*customer_store, absl::Seconds(1));
    if (s.ok()) s = grpcutil::ProbeHealth(*transaction, absl::Seconds(1));
    (*rest)->SetReady(s.ok());
    return s;
  }});
  int sig = common::WaitForShutdownSignal();
  CRM_LOG(Info).Field("signal", sig) << "shutting down";
  (*rest)->SetReady(false);
  server.SetServing(false);
  http.Stop();
  server.Shutdown(config->shutdown_grace);
  admin_server.Shutdown(absl::Seconds(1));
  executor.Drain();
  purger.Stop();
  return 0;
}
