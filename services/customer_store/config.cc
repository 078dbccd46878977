#include "services/customer_store/config.h"

#include "libs/common/env.h"
#include "libs/common/status_macros.h"

namespace crm::customer_store {

absl::StatusOr<Config> LoadConfig() {
  using namespace crm::common;  // NOLINT: Env* helpers
  Config c;
  CRM_ASSIGN_OR_RETURN(int64_t grpc_port, EnvInt("CRM_GRPC_PORT", c.grpc_port, 1, 65535));
  CRM_ASSIGN_OR_RETURN(int64_t metrics_port, EnvInt("CRM_METRICS_PORT", c.metrics_port, 0, 65535));
  CRM_ASSIGN_OR_RETURN(c.pg_dsn, EnvRequired("CRM_PG_DSN"));
  CRM_ASSIGN_OR_RETURN(int64_t pg_pool, EnvInt("CRM_PG_POOL_SIZE", c.pg_pool_size, 1, 256));
  CRM_ASSIGN_OR_RETURN(c.redis_addr, EnvString("CRM_REDIS_ADDR", c.redis_addr));
  CRM_ASSIGN_OR_RETURN(int64_t redis_pool, EnvInt("CRM_REDIS_POOL_SIZE", c.redis_pool_size, 1, 256));
  CRM_ASSIGN_OR_RETURN(int64_t workers, EnvInt("CRM_WORKERS", c.workers, 1, 512));
  CRM_ASSIGN_OR_RETURN(int64_t max_queue, EnvInt("CRM_MAX_QUEUE", c.max_queue, 1, 1000000));
  CRM_ASSIGN_OR_RETURN(c.view_cache_ttl, EnvDuration("CRM_VIEW_CACHE_TTL", c.view_cache_ttl));
  CRM_ASSIGN_OR_RETURN(c.page_token_secret, EnvRequired("CRM_PAGE_TOKEN_SECRET"));
  CRM_ASSIGN_OR_RETURN(c.shutdown_grace, EnvDuration("CRM_SHUTDOWN_GRACE", c.shutdown_grace));
  CRM_ASSIGN_OR_RETURN(c.relay_enabled, EnvBool("CRM_OUTBOX_RELAY", c.relay_enabled));
  CRM_ASSIGN_OR_RETURN(int64_t parts, EnvInt("CRM_EVENT_PARTITIONS", c.event_partitions, 1, 1024));
  if (c.page_token_secret.size() < 16) {
    return absl::InvalidArgumentError("CRM_PAGE_TOKEN_SECRET must be at least 16 characters");
  }
  c.grpc_port = static_cast<int>(grpc_port);
  c.metrics_port = static_cast<int>(metrics_port);
  c.pg_pool_size = static_cast<int>(pg_pool);
  c.redis_pool_size = static_cast<int>(redis_pool);
  c.workers = static_cast<int>(workers);
  c.max_queue = static_cast<int>(max_queue);
  c.event_partitions = static_cast<int>(parts);
  return c;
}

std::string Config::ToRedactedString() const {
  return common::ConfigDump()
      .Add("grpc_port", int64_t{grpc_port})
      .Add("metrics_port", int64_t{metrics_port})
      .AddSecret("pg_dsn", pg_dsn)
      .Add("pg_pool_size", int64_t{pg_pool_size})
      .Add("redis_addr", redis_addr)
      .Add("redis_pool_size", int64_t{redis_pool_size})
      .Add("workers", int64_t{workers})
      .Add("max_queue", int64_t{max_queue})
      .Add("view_cache_ttl", view_cache_ttl)
      .Add("page_token_secret", std::string("***"))
      .Add("shutdown_grace", shutdown_grace)
      .Add("outbox_relay", std::string(relay_enabled ? "on" : "off"))
      .Add("event_partitions", int64_t{event_partitions})
      .ToString();
}

}  // namespace crm::customer_store
