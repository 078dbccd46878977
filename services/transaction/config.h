#pragma once
// The transaction service's own settings (beyond common::ServiceConfig,
// its peer and its event consumer, which main reads with the shared loaders).
#include "absl/status/statusor.h"
#include "libs/common/env.h"
#include "services/transaction/app/known_customers.h"

namespace crm::transaction {

// The cache of customers customer-store confirmed (app::KnownCustomers):
// CRM_CUSTOMER_CACHE_SIZE (entries, 0..10,000,000, default 100,000; 0 turns
// it off) and CRM_CUSTOMER_CACHE_TTL (default 5m).
struct CustomerCacheConfig {
  app::KnownCustomersOptions options;
  void DumpTo(common::ConfigDump& dump) const;
};
absl::StatusOr<CustomerCacheConfig> LoadCustomerCacheConfig();

}  // namespace crm::transaction
