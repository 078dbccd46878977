#include "libs/common/service_config.h"

#include <arpa/inet.h>
#include <unistd.h>

#include <cstdio>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "libs/common/context_seal.h"
#include "libs/common/status_macros.h"

namespace crm::common {

absl::StatusOr<std::string> LoadBindHost() {
  CRM_ASSIGN_OR_RETURN(std::string host, EnvString("CRM_BIND_HOST", "127.0.0.1"));
  unsigned char buf[sizeof(struct in6_addr)];
  if (inet_pton(AF_INET, host.c_str(), buf) != 1 && inet_pton(AF_INET6, host.c_str(), buf) != 1) {
    return absl::InvalidArgumentError(
        "CRM_BIND_HOST must be an IPv4 or IPv6 address such as 127.0.0.1 or 0.0.0.0");
  }
  return host;
}

absl::StatusOr<std::string> LoadContextKey() {
  CRM_ASSIGN_OR_RETURN(std::string key, EnvRequired("CRM_CONTEXT_KEY"));
  if (key.size() < kMinContextKeyBytes) {
    return absl::InvalidArgumentError(
        absl::StrCat("CRM_CONTEXT_KEY must be at least ", kMinContextKeyBytes,
                     " characters (the same value in the gateway and every service)"));
  }
  return key;
}

absl::StatusOr<absl::Duration> LoadIdempotencyKeyTtl() {
  CRM_ASSIGN_OR_RETURN(absl::Duration ttl, EnvDuration("CRM_IDEMPOTENCY_KEY_TTL", absl::Hours(24)));
  if (ttl < absl::Hours(24)) {
    return absl::InvalidArgumentError(
        "CRM_IDEMPOTENCY_KEY_TTL must be at least 24h: clients retry a request for a day");
  }
  return ttl;
}

std::string ListenAddress(absl::string_view host, int port) {
  if (host.find(':') != absl::string_view::npos) return absl::StrCat("[", host, "]:", port);
  return absl::StrCat(host, ":", port);
}

absl::StatusOr<ServiceConfig> LoadServiceConfig(const ServiceConfig& defaults) {
  ServiceConfig c = defaults;
  auto int_env = [](const char* name, int def, int min, int max) -> absl::StatusOr<int> {
    CRM_ASSIGN_OR_RETURN(int64_t v, EnvInt(name, def, min, max));
    return static_cast<int>(v);
  };
  CRM_ASSIGN_OR_RETURN(c.bind_host, LoadBindHost());
  CRM_ASSIGN_OR_RETURN(c.grpc_port, int_env("CRM_GRPC_PORT", c.grpc_port, 0, 65535));
  CRM_ASSIGN_OR_RETURN(c.metrics_port, int_env("CRM_METRICS_PORT", c.metrics_port, 0, 65535));
  CRM_ASSIGN_OR_RETURN(c.pg_dsn, EnvRequired("CRM_PG_DSN"));
  CRM_ASSIGN_OR_RETURN(c.pg_pool_size, int_env("CRM_PG_POOL_SIZE", c.pg_pool_size, 1, 256));
  CRM_ASSIGN_OR_RETURN(c.redis_addr, EnvString("CRM_REDIS_ADDR", c.redis_addr));
  CRM_ASSIGN_OR_RETURN(c.redis_pool_size,
                       int_env("CRM_REDIS_POOL_SIZE", c.redis_pool_size, 1, 256));
  CRM_ASSIGN_OR_RETURN(c.workers, int_env("CRM_WORKERS", c.workers, 1, 512));
  CRM_ASSIGN_OR_RETURN(c.max_queue, int_env("CRM_MAX_QUEUE", c.max_queue, 1, 1000000));
  CRM_ASSIGN_OR_RETURN(c.page_token_secret, EnvRequired("CRM_PAGE_TOKEN_SECRET"));
  if (c.page_token_secret.size() < 16) {
    return absl::InvalidArgumentError("CRM_PAGE_TOKEN_SECRET must be at least 16 characters");
  }
  CRM_ASSIGN_OR_RETURN(c.context_key, LoadContextKey());
  CRM_ASSIGN_OR_RETURN(c.shutdown_grace, EnvDuration("CRM_SHUTDOWN_GRACE", c.shutdown_grace));
  CRM_ASSIGN_OR_RETURN(c.idempotency_key_ttl, LoadIdempotencyKeyTtl());
  if (!c.outbox) return c;
  CRM_ASSIGN_OR_RETURN(c.relay_enabled, EnvBool("CRM_OUTBOX_RELAY", c.relay_enabled));
  CRM_ASSIGN_OR_RETURN(c.consumers_enabled,
                       EnvBool("CRM_EVENT_CONSUMERS", c.consumers_enabled));
  CRM_ASSIGN_OR_RETURN(c.event_partitions,
                       int_env("CRM_EVENT_PARTITIONS", c.event_partitions, 1, 1024));
  return c;
}

void ServiceConfig::DumpTo(ConfigDump& d) const {
  d.Add("bind_host", bind_host)
      .Add("grpc_port", int64_t{grpc_port})
      .Add("metrics_port", int64_t{metrics_port})
      .AddSecret("pg_dsn", pg_dsn)
      .Add("pg_pool_size", int64_t{pg_pool_size})
      .Add("redis_addr", redis_addr)
      .Add("redis_pool_size", int64_t{redis_pool_size})
      .Add("workers", int64_t{workers})
      .Add("max_queue", int64_t{max_queue})
      .Add("page_token_secret", std::string("***"))
      .Add("context_key", std::string("***"))
      .Add("shutdown_grace", shutdown_grace)
      .Add("idempotency_key_ttl", idempotency_key_ttl);
  if (!outbox) return;
  d.Add("outbox_relay", std::string(relay_enabled ? "on" : "off"))
      .Add("event_consumers", std::string(consumers_enabled ? "on" : "off"))
      .Add("event_partitions", int64_t{event_partitions});
}

absl::StatusOr<PeerConfig> LoadPeerConfig(absl::string_view peer, const PeerDefaults& defaults) {
  if (peer.empty() || !absl::ascii_islower(peer.front()) ||
      peer.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789-") != absl::string_view::npos) {
    return absl::InvalidArgumentError(
        absl::StrCat("peer name '", peer, "' must be lower-case kebab, such as customer-store"));
  }
  PeerConfig c;
  c.peer = std::string(peer);
  const std::string stem = absl::StrReplaceAll(absl::AsciiStrToUpper(peer), {{"-", "_"}});
  const std::string addr_var = absl::StrCat("CRM_", stem, "_ADDR");
  const std::string timeout_var = absl::StrCat("CRM_", stem, "_TIMEOUT");
  if (defaults.addr.empty()) {
    CRM_ASSIGN_OR_RETURN(c.addr, EnvRequired(addr_var.c_str()));
  } else {
    CRM_ASSIGN_OR_RETURN(c.addr, EnvString(addr_var.c_str(), defaults.addr));
  }
  if (c.addr.find_first_of(" \t\r\n") != std::string::npos) {
    return absl::InvalidArgumentError(absl::StrCat(
        addr_var, " must be a gRPC target such as host:port, without white space, got '", c.addr,
        "'"));
  }
  CRM_ASSIGN_OR_RETURN(c.timeout, EnvDuration(timeout_var.c_str(), defaults.timeout));
  if (c.timeout <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError(
        absl::StrCat(timeout_var, " must be a positive duration such as 500ms or 2s"));
  }
  return c;
}

void PeerConfig::DumpTo(ConfigDump& d) const {
  const std::string prefix = absl::StrReplaceAll(peer, {{"-", "_"}});
  d.Add(absl::StrCat(prefix, "_addr"), addr).Add(absl::StrCat(prefix, "_timeout"), timeout);
}

absl::StatusOr<EventConsumerConfig> LoadEventConsumerConfig(int default_workers) {
  EventConsumerConfig c;
  char host[256] = {0};
  if (gethostname(host, sizeof host - 1) != 0 || host[0] == '\0') {
    snprintf(host, sizeof host, "consumer");
  }
  CRM_ASSIGN_OR_RETURN(c.consumer_name, EnvString("CRM_CONSUMER_NAME", host));
  CRM_ASSIGN_OR_RETURN(int64_t workers, EnvInt("CRM_CONSUMER_WORKERS", default_workers, 1, 64));
  c.workers = static_cast<int>(workers);
  return c;
}

void EventConsumerConfig::DumpTo(ConfigDump& d) const {
  d.Add("consumer_name", consumer_name).Add("consumer_workers", int64_t{workers});
}

}  // namespace crm::common
