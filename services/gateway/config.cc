#include "services/gateway/config.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "libs/common/env.h"
#include "libs/common/status_macros.h"
#include "libs/redis/redis.h"
#include "services/gateway/api/backends.h"

namespace crm::gateway {

absl::StatusOr<Config> LoadConfig() {
  using namespace crm::common;  // NOLINT
  Config c;
  ServiceConfig defaults;
  defaults.pg_pool_size = 8;
  defaults.workers = 8;
  defaults.max_queue = 4096;
  defaults.outbox = false;
  CRM_ASSIGN_OR_RETURN(c.service, LoadServiceConfig(defaults));
  // Checked here so that a bad address is a configuration error (exit 2).
  if (absl::Status s = redis::ParseAddress(c.service.redis_addr).status(); !s.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("CRM_REDIS_ADDR: ", s.message()));
  }
  auto int_env = [](const char* name, int def, int min, int max) -> absl::StatusOr<int> {
    CRM_ASSIGN_OR_RETURN(int64_t v, EnvInt(name, def, min, max));
    return static_cast<int>(v);
  };
  CRM_ASSIGN_OR_RETURN(c.http_port, int_env("CRM_HTTP_PORT", c.http_port, 0, 65535));
  CRM_ASSIGN_OR_RETURN(c.peers, api::LoadGatewayPeers(api::BackendTable()));
  CRM_ASSIGN_OR_RETURN(std::string origins, EnvString("CRM_CORS_ALLOWED_ORIGINS", ""));
  for (absl::string_view o : absl::StrSplit(origins, ',', absl::SkipWhitespace())) {
    c.cors_allowed_origins.insert(std::string(absl::StripAsciiWhitespace(o)));
  }
  CRM_ASSIGN_OR_RETURN(c.max_body_bytes,
                       EnvInt("CRM_MAX_BODY_BYTES", c.max_body_bytes, 1024, 64 << 20));
  CRM_ASSIGN_OR_RETURN(c.max_upload_bytes,
                       EnvInt("CRM_MAX_UPLOAD_BYTES", c.max_upload_bytes, 1024, int64_t{1} << 32));
  CRM_ASSIGN_OR_RETURN(c.backend_deadline, EnvDuration("CRM_BACKEND_DEADLINE", c.backend_deadline));
  CRM_ASSIGN_OR_RETURN(c.upload_deadline, EnvDuration("CRM_UPLOAD_DEADLINE", c.upload_deadline));
  CRM_ASSIGN_OR_RETURN(c.key_cache_ttl, EnvDuration("CRM_KEY_CACHE_TTL", c.key_cache_ttl));
  CRM_ASSIGN_OR_RETURN(c.default_rate_per_second,
                       int_env("CRM_DEFAULT_RATE_LIMIT", c.default_rate_per_second, 1, 1000000));
  CRM_ASSIGN_OR_RETURN(c.http_threads, int_env("CRM_HTTP_THREADS", c.http_threads, 1, 64));
  CRM_ASSIGN_OR_RETURN(c.max_streams_per_tenant,
                       int_env("CRM_MAX_STREAMS_PER_TENANT", c.max_streams_per_tenant, 1, 10000));
  return c;
}

void Config::DumpTo(common::ConfigDump& dump) const {
  service.DumpTo(dump);
  dump.Add("http_port", int64_t{http_port});
  for (const common::PeerConfig& peer : peers) peer.DumpTo(dump);
  dump.Add("cors_allowed_origins", absl::StrJoin(cors_allowed_origins, ","))
      .Add("max_body_bytes", max_body_bytes)
      .Add("max_upload_bytes", max_upload_bytes)
      .Add("backend_deadline", backend_deadline)
      .Add("upload_deadline", upload_deadline)
      .Add("key_cache_ttl", key_cache_ttl)
      .Add("default_rate_limit", int64_t{default_rate_per_second})
      .Add("http_threads", int64_t{http_threads})
      .Add("max_streams_per_tenant", int64_t{max_streams_per_tenant});
}

}  // namespace crm::gateway
