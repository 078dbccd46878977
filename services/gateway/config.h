#pragma once
#include <set>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "libs/common/service_config.h"

namespace crm::gateway {

struct Config {
  // Listeners (CRM_BIND_HOST for HTTP too), datastores, executor, secrets;
  // no outbox. Gateway defaults: CRM_PG_POOL_SIZE 8, CRM_WORKERS 8,
  // CRM_MAX_QUEUE 4096.
  common::ServiceConfig service;
  int http_port = 8080;
  // One per peer of the backend table (api/backends.h): CRM_<PEER>_ADDR,
  // CRM_<PEER>_TIMEOUT (the readiness health check's deadline).
  std::vector<common::PeerConfig> peers;
  std::set<std::string> cors_allowed_origins;
  int64_t max_body_bytes = 1 << 20;     // JSON request bodies
  int64_t max_upload_bytes = 64 << 20;  // NDJSON import bodies and gRPC client streams
  absl::Duration backend_deadline = absl::Seconds(10);
  absl::Duration upload_deadline = absl::Seconds(300);  // bulk imports
  absl::Duration key_cache_ttl = absl::Seconds(5);
  int default_rate_per_second = 100;
  int http_threads = 2;
  int max_streams_per_tenant = 16;  // relayed gRPC streams open at once per tenant

  // Secrets masked (service::Boot logs it at start-up).
  void DumpTo(common::ConfigDump& dump) const;
};

absl::StatusOr<Config> LoadConfig();

}  // namespace crm::gateway
