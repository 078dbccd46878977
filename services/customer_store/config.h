#pragma once
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "libs/common/service_config.h"

namespace crm::customer_store {

struct Config {
  common::ServiceConfig service;  // ports, datastores, executor, secrets, relay
  absl::Duration view_cache_ttl = absl::Seconds(60);
  // This replica's name in the event consumer group (stable across restarts
  // so its pending events are picked up again): CRM_CONSUMER_NAME, default
  // the host name.
  std::string consumer_name;
  // Event partitions handled in parallel (each partition in order).
  int consumer_workers = 4;

  std::string ToRedactedString() const;
};

// From CRM_* environment variables (plus CRM_VIEW_CACHE_TTL); validated once.
absl::StatusOr<Config> LoadConfig();

}  // namespace crm::customer_store
