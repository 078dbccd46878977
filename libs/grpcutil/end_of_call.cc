#include "libs/grpcutil/end_of_call.h"

#include <chrono>
#include <string>

#include "libs/common/errors.h"
#include "libs/grpcutil/status_conversion.h"
#include "libs/grpcutil/unary.h"

namespace crm::grpcutil {

absl::Status OverloadedError() {
  return common::WithReason(absl::ResourceExhaustedError("server overloaded, retry later"),
                            "OVERLOADED");
}

absl::Status ClientGoneError() { return absl::CancelledError("call cancelled by the client"); }

absl::Status UnexpectedError() {
  return common::WithReason(absl::InternalError("internal error"), "INTERNAL_ERROR");
}

bool CallAbandoned(const grpc::CallbackServerContext& ctx) {
  return ctx.IsCancelled() || ctx.deadline() <= std::chrono::system_clock::now();
}

void LogEscapedException(const char* method, const RequestContext& rc, const std::exception& e) {
  CRM_LOG(Error).Field("rpc", method).Field("request_id", rc.request_id)
      << "unhandled exception: " << observability::ExceptionSummary(e);
}

grpc::Status EndOfCall(grpc::CallbackServerContext* ctx, RpcMetrics& metrics, const char* method,
                       const RequestContext& rc, absl::Time start, const absl::Status& status) {
  if (status.code() == absl::StatusCode::kInternal) {
    CRM_LOG(Error).Field("rpc", method).Field("request_id", rc.request_id) << status.message();
  }
  return EndOfCall(ctx, metrics, method, rc, start, ToGrpcStatus(status), common::ReasonOf(status));
}

grpc::Status EndOfCall(grpc::CallbackServerContext* ctx, RpcMetrics& metrics, const char* method,
                       const RequestContext& rc, absl::Time start, const grpc::Status& status,
                       std::string_view reason) {
  if (!reason.empty()) ctx->AddTrailingMetadata(kReasonTrailer, std::string(reason));
  metrics.Record(method, status, absl::Now() - start, rc, reason);
  return status;
}

void FinishRpc(grpc::CallbackServerContext* ctx, grpc::ServerUnaryReactor* reactor,
               RpcMetrics& metrics, const char* method, const RequestContext& rc,
               absl::Time start, const absl::Status& status) {
  reactor->Finish(EndOfCall(ctx, metrics, method, rc, start, status));
}

}  // namespace crm::grpcutil
