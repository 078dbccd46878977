#pragma once
// Configuration every backend service shares (CRM_* environment variables),
// validated once, with a redacted dump for the start-up log.
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "libs/common/env.h"

namespace crm::common {

struct ServiceConfig {
  int grpc_port = 50051;
  int metrics_port = 9464;
  std::string pg_dsn;  // secret
  int pg_pool_size = 16;
  std::string redis_addr = "127.0.0.1:6379";
  int redis_pool_size = 16;
  int workers = 16;
  int max_queue = 2048;
  std::string page_token_secret;  // secret
  absl::Duration shutdown_grace = absl::Seconds(10);
  bool relay_enabled = true;
  int event_partitions = 8;

  // Adds every field (secrets masked) to `dump`.
  void DumpTo(ConfigDump& dump) const;
};

// How a service consumes domain events (libs/events): this replica's name in
// its consumer group (stable across restarts so its pending events are
// picked up again) and how many partitions it handles in parallel.
struct EventConsumerConfig {
  std::string consumer_name;  // CRM_CONSUMER_NAME, default the host name
  int workers = 4;            // CRM_CONSUMER_WORKERS, 1..64
  void DumpTo(ConfigDump& dump) const;
};
absl::StatusOr<EventConsumerConfig> LoadEventConsumerConfig(int default_workers = 4);

// CRM_GRPC_PORT CRM_METRICS_PORT CRM_PG_DSN (required) CRM_PG_POOL_SIZE
// CRM_REDIS_ADDR CRM_REDIS_POOL_SIZE CRM_WORKERS CRM_MAX_QUEUE
// CRM_PAGE_TOKEN_SECRET (required, >= 16 characters) CRM_SHUTDOWN_GRACE
// CRM_OUTBOX_RELAY CRM_EVENT_PARTITIONS.
absl::StatusOr<ServiceConfig> LoadServiceConfig();

}  // namespace crm::common
