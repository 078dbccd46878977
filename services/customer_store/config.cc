#include "services/customer_store/config.h"

#include "libs/common/env.h"
#include "libs/common/status_macros.h"

namespace crm::customer_store {

absl::StatusOr<Config> LoadConfig() {
  Config c;
  CRM_ASSIGN_OR_RETURN(c.service, common::LoadServiceConfig());
  CRM_ASSIGN_OR_RETURN(c.view_cache_ttl, common::EnvDuration("CRM_VIEW_CACHE_TTL", c.view_cache_ttl));
  CRM_ASSIGN_OR_RETURN(c.consumer, common::LoadEventConsumerConfig(4));
  common::PeerDefaults segmentation;
  segmentation.timeout = kDefaultSegmentationTimeout;
  CRM_ASSIGN_OR_RETURN(c.segmentation, common::LoadPeerConfig("segmentation", segmentation));
  CRM_ASSIGN_OR_RETURN(c.view_sections_ttl,
                       common::EnvDuration("CRM_VIEW_SECTIONS_TTL", c.view_sections_ttl));
  CRM_ASSIGN_OR_RETURN(c.retention_check,
                       common::EnvDuration("CRM_BEHAVIOUR_RETENTION_CHECK", c.retention_check));
  return c;
}

void Config::DumpTo(common::ConfigDump& dump) const {
  service.DumpTo(dump);
  dump.Add("view_cache_ttl", view_cache_ttl);
  consumer.DumpTo(dump);
  segmentation.DumpTo(dump);
  dump.Add("view_sections_ttl", view_sections_ttl);
  dump.Add("behaviour_retention_check", retention_check);
}

}  // namespace crm::customer_store
