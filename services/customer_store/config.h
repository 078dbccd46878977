#pragma once
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "libs/common/service_config.h"

namespace crm::customer_store {

struct Config {
  common::ServiceConfig service;  // ports, datastores, executor, secrets, relay
  absl::Duration view_cache_ttl = absl::Seconds(60);
  // Order events: CRM_CONSUMER_NAME, CRM_CONSUMER_WORKERS (default 4).
  common::EventConsumerConfig consumer;

  // Secrets masked (service::Boot logs it at start-up).
  void DumpTo(common::ConfigDump& dump) const;
};

// From CRM_* environment variables (plus CRM_VIEW_CACHE_TTL); validated once.
absl::StatusOr<Config> LoadConfig();

}  // namespace crm::customer_store
