#pragma once
// A part of an answer that another engine supplies (a section of the 360
// view, the visit in a ticket's context): when that engine's answer is
// missing, the rest is still answered and the part says why, in terms a
// client can act on.
#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace crm::common {

struct SectionStatus {
  absl::StatusCode code = absl::StatusCode::kUnavailable;
  std::string reason;   // an ErrorReason name
  std::string message;  // client-safe: what happened, what to do
  bool retryable = false;
};

// The state of a part whose engine answered `s` (not OK): DEADLINE_EXCEEDED
// or UNAVAILABLE (also for RESOURCE_EXHAUSTED, ABORTED, CANCELLED) with
// DEPENDENCY_UNAVAILABLE, retryable; UNIMPLEMENTED (an older engine), not
// retryable; anything else INTERNAL INTERNAL_ERROR: a refusal of our own
// request is not the client's to fix.
SectionStatus SectionStatusOf(const absl::Status& s, absl::string_view engine);

}  // namespace crm::common
