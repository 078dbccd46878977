#pragma once
// absl::Status -> HTTP status + the google.rpc.Status-shaped JSON error body:
// {"error":{"code":404,"message":"...","status":"NOT_FOUND","details":[
//   {"@type":"type.googleapis.com/google.rpc.ErrorInfo","reason":"...","domain":"crm",
//    "metadata":{"field":"..."}}]}}
#include <string>

#include "absl/status/status.h"

namespace crm::gateway::api {

inline constexpr const char* kReasonBodyTooLarge = "BODY_TOO_LARGE";
inline constexpr const char* kReasonHeadersTooLarge = "HEADERS_TOO_LARGE";
inline constexpr const char* kReasonMalformedRequest = "MALFORMED_REQUEST";
inline constexpr const char* kReasonUnsupportedMediaType = "UNSUPPORTED_MEDIA_TYPE";
inline constexpr const char* kReasonEtagMismatch = "ETAG_MISMATCH";

// The google.rpc.Code -> HTTP table of CONVENTIONS.md (OK 200, CANCELLED 499, ...).
int HttpStatusFor(absl::StatusCode code);

// Like HttpStatusFor(status.code()), but a few reasons have their own HTTP status:
// METHOD_NOT_ALLOWED 405, ETAG_MISMATCH 412 (RFC 9110 Precondition Failed: a
// stale If-Match or etag; gRPC keeps ABORTED), BODY_TOO_LARGE 413,
// UNSUPPORTED_MEDIA_TYPE 415, IDEMPOTENCY_KEY_REUSED 422, HEADERS_TOO_LARGE 431.
int HttpStatusForError(const absl::Status& status);

// The JSON body for `status`; "code" is HttpStatusForError(status).
std::string ErrorJson(const absl::Status& status);
// Same with an explicit HTTP status in "code".
std::string ErrorJson(const absl::Status& status, int http_status);

}  // namespace crm::gateway::api
