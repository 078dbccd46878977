#pragma once
// The segmentation service's own settings (beyond common::ServiceConfig and
// its event consumer, which main reads with the shared loaders).
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "libs/common/env.h"

namespace crm::segmentation {

// The scheduled refit of lifetime-value models: CRM_CLV_REFIT_AFTER (a
// tenant's model older than this is refitted as of today with its own
// settings; default 24h, 0 turns scheduled refits off) and
// CRM_CLV_REFIT_CHECK (how often the service looks for such models; default
// 10m).
struct RefitScheduleConfig {
  absl::Duration refit_after = absl::Hours(24);
  absl::Duration check_every = absl::Minutes(10);
  void DumpTo(common::ConfigDump& dump) const;
};
absl::StatusOr<RefitScheduleConfig> LoadRefitScheduleConfig();

// Live segments: CRM_SEGMENT_TICK (how often due time-driven changes are
// looked for; default 1s, 10ms..1m) and CRM_SEGMENT_REFRESH (how old a
// tenant's features context, i.e. its model and RFM breakpoints, may get
// before everyone is re-evaluated against a fresh one; default 1h, >= 1m).
struct LiveSegmentsConfig {
  absl::Duration tick = absl::Seconds(1);
  absl::Duration refresh_every = absl::Hours(1);
  void DumpTo(common::ConfigDump& dump) const;
};

absl::StatusOr<LiveSegmentsConfig> LoadLiveSegmentsConfig();

}  // namespace crm::segmentation
