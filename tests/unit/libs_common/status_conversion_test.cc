#include "libs/grpcutil/status_conversion.h"

#include <catch2/catch.hpp>
#include <string>

#include "google/rpc/error_details.pb.h"
#include "google/rpc/status.pb.h"
#include "libs/common/errors.h"

namespace {

using namespace crm::grpcutil;  // NOLINT
using crm::common::FieldOf;
using crm::common::ReasonOf;
using crm::common::WithField;
using crm::common::WithReason;

google::rpc::ErrorInfo InfoOf(const grpc::Status& g) {
  google::rpc::Status details;
  REQUIRE(details.ParseFromString(g.error_details()));
  REQUIRE(details.details_size() == 1);
  google::rpc::ErrorInfo info;
  REQUIRE(details.details(0).UnpackTo(&info));
  return info;
}

TEST_CASE("ToGrpcStatus / FromGrpcStatus round trip", "[common][grpcutil]") {
  SECTION("ok") {
    CHECK(ToGrpcStatus(absl::OkStatus()).ok());
    CHECK(FromGrpcStatus(grpc::Status::OK).ok());
  }
  SECTION("code, message, reason and field survive") {
    absl::Status s = WithField(
        WithReason(absl::InvalidArgumentError("emails[1]: bad"), "INVALID_FIELD"), "emails[1]");
    grpc::Status g = ToGrpcStatus(s);
    CHECK(g.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
    CHECK(g.error_message() == "emails[1]: bad");
    google::rpc::ErrorInfo info = InfoOf(g);
    CHECK(info.reason() == "INVALID_FIELD");
    CHECK(info.domain() == "crm");
    CHECK(info.metadata().at("field") == "emails[1]");
    absl::Status back = FromGrpcStatus(g);
    CHECK(back.code() == absl::StatusCode::kInvalidArgument);
    CHECK(back.message() == "emails[1]: bad");
    CHECK(ReasonOf(back) == "INVALID_FIELD");
    CHECK(FieldOf(back) == "emails[1]");
  }
  SECTION("reason without field") {
    absl::Status back =
        FromGrpcStatus(ToGrpcStatus(WithReason(absl::AbortedError("etag"), "ETAG_MISMATCH")));
    CHECK(back.code() == absl::StatusCode::kAborted);
    CHECK(ReasonOf(back) == "ETAG_MISMATCH");
    CHECK(FieldOf(back).empty());
  }
  SECTION("default reasons for INTERNAL and UNAVAILABLE, none otherwise") {
    CHECK(ReasonOf(FromGrpcStatus(ToGrpcStatus(absl::InternalError("x")))) == "INTERNAL_ERROR");
    CHECK(ReasonOf(FromGrpcStatus(ToGrpcStatus(absl::UnavailableError("x")))) ==
          "DEPENDENCY_UNAVAILABLE");
    grpc::Status g = ToGrpcStatus(absl::NotFoundError("nothing"));
    CHECK(g.error_code() == grpc::StatusCode::NOT_FOUND);
    CHECK(g.error_details().empty());
    CHECK(ReasonOf(FromGrpcStatus(g)).empty());
  }
  SECTION("garbage details are ignored") {
    absl::Status back = FromGrpcStatus(
        grpc::Status(grpc::StatusCode::PERMISSION_DENIED, "no", "\xff\xfe not a proto"));
    CHECK(back.code() == absl::StatusCode::kPermissionDenied);
    CHECK(back.message() == "no");
    CHECK(ReasonOf(back).empty());
  }
}

TEST_CASE("RemapDependencyError", "[common][grpcutil]") {
  for (absl::Status pass : {absl::UnavailableError("u"), absl::DeadlineExceededError("d"),
                            absl::ResourceExhaustedError("r"), absl::AbortedError("a")}) {
    INFO(pass.ToString());
    absl::Status out = RemapDependencyError(pass, false);
    CHECK(out.code() == pass.code());
    CHECK(out.message() == pass.message());
  }
  CHECK(RemapDependencyError(absl::OkStatus(), false).ok());

  absl::Status internal = RemapDependencyError(
      WithField(absl::InvalidArgumentError("customer_id must be a UUID"), "customer_id"), true);
  CHECK(internal.code() == absl::StatusCode::kInternal);
  CHECK(ReasonOf(internal) == "INTERNAL_ERROR");
  CHECK(FieldOf(internal).empty());  // the dependency's field is not the caller's
  CHECK(internal.message().find("UUID") == absl::string_view::npos);

  absl::Status nf = WithReason(absl::NotFoundError("customer not found"), "CUSTOMER_NOT_FOUND");
  absl::Status named = RemapDependencyError(nf, true);
  CHECK(named.code() == absl::StatusCode::kNotFound);
  CHECK(ReasonOf(named) == "CUSTOMER_NOT_FOUND");
  CHECK(RemapDependencyError(nf, false).code() == absl::StatusCode::kFailedPrecondition);
}

}  // namespace
