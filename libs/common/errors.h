#pragma once
// Error reasons travel inside absl::Status as a payload so the one conversion
// point at the gRPC edge can put them into google.rpc.ErrorInfo and the
// `crm-error-reason` trailer. Reason names are crm.common.v1.ErrorReason
// enum value names (strings here so this header stays proto-free).
#include <string>
#include "absl/strings/string_view.h"

#include "absl/status/status.h"

namespace crm::common {

inline constexpr const char* kReasonPayloadUrl = "crm.reason";
inline constexpr const char* kFieldPayloadUrl = "crm.field";

absl::Status WithReason(absl::Status s, absl::string_view reason);
absl::Status WithField(absl::Status s, absl::string_view field);
std::string ReasonOf(const absl::Status& s);  // "" when none
std::string FieldOf(const absl::Status& s);   // "" when none

// Shorthands for the common cases.
absl::Status InvalidField(absl::string_view field, absl::string_view message);
absl::Status NotFound(absl::string_view reason, absl::string_view message);

}  // namespace crm::common
