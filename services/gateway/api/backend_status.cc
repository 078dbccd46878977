#include "services/gateway/api/backend_status.h"

#include "libs/common/errors.h"
#include "libs/grpcutil/rpc_metrics.h"
#include "libs/grpcutil/status_conversion.h"
#include "libs/observability/log.h"

namespace crm::gateway::api {

grpc::Status SanitizeBackendStatus(const grpc::Status& s, std::string* reason) {
  // Our services always attach an ErrorInfo; a status without one comes from
  // the transport (backend down, reset, timeout) and its message names
  // internal addresses: keep the code, log the detail, answer generically.
  if (s.ok() || !s.error_details().empty()) return s;
  if (s.error_code() == grpc::StatusCode::UNIMPLEMENTED) {
    *reason = "MALFORMED_REQUEST";
    return grpcutil::ToGrpcStatus(common::WithReason(
        absl::InvalidArgumentError(
            "the request message could not be parsed: malformed protobuf bytes, a string "
            "field that is not valid UTF-8, or nesting deeper than 100 levels"),
        "MALFORMED_REQUEST"));
  }
  switch (s.error_code()) {
    case grpc::StatusCode::UNAVAILABLE:
    case grpc::StatusCode::DEADLINE_EXCEEDED:
    case grpc::StatusCode::CANCELLED:
    case grpc::StatusCode::RESOURCE_EXHAUSTED:
    case grpc::StatusCode::UNKNOWN:
    case grpc::StatusCode::INTERNAL:
      break;
    default:
      return s;
  }
  CRM_LOG(Warning).Field("code", grpcutil::CodeName(s.error_code()))
      << "backend call failed: " << s.error_message();
  switch (s.error_code()) {
    case grpc::StatusCode::UNAVAILABLE:
      return grpc::Status(s.error_code(), "service unavailable, retry later");
    case grpc::StatusCode::DEADLINE_EXCEEDED:
      return grpc::Status(s.error_code(), "the service did not answer in time");
    case grpc::StatusCode::CANCELLED:
      return grpc::Status(s.error_code(), "call cancelled");
    case grpc::StatusCode::RESOURCE_EXHAUSTED:
      return grpc::Status(s.error_code(), "request or response too large, or service overloaded");
    case grpc::StatusCode::UNKNOWN:
    case grpc::StatusCode::INTERNAL:
      return grpc::Status(grpc::StatusCode::INTERNAL, "internal error");
    default:
      return s;  // our own refusals without a reason (e.g. ABORTED "retry"): messages are ours
  }
}

std::string ReasonTrailerOf(const grpc::ClientContext& ctx) {
  const auto& trailers = ctx.GetServerTrailingMetadata();
  auto it = trailers.find(grpcutil::kReasonTrailer);
  return it == trailers.end() ? std::string() : std::string(it->second.data(), it->second.size());
}

void SetBackendOutcome(const grpc::ClientContext& ctx, const grpc::Status& s, ForwardResult* r) {
  r->reason = ReasonTrailerOf(ctx);
  r->status = SanitizeBackendStatus(s, &r->reason);
}

ForwardResult ErrorResult(const absl::Status& s) {
  ForwardResult r;
  r.status = grpcutil::ToGrpcStatus(s);
  r.reason = common::ReasonOf(s);
  return r;
}

}  // namespace crm::gateway::api
