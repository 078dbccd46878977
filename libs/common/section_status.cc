#include "libs/common/section_status.h"

#include "absl/strings/str_cat.h"

namespace crm::common {

SectionStatus SectionStatusOf(const absl::Status& s, absl::string_view engine) {
  SectionStatus out;
  switch (s.code()) {
    case absl::StatusCode::kDeadlineExceeded:
      out.code = absl::StatusCode::kDeadlineExceeded;
      out.reason = "DEPENDENCY_UNAVAILABLE";
      out.message =
          absl::StrCat("the ", engine, " engine did not answer in time; read it again later");
      out.retryable = true;
      break;
    case absl::StatusCode::kUnavailable:
    case absl::StatusCode::kResourceExhausted:
    case absl::StatusCode::kAborted:
    case absl::StatusCode::kCancelled:
      out.code = absl::StatusCode::kUnavailable;
      out.reason = "DEPENDENCY_UNAVAILABLE";
      out.message =
          absl::StrCat("the ", engine, " engine cannot be reached now; read it again later");
      out.retryable = true;
      break;
    case absl::StatusCode::kUnimplemented:
      out.code = absl::StatusCode::kUnimplemented;
      out.reason = "DEPENDENCY_UNAVAILABLE";
      out.message =
          absl::StrCat("the ", engine, " engine deployed does not serve this section yet");
      out.retryable = false;
      break;
    default:
      // A refusal of our own request (INVALID_ARGUMENT, UNAUTHENTICATED...)
      // or a failure inside the engine: not the client's to fix.
      out.code = absl::StatusCode::kInternal;
      out.reason = "INTERNAL_ERROR";
      out.message =
          absl::StrCat("the ", engine, " engine could not give this section (an internal error)");
      out.retryable = false;
      break;
  }
  return out;
}

}  // namespace crm::common
