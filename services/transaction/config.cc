#include "services/transaction/config.h"

#include "libs/common/status_macros.h"

namespace crm::transaction {

absl::StatusOr<CustomerCacheConfig> LoadCustomerCacheConfig() {
  CustomerCacheConfig c;
  CRM_ASSIGN_OR_RETURN(int64_t size, common::EnvInt("CRM_CUSTOMER_CACHE_SIZE",
                                                    static_cast<int64_t>(c.options.capacity), 0,
                                                    10000000));
  c.options.capacity = static_cast<size_t>(size);
  CRM_ASSIGN_OR_RETURN(c.options.ttl, common::EnvDuration("CRM_CUSTOMER_CACHE_TTL", c.options.ttl));
  return c;
}

void CustomerCacheConfig::DumpTo(common::ConfigDump& dump) const {
  dump.Add("customer_cache_size", static_cast<int64_t>(options.capacity))
      .Add("customer_cache_ttl", options.ttl);
}

}  // namespace crm::transaction
