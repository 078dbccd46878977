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

}  // namespace crm::segmentation
