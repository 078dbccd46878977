#include "services/segmentation/config.h"

#include "libs/common/errors.h"
#include "libs/common/status_macros.h"

namespace crm::segmentation {

absl::StatusOr<RefitScheduleConfig> LoadRefitScheduleConfig() {
  RefitScheduleConfig c;
  CRM_ASSIGN_OR_RETURN(c.refit_after, common::EnvDuration("CRM_CLV_REFIT_AFTER", c.refit_after));
  CRM_ASSIGN_OR_RETURN(c.check_every, common::EnvDuration("CRM_CLV_REFIT_CHECK", c.check_every));
  if (c.refit_after < absl::ZeroDuration()) {
    return absl::InvalidArgumentError("CRM_CLV_REFIT_AFTER must be >= 0 (0 turns it off)");
  }
  if (c.check_every < absl::Seconds(1)) {
    return absl::InvalidArgumentError("CRM_CLV_REFIT_CHECK must be at least 1s");
  }
  return c;
}

void RefitScheduleConfig::DumpTo(common::ConfigDump& dump) const {
  dump.Add("clv_refit_after", refit_after).Add("clv_refit_check", check_every);
}

absl::StatusOr<LiveSegmentsConfig> LoadLiveSegmentsConfig() {
  LiveSegmentsConfig c;
  CRM_ASSIGN_OR_RETURN(c.tick, common::EnvDuration("CRM_SEGMENT_TICK", c.tick));
  CRM_ASSIGN_OR_RETURN(c.refresh_every,
                       common::EnvDuration("CRM_SEGMENT_REFRESH", c.refresh_every));
  if (c.tick < absl::Milliseconds(10) || c.tick > absl::Minutes(1)) {
    return absl::InvalidArgumentError("CRM_SEGMENT_TICK must be between 10ms and 1m");
  }
  if (c.refresh_every < absl::Minutes(1)) {
    return absl::InvalidArgumentError("CRM_SEGMENT_REFRESH must be at least 1m");
  }
  return c;
}

void LiveSegmentsConfig::DumpTo(common::ConfigDump& dump) const {
  dump.Add("segment_tick", tick).Add("segment_refresh", refresh_every);
}

}  // namespace crm::segmentation
