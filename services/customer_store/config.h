#pragma once
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "libs/common/service_config.h"

namespace crm::customer_store {

inline constexpr absl::Duration kDefaultSegmentationTimeout = absl::Milliseconds(300);

struct Config {
  common::ServiceConfig service;  // ports, datastores, executor, secrets, relay
  absl::Duration view_cache_ttl = absl::Seconds(60);
  // Order events: CRM_CONSUMER_NAME, CRM_CONSUMER_WORKERS (default 4).
  common::EventConsumerConfig consumer;
  // The segmentation engine, asked for the 360 view's scores and segments:
  // CRM_SEGMENTATION_ADDR (required), CRM_SEGMENTATION_TIMEOUT (the deadline
  // of each call, default 300ms; a section whose call misses it is left out
  // of the view with its status).
  common::PeerConfig segmentation;
  // CRM_VIEW_SECTIONS_TTL (default 5s; 0 = ask on every read): how long a
  // replica reuses the engine's definitive answer for a customer's scores and
  // segments sections (app/insights_cache.h).
  absl::Duration view_sections_ttl = absl::Seconds(5);
  // CRM_BEHAVIOUR_RETENTION_CHECK (default 1h; 0 = no retention job in
  // this process): how often the behaviour retention job runs a round.
  absl::Duration retention_check = absl::Hours(1);

  // Secrets masked (service::Boot logs it at start-up).
  void DumpTo(common::ConfigDump& dump) const;
};

// From CRM_* environment variables (plus CRM_VIEW_CACHE_TTL and the
// segmentation peer); validated once.
absl::StatusOr<Config> LoadConfig();

}  // namespace crm::customer_store
