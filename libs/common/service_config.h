#pragma once
// Configuration every backend service shares (CRM_* environment variables),
// validated once, with a redacted dump for the start-up log.
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "libs/common/env.h"

namespace crm::common {

struct ServiceConfig {
  std::string bind_host = "127.0.0.1";  // every listener: gRPC and metrics
  int grpc_port = 50051;
  int metrics_port = 9464;
  std::string pg_dsn;  // secret
  int pg_pool_size = 16;
  std::string redis_addr = "127.0.0.1:6379";
  int redis_pool_size = 16;
  int workers = 16;
  int max_queue = 2048;
  std::string page_token_secret;  // secret
  std::string context_key;        // secret: seals/verifies the tenant context
  absl::Duration shutdown_grace = absl::Seconds(10);
  bool relay_enabled = true;
  bool consumers_enabled = true;  // CRM_EVENT_CONSUMERS: consume domain events here
  int event_partitions = 8;
  // CRM_IDEMPOTENCY_KEY_TTL: how long a request_id is remembered (>= 24h).
  absl::Duration idempotency_key_ttl = absl::Hours(24);
  // False for a service with no outbox and no event consumers (the gateway):
  // CRM_OUTBOX_RELAY, CRM_EVENT_CONSUMERS and CRM_EVENT_PARTITIONS are
  // neither read nor logged, and the runtime runs no outbox relay (its
  // idempotency keys still expire and are purged).
  bool outbox = true;

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

// CRM_BIND_HOST CRM_GRPC_PORT (0: a free port) CRM_METRICS_PORT CRM_PG_DSN
// (required) CRM_PG_POOL_SIZE CRM_REDIS_ADDR CRM_REDIS_POOL_SIZE CRM_WORKERS
// CRM_MAX_QUEUE CRM_PAGE_TOKEN_SECRET (required, >= 16 characters)
// CRM_CONTEXT_KEY (required, >= 32 characters) CRM_SHUTDOWN_GRACE and, when
// defaults.outbox, CRM_OUTBOX_RELAY CRM_EVENT_CONSUMERS CRM_EVENT_PARTITIONS
// CRM_IDEMPOTENCY_KEY_TTL (a duration, at least 24h). A variable that is not
// set keeps its value in `defaults`.
absl::StatusOr<ServiceConfig> LoadServiceConfig(const ServiceConfig& defaults = ServiceConfig());

// A gRPC peer a service calls, named as its binary and k8s objects are
// ("customer-store"), from CRM_<PEER>_ADDR and CRM_<PEER>_TIMEOUT (the name
// in upper case, '-' as '_': CRM_CUSTOMER_STORE_ADDR).
struct PeerConfig {
  std::string peer;  // "customer-store"
  std::string addr;  // a gRPC target: "customer-store:50051"
  absl::Duration timeout;
  // customer_store_addr=... customer_store_timeout=...
  void DumpTo(ConfigDump& dump) const;
};
struct PeerDefaults {
  std::string addr;  // "": CRM_<PEER>_ADDR is required
  absl::Duration timeout = absl::Seconds(2);
};
// CRM_<PEER>_ADDR (required unless defaults.addr is set; no white space) and
// CRM_<PEER>_TIMEOUT (a positive duration such as 500ms) of `peer`
// (lower-case kebab: "customer-store"). INVALID_ARGUMENT names the variable.
absl::StatusOr<PeerConfig> LoadPeerConfig(absl::string_view peer,
                                          const PeerDefaults& defaults = PeerDefaults());

// CRM_BIND_HOST: the address every listener binds, an IPv4 or IPv6 literal;
// 127.0.0.1 unless set (containers set 0.0.0.0).
absl::StatusOr<std::string> LoadBindHost();
// CRM_CONTEXT_KEY: required, at least 32 characters.
absl::StatusOr<std::string> LoadContextKey();
// CRM_IDEMPOTENCY_KEY_TTL: a duration of at least 24h, 24h unless set.
absl::StatusOr<absl::Duration> LoadIdempotencyKeyTtl();
// "host:port", with brackets around an IPv6 host.
std::string ListenAddress(absl::string_view host, int port);

}  // namespace crm::common
