#include "services/gateway/api/rest_errors.h"

#include <nlohmann/json.hpp>

#include "libs/common/errors.h"

namespace crm::gateway::api {

int HttpStatusFor(absl::StatusCode code) {
  switch (code) {
    case absl::StatusCode::kOk:
      return 200;
    case absl::StatusCode::kInvalidArgument:
    case absl::StatusCode::kFailedPrecondition:
    case absl::StatusCode::kOutOfRange:
      return 400;
    case absl::StatusCode::kUnauthenticated:
      return 401;
    case absl::StatusCode::kPermissionDenied:
      return 403;
    case absl::StatusCode::kNotFound:
      return 404;
    case absl::StatusCode::kAborted:
    case absl::StatusCode::kAlreadyExists:
      return 409;
    case absl::StatusCode::kResourceExhausted:
      return 429;
    case absl::StatusCode::kCancelled:
      return 499;
    case absl::StatusCode::kUnimplemented:
      return 501;
    case absl::StatusCode::kUnavailable:
      return 503;
    case absl::StatusCode::kDeadlineExceeded:
      return 504;
    case absl::StatusCode::kInternal:
    case absl::StatusCode::kUnknown:
    case absl::StatusCode::kDataLoss:
    default:
      return 500;
  }
}

int HttpStatusForError(const absl::Status& status) {
  const std::string reason = common::ReasonOf(status);
  if (reason == "METHOD_NOT_ALLOWED") return 405;
  if (reason == kReasonEtagMismatch) return 412;
  if (reason == kReasonBodyTooLarge || reason == "ATTACHMENT_TOO_LARGE") return 413;
  if (reason == kReasonUnsupportedMediaType) return 415;
  if (reason == kReasonHeadersTooLarge) return 431;
  if (reason == "IDEMPOTENCY_KEY_REUSED") return 422;  // same key, different body
  return HttpStatusFor(status.code());
}

std::string ErrorJson(const absl::Status& status) {
  return ErrorJson(status, HttpStatusForError(status));
}

std::string ErrorJson(const absl::Status& status, int http_status) {
  nlohmann::ordered_json error;
  error["code"] = http_status;
  error["message"] = std::string(status.message());
  error["status"] = absl::StatusCodeToString(status.code());
  nlohmann::ordered_json details = nlohmann::ordered_json::array();
  const std::string reason = common::ReasonOf(status);
  const std::string field = common::FieldOf(status);
  if (!reason.empty() || !field.empty()) {
    nlohmann::ordered_json info;
    info["@type"] = "type.googleapis.com/google.rpc.ErrorInfo";
    info["reason"] = reason;
    info["domain"] = "crm";
    nlohmann::ordered_json metadata = nlohmann::ordered_json::object();
    if (!field.empty()) metadata["field"] = field;
    info["metadata"] = std::move(metadata);
    details.push_back(std::move(info));
  }
  error["details"] = std::move(details);
  nlohmann::ordered_json root;
  root["error"] = std::move(error);
  // Invalid UTF-8 in a message is replaced rather than thrown on.
  return root.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
}

}  // namespace crm::gateway::api
