#pragma once
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace crm::customer_store {

struct Config {
  int grpc_port = 50051;
  int metrics_port = 9464;
  std::string pg_dsn;  // secret
  int pg_pool_size = 16;
  std::string redis_addr = "127.0.0.1:6379";
  int redis_pool_size = 16;
  int workers = 16;
  int max_queue = 2048;
  absl::Duration view_cache_ttl = absl::Seconds(60);
  std::string page_token_secret;  // secret
  absl::Duration shutdown_grace = absl::Seconds(10);
  bool relay_enabled = true;
  int event_partitions = 8;

  std::string ToRedactedString() const;
};

// From CRM_* environment variables; validated once.
absl::StatusOr<Config> LoadConfig();

}  // namespace crm::customer_store
