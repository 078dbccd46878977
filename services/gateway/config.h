#pragma once
#include <set>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace crm::gateway {

struct Config {
  std::string bind_host = "127.0.0.1";  // every listener: HTTP, gRPC, metrics
  int http_port = 8080;
  int grpc_port = 50051;
  int metrics_port = 9464;
  std::string pg_dsn;  // secret
  int pg_pool_size = 8;
  std::string redis_addr = "127.0.0.1:6379";
  int redis_pool_size = 16;
  std::string customer_store_addr = "127.0.0.1:50061";
  std::string transaction_addr = "127.0.0.1:50062";
  std::set<std::string> cors_allowed_origins;
  int64_t max_body_bytes = 1 << 20;          // JSON request bodies
  int64_t max_upload_bytes = 64 << 20;       // NDJSON import bodies and gRPC client streams
  std::string page_token_secret;  // secret
  std::string context_key;        // secret: seals the tenant context sent to services
  absl::Duration shutdown_grace = absl::Seconds(10);
  absl::Duration backend_deadline = absl::Seconds(10);
  absl::Duration upload_deadline = absl::Seconds(300);  // bulk imports
  absl::Duration key_cache_ttl = absl::Seconds(5);
  int default_rate_per_second = 100;
  int workers = 8;
  int max_queue = 4096;
  int http_threads = 2;
  int max_streams_per_tenant = 16;  // relayed gRPC streams open at once per tenant
  // CRM_IDEMPOTENCY_KEY_TTL: how long an admin write's request_id (and its
  // sealed answer) is kept.
  absl::Duration idempotency_key_ttl = absl::Hours(24);

  std::string ToRedactedString() const;
};

absl::StatusOr<Config> LoadConfig();

}  // namespace crm::gateway
