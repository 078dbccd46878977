#include "services/customer_store/config.h"

#include "libs/common/env.h"
#include "libs/common/status_macros.h"

namespace crm::customer_store {

absl::StatusOr<Config> LoadConfig() {
  Config c;
  CRM_ASSIGN_OR_RETURN(c.service, common::LoadServiceConfig());
  CRM_ASSIGN_OR_RETURN(c.view_cache_ttl, common::EnvDuration("CRM_VIEW_CACHE_TTL", c.view_cache_ttl));
  CRM_ASSIGN_OR_RETURN(c.consumer, common::LoadEventConsumerConfig(4));
  return c;
}

std::string Config::ToRedactedString() const {
  common::ConfigDump dump;
  service.DumpTo(dump);
  dump.Add("view_cache_ttl", view_cache_ttl);
  consumer.DumpTo(dump);
  return dump.ToString();
}

}  // namespace crm::customer_store
