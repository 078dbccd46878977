#include "libs/common/errors.h"

#include "absl/strings/cord.h"

namespace crm::common {

absl::Status WithReason(absl::Status s, absl::string_view reason) {
  s.SetPayload(kReasonPayloadUrl, absl::Cord(reason));
  return s;
}
absl::Status WithField(absl::Status s, absl::string_view field) {
  s.SetPayload(kFieldPayloadUrl, absl::Cord(field));
  return s;
}
std::string ReasonOf(const absl::Status& s) {
  auto p = s.GetPayload(kReasonPayloadUrl);
  return p ? std::string(*p) : std::string();
}
std::string FieldOf(const absl::Status& s) {
  auto p = s.GetPayload(kFieldPayloadUrl);
  return p ? std::string(*p) : std::string();
}
absl::Status InvalidField(absl::string_view field, absl::string_view message) {
  return WithField(WithReason(absl::InvalidArgumentError(message), "INVALID_FIELD"), field);
}
absl::Status NotFound(absl::string_view reason, absl::string_view message) {
  return WithReason(absl::NotFoundError(message), reason);
}

}  // namespace crm::common
