#include "services/gateway/config.h"

#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "libs/common/env.h"
#include "libs/common/service_config.h"
#include "libs/common/status_macros.h"

namespace crm::gateway {

absl::StatusOr<Config> LoadConfig() {
  using namespace crm::common;  // NOLINT
  Config c;
  auto port = [](const char* name, int def) -> absl::StatusOr<int> {
    CRM_ASSIGN_OR_RETURN(int64_t v, EnvInt(name, def, 0, 65535));
    return static_cast<int>(v);
  };
  CRM_ASSIGN_OR_RETURN(c.bind_host, LoadBindHost());
  CRM_ASSIGN_OR_RETURN(c.http_port, port("CRM_HTTP_PORT", c.http_port));
  CRM_ASSIGN_OR_RETURN(c.grpc_port, port("CRM_GRPC_PORT", c.grpc_port));
  CRM_ASSIGN_OR_RETURN(c.metrics_port, port("CRM_METRICS_PORT", c.metrics_port));
  CRM_ASSIGN_OR_RETURN(c.pg_dsn, EnvRequired("CRM_PG_DSN"));
  CRM_ASSIGN_OR_RETURN(int64_t pg_pool, EnvInt("CRM_PG_POOL_SIZE", c.pg_pool_size, 1, 256));
  CRM_ASSIGN_OR_RETURN(c.redis_addr, EnvString("CRM_REDIS_ADDR", c.redis_addr));
  CRM_ASSIGN_OR_RETURN(int64_t redis_pool, EnvInt("CRM_REDIS_POOL_SIZE", c.redis_pool_size, 1, 256));
  CRM_ASSIGN_OR_RETURN(c.customer_store_addr,
                       EnvString("CRM_CUSTOMER_STORE_ADDR", c.customer_store_addr));
  CRM_ASSIGN_OR_RETURN(c.transaction_addr, EnvString("CRM_TRANSACTION_ADDR", c.transaction_addr));
  CRM_ASSIGN_OR_RETURN(std::string origins, EnvString("CRM_CORS_ALLOWED_ORIGINS", ""));
  for (absl::string_view o : absl::StrSplit(origins, ',', absl::SkipWhitespace())) {
    c.cors_allowed_origins.insert(std::string(absl::StripAsciiWhitespace(o)));
  }
  CRM_ASSIGN_OR_RETURN(c.max_body_bytes, EnvInt("CRM_MAX_BODY_BYTES", c.max_body_bytes, 1024, 64 << 20));
  CRM_ASSIGN_OR_RETURN(c.max_upload_bytes,
                       EnvInt("CRM_MAX_UPLOAD_BYTES", c.max_upload_bytes, 1024, int64_t{1} << 32));
  CRM_ASSIGN_OR_RETURN(c.page_token_secret, EnvRequired("CRM_PAGE_TOKEN_SECRET"));
  if (c.page_token_secret.size() < 16) {
    return absl::InvalidArgumentError("CRM_PAGE_TOKEN_SECRET must be at least 16 characters");
  }
  CRM_ASSIGN_OR_RETURN(c.context_key, LoadContextKey());
  CRM_ASSIGN_OR_RETURN(c.shutdown_grace, EnvDuration("CRM_SHUTDOWN_GRACE", c.shutdown_grace));
  CRM_ASSIGN_OR_RETURN(c.backend_deadline, EnvDuration("CRM_BACKEND_DEADLINE", c.backend_deadline));
  CRM_ASSIGN_OR_RETURN(c.upload_deadline, EnvDuration("CRM_UPLOAD_DEADLINE", c.upload_deadline));
  CRM_ASSIGN_OR_RETURN(c.key_cache_ttl, EnvDuration("CRM_KEY_CACHE_TTL", c.key_cache_ttl));
  CRM_ASSIGN_OR_RETURN(c.idempotency_key_ttl, common::LoadIdempotencyKeyTtl());
  CRM_ASSIGN_OR_RETURN(int64_t rate, EnvInt("CRM_DEFAULT_RATE_LIMIT", c.default_rate_per_second, 1, 1000000));
  CRM_ASSIGN_OR_RETURN(int64_t workers, EnvInt("CRM_WORKERS", c.workers, 1, 512));
  CRM_ASSIGN_OR_RETURN(int64_t max_queue, EnvInt("CRM_MAX_QUEUE", c.max_queue, 1, 1000000));
  CRM_ASSIGN_OR_RETURN(int64_t http_threads, EnvInt("CRM_HTTP_THREADS", c.http_threads, 1, 64));
  CRM_ASSIGN_OR_RETURN(int64_t max_streams,
                       EnvInt("CRM_MAX_STREAMS_PER_TENANT", c.max_streams_per_tenant, 1, 10000));
  c.pg_pool_size = static_cast<int>(pg_pool);
  c.redis_pool_size = static_cast<int>(redis_pool);
  c.default_rate_per_second = static_cast<int>(rate);
  c.workers = static_cast<int>(workers);
  c.max_queue = static_cast<int>(max_queue);
  c.http_threads = static_cast<int>(http_threads);
  c.max_streams_per_tenant = static_cast<int>(max_streams);
  return c;
}

std::string Config::ToRedactedString() const {
  return common::ConfigDump()
      .Add("bind_host", bind_host)
      .Add("http_port", int64_t{http_port})
      .Add("grpc_port", int64_t{grpc_port})
      .Add("metrics_port", int64_t{metrics_port})
      .AddSecret("pg_dsn", pg_dsn)
      .Add("pg_pool_size", int64_t{pg_pool_size})
      .Add("redis_addr", redis_addr)
      .Add("customer_store_addr", customer_store_addr)
      .Add("transaction_addr", transaction_addr)
      .Add("cors_allowed_origins", absl::StrJoin(cors_allowed_origins, ","))
      .Add("max_body_bytes", max_body_bytes)
      .Add("max_upload_bytes", max_upload_bytes)
      .Add("page_token_secret", std::string("***"))
      .Add("context_key", std::string("***"))
      .Add("shutdown_grace", shutdown_grace)
      .Add("backend_deadline", backend_deadline)
      .Add("upload_deadline", upload_deadline)
      .Add("key_cache_ttl", key_cache_ttl)
      .Add("idempotency_key_ttl", idempotency_key_ttl)
      .Add("default_rate_limit", int64_t{default_rate_per_second})
      .Add("workers", int64_t{workers})
      .Add("max_queue", int64_t{max_queue})
      .Add("http_threads", int64_t{http_threads})
      .Add("max_streams_per_tenant", int64_t{max_streams_per_tenant})
      .ToString();
}

}  // namespace crm::gateway
