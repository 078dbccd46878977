#include "libs/grpcutil/status_conversion.h"

#include "absl/strings/str_cat.h"
#include "google/rpc/error_details.pb.h"
#include "google/rpc/status.pb.h"
#include "libs/common/errors.h"

namespace crm::grpcutil {

grpc::Status ToGrpcStatus(const absl::Status& s) {
  if (s.ok()) return grpc::Status::OK;
  std::string reason = common::ReasonOf(s);
  std::string field = common::FieldOf(s);
  std::string message(s.message());
  if (reason.empty() && s.code() == absl::StatusCode::kInternal) reason = "INTERNAL_ERROR";
  if (reason.empty() && s.code() == absl::StatusCode::kUnavailable) reason = "DEPENDENCY_UNAVAILABLE";
  if (reason.empty()) return grpc::Status(static_cast<grpc::StatusCode>(s.code()), message);
  google::rpc::Status details;
  details.set_code(static_cast<int>(s.code()));
  details.set_message(message);
  google::rpc::ErrorInfo info;
  info.set_reason(reason);
  info.set_domain("crm");
  if (!field.empty()) (*info.mutable_metadata())["field"] = field;
  details.add_details()->PackFrom(info);
  return grpc::Status(static_cast<grpc::StatusCode>(s.code()), message,
                      details.SerializeAsString());
}

absl::Status FromGrpcStatus(const grpc::Status& s) {
  if (s.ok()) return absl::OkStatus();
  absl::Status out(static_cast<absl::StatusCode>(s.error_code()), s.error_message());
  google::rpc::Status details;
  if (!s.error_details().empty() && details.ParseFromString(s.error_details())) {
    for (const auto& any : details.details()) {
      google::rpc::ErrorInfo info;
      if (any.UnpackTo(&info)) {
        out = common::WithReason(out, info.reason());
        auto it = info.metadata().find("field");
        if (it != info.metadata().end()) out = common::WithField(out, it->second);
      }
    }
  }
  return out;
}

absl::Status RemapDependencyError(const absl::Status& s, bool caller_named_resource) {
  switch (s.code()) {
    case absl::StatusCode::kOk:
    case absl::StatusCode::kUnavailable:
    case absl::StatusCode::kDeadlineExceeded:
    case absl::StatusCode::kResourceExhausted:
      return s;
    case absl::StatusCode::kInvalidArgument:
      return common::WithReason(absl::InternalError("internal error"), "INTERNAL_ERROR");
    case absl::StatusCode::kNotFound:
      return caller_named_resource ? s : absl::FailedPreconditionError(s.message());
    default:
      return s;
  }
}

}  // namespace crm::grpcutil
