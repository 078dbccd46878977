#pragma once
// If-Match for updates: an empty if_match means "last writer wins".
#include <string>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "libs/common/errors.h"

namespace crm::common {

// ABORTED (ETAG_MISMATCH) when `if_match` is set and is not `etag`; `what`
// names the resource ("lead").
inline absl::Status CheckEtag(absl::string_view what, const std::string& etag,
                              const std::string& if_match) {
  if (if_match.empty() || if_match == etag) return absl::OkStatus();
  return WithReason(
      absl::AbortedError(absl::StrCat("etag does not match: the ", what, " changed since you read it")),
      "ETAG_MISMATCH");
}

}  // namespace crm::common
