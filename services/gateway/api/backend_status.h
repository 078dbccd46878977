#pragma once
// What the client sees of a backend's answer: the backend's status with its
// reason trailer, transport failures stripped of internal detail, and the
// gateway's own refusals in the same shape.
#include <grpcpp/grpcpp.h>

#include <string>

#include "absl/status/status.h"
#include "services/gateway/api/call_metadata.h"

namespace crm::gateway::api {

// A backend status as the client may see it: transport failures (no
// ErrorInfo) lose their message, which names internal addresses. A backend's
// UNIMPLEMENTED without ErrorInfo for a method the gateway routes means the
// backend could not parse the request (gRPC's callback server answers so):
// INVALID_ARGUMENT (MALFORMED_REQUEST).
// `reason` gets the reason of a status made here (MALFORMED_REQUEST).
grpc::Status SanitizeBackendStatus(const grpc::Status& s, std::string* reason);

// The crm-error-reason trailer of a finished backend call ("" if none).
std::string ReasonTrailerOf(const grpc::ClientContext& ctx);

// A finished unary (or collected-stream) backend call as a ForwardResult:
// the reason trailer and the sanitized status go into `r`.
void SetBackendOutcome(const grpc::ClientContext& ctx, const grpc::Status& s, ForwardResult* r);

// Finishes with a gateway-side error as a ForwardResult.
ForwardResult ErrorResult(const absl::Status& s);

}  // namespace crm::gateway::api
