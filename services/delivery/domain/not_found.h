#pragma once
// The delivery engine's NOT_FOUND answers, one wording for the use cases,
// the repository and the fakes (another tenant's resource reads the same).
#include <string>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "libs/common/errors.h"

namespace crm::delivery::domain {

inline absl::Status MessageNotFound(const std::string& id) {
  return common::NotFound("MESSAGE_NOT_FOUND", absl::StrCat("message ", id, " not found"));
}
inline absl::Status EndpointNotFound(const std::string& id) {
  return common::NotFound("WEBHOOK_ENDPOINT_NOT_FOUND",
                          absl::StrCat("webhook endpoint ", id, " not found"));
}
inline absl::Status CampaignNotFound(const std::string& id) {
  return common::NotFound("CAMPAIGN_NOT_FOUND", absl::StrCat("campaign ", id, " not found"));
}
inline absl::Status JourneyNotFound(const std::string& id) {
  return common::NotFound("JOURNEY_NOT_FOUND", absl::StrCat("journey ", id, " not found"));
}
inline absl::Status SuppressionNotFound(absl::string_view address) {
  return common::NotFound("SUPPRESSION_NOT_FOUND",
                          absl::StrCat(address, " is not on the suppression list"));
}
inline absl::Status ProviderNotFound(absl::string_view channel) {
  return common::NotFound("CHANNEL_PROVIDER_NOT_FOUND",
                          absl::StrCat("no ", channel, " provider is configured"));
}

}  // namespace crm::delivery::domain
