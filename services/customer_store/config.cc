#include "services/customer_store/config.h"

#include <unistd.h>

#include <cstdio>

#include "libs/common/env.h"
#include "libs/common/status_macros.h"

namespace crm::customer_store {

absl::StatusOr<Config> LoadConfig() {
  Config c;
  CRM_ASSIGN_OR_RETURN(c.service, common::LoadServiceConfig());
  CRM_ASSIGN_OR_RETURN(c.view_cache_ttl, common::EnvDuration("CRM_VIEW_CACHE_TTL", c.view_cache_ttl));
  char host[256] = {0};
  if (gethostname(host, sizeof host - 1) != 0 || host[0] == '\0') snprintf(host, sizeof host, "customer-store");
  CRM_ASSIGN_OR_RETURN(c.consumer_name, common::EnvString("CRM_CONSUMER_NAME", host));
  CRM_ASSIGN_OR_RETURN(int64_t workers,
                       common::EnvInt("CRM_CONSUMER_WORKERS", c.consumer_workers, 1, 64));
  c.consumer_workers = static_cast<int>(workers);
  return c;
}

std::string Config::ToRedactedString() const {
  common::ConfigDump dump;
  service.DumpTo(dump);
  dump.Add("view_cache_ttl", view_cache_ttl);
  dump.Add("consumer_name", consumer_name);
  dump.Add("consumer_workers", int64_t{consumer_workers});
  return dump.ToString();
}

}  // namespace crm::customer_store
