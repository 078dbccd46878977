// gateway: wiring only. REST/JSON and gRPC front doors over one pipeline
// (authenticate, authorize, rate limit, forward) to the backends of one
// table (api/backends.cc), on the shared service runtime.
#include <algorithm>
#include <limits>

#include "libs/common/clock.h"
#include "libs/common/tracking_token.h"
#include "libs/grpcutil/channel.h"
#include "libs/observability/log.h"
#include "libs/service/runtime.h"
#include "services/gateway/api/admin_service.h"
#include "services/gateway/api/backends.h"
#include "services/gateway/api/grpc_proxy_service.h"
#include "services/gateway/api/http_server.h"
#include "services/gateway/api/openapi.h"
#include "services/gateway/api/proxy.h"
#include "services/gateway/api/reflection.h"
#include "services/gateway/api/rest_gateway.h"
#include "services/gateway/app/access.h"
#include "services/gateway/config.h"
#include "services/gateway/schema_name.h"
#include "services/gateway/storage/pg_key_store.h"
#include "services/gateway/storage/redis_rate_limiter.h"

int main() {
  using namespace crm;           // NOLINT
  using namespace crm::gateway;  // NOLINT
  service::Boot boot("gateway");
  const Config config = boot.Config(LoadConfig());
  // The executor and the admin service report as service="gateway-admin".
  std::unique_ptr<service::Runtime> rt =
      boot.Start(config.service, storage::PgKeyStore::Queries(), "gateway-admin");

  auto backends = api::Backends::Create(api::BackendTable(), config.peers, grpcutil::MakeChannel);
  if (!backends.ok()) {
    CRM_LOG(Error) << "start-up: " << backends.status();
    return 1;
  }
  common::SystemClock clock;
  // Admin writes with a request_id seal their stored answers under a key
  // derived from the context key (storage/pg_key_store.h).
  storage::PgKeyStore keys(rt->pg(), config.service.context_key);
  storage::RedisRateLimiter limiter(rt->redis());
  app::AccessOptions access_options;
  access_options.key_cache_ttl = config.key_cache_ttl;
  access_options.default_rate_per_second = config.default_rate_per_second;
  app::Access access(keys, limiter, clock, access_options);
  app::Admin admin(keys, access, clock);
  api::Proxy proxy(access, rt->executor(), rt->registry(), config.backend_deadline,
                   config.upload_deadline, config.max_streams_per_tenant);
  api::RestOptions rest_options;
  rest_options.cors_allowed_origins = config.cors_allowed_origins;
  rest_options.max_json_body_bytes = static_cast<size_t>(config.max_body_bytes);
  rest_options.tracking_key = common::TrackingKey(config.service.context_key);
  rest_options.openapi_json =
      api::GenerateOpenApi(api::RoutesFromServices(backends->Services()), "CRM API", "v1");
  auto rest = api::RestGateway::Create(proxy, backends->Services(), rest_options, rt->registry());
  if (!rest.ok()) {
    CRM_LOG(Error) << rest.status();
    return 1;
  }
  // The admin service has no listening port at all: reached only through the
  // proxy over an in-process channel, so nothing outside this process can
  // call it with forged x-crm-* headers.
  api::AdminGrpcService admin_service(admin, rt->executor(), rt->rpc_metrics(), rt->tokens());
  auto admin_channel = rt->StartInProcessServer({&admin_service});
  absl::Status routed =
      admin_channel.ok() ? backends->AddTo(proxy, *admin_channel) : admin_channel.status();
  if (!routed.ok()) {
    CRM_LOG(Error) << "start-up: " << routed;
    return 1;
  }

  api::Reflection reflection(backends->PublicServices());
  // Proxied gRPC calls end like every service's calls: crm_rpc_server_*
  // with service="gateway" and one access-log line each.
  grpcutil::RpcMetrics proxy_metrics(rt->registry(), "gateway");
  api::GrpcProxyService grpc_proxy(proxy, reflection, static_cast<size_t>(config.max_upload_bytes),
                                   proxy_metrics);
  grpcutil::ServerRunner& server = rt->server();
  server.DisableBuiltinReflection();  // `reflection` lists the relayed services too
  server.builder().SetMaxReceiveMessageSize(static_cast<int>(
      std::min<int64_t>(config.max_upload_bytes, std::numeric_limits<int>::max())));
  server.RegisterGeneric(&grpc_proxy);

  api::HttpServerOptions http_options;
  http_options.address = config.service.bind_host;
  http_options.port = config.http_port;
  http_options.threads = config.http_threads;
  http_options.max_body_bytes =
      static_cast<size_t>(std::max(config.max_body_bytes, config.max_upload_bytes));
  // Head first: a request is admitted before its body is read.
  api::HttpServer http(http_options,
                       api::HeadHandler([&](api::HttpRequest req, api::BodyReader read_body,
                                            api::Responder respond) {
                         (*rest)->Handle(std::move(req), std::move(read_body), std::move(respond));
                       }));
  rt->AddListener(
      [&]() -> absl::Status {
        absl::Status s = http.Start();
        if (s.ok()) {
          CRM_LOG(Info).Field("http_port", http.port()).Field("grpc_port", server.port())
              << "gateway up";
        }
        return s;
      },
      [&] { http.Stop(); });
  // Ready (gRPC health "" and /readyz) while PostgreSQL and every backend answer.
  rt->AddReadinessCheck([&] { return backends->Probe(); });
  rt->AddReadinessListener([&](bool ready) { (*rest)->SetReady(ready); });
  return rt->Serve(gateway::kSchema, {});
}
