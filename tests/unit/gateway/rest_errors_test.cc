#include "services/gateway/api/rest_errors.h"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "libs/common/errors.h"

namespace crm::gateway::api {
namespace {

TEST_CASE("HttpStatusFor follows the CONVENTIONS.md table", "[gateway][api]") {
  using C = absl::StatusCode;
  CHECK(HttpStatusFor(C::kOk) == 200);
  CHECK(HttpStatusFor(C::kInvalidArgument) == 400);
  CHECK(HttpStatusFor(C::kFailedPrecondition) == 400);
  CHECK(HttpStatusFor(C::kOutOfRange) == 400);
  CHECK(HttpStatusFor(C::kUnauthenticated) == 401);
  CHECK(HttpStatusFor(C::kPermissionDenied) == 403);
  CHECK(HttpStatusFor(C::kNotFound) == 404);
  CHECK(HttpStatusFor(C::kAborted) == 409);
  CHECK(HttpStatusFor(C::kAlreadyExists) == 409);
  CHECK(HttpStatusFor(C::kResourceExhausted) == 429);
  CHECK(HttpStatusFor(C::kCancelled) == 499);
  CHECK(HttpStatusFor(C::kInternal) == 500);
  CHECK(HttpStatusFor(C::kUnknown) == 500);
  CHECK(HttpStatusFor(C::kDataLoss) == 500);
  CHECK(HttpStatusFor(C::kUnimplemented) == 501);
  CHECK(HttpStatusFor(C::kUnavailable) == 503);
  CHECK(HttpStatusFor(C::kDeadlineExceeded) == 504);
}

TEST_CASE("HttpStatusForError honours special reasons", "[gateway][api]") {
  CHECK(HttpStatusForError(
            common::WithReason(absl::InvalidArgumentError("x"), "METHOD_NOT_ALLOWED")) == 405);
  CHECK(HttpStatusForError(
            common::WithReason(absl::ResourceExhaustedError("x"), "BODY_TOO_LARGE")) == 413);
  CHECK(HttpStatusForError(absl::ResourceExhaustedError("x")) == 429);
  // A stale If-Match / etag: 412 Precondition Failed (RFC 9110), whichever
  // service reports it; other ABORTED refusals stay 409.
  absl::Status stale = common::WithReason(absl::AbortedError("etag does not match"), "ETAG_MISMATCH");
  CHECK(HttpStatusForError(stale) == 412);
  CHECK(nlohmann::json::parse(ErrorJson(stale))["error"]["code"] == 412);
  CHECK(nlohmann::json::parse(ErrorJson(stale))["error"]["status"] == "ABORTED");
  CHECK(HttpStatusForError(
            common::WithReason(absl::AbortedError("x"), "IMPORT_BATCH_CONFLICT")) == 409);
  CHECK(HttpStatusForError(absl::AbortedError("retry")) == 409);
  CHECK(HttpStatusForError(common::WithReason(absl::InvalidArgumentError("x"),
                                              "UNSUPPORTED_MEDIA_TYPE")) == 415);
}

TEST_CASE("ErrorJson shape", "[gateway][api]") {
  SECTION("reason and field") {
    absl::Status s = common::InvalidField("page_size", "query parameter page_size: \"bad\"\n");
    nlohmann::json j = nlohmann::json::parse(ErrorJson(s));
    CHECK(j["error"]["code"] == 400);
    CHECK(j["error"]["message"] == "query parameter page_size: \"bad\"\n");
    CHECK(j["error"]["status"] == "INVALID_ARGUMENT");
    REQUIRE(j["error"]["details"].size() == 1);
    const nlohmann::json& info = j["error"]["details"][0];
    CHECK(info["@type"] == "type.googleapis.com/google.rpc.ErrorInfo");
    CHECK(info["reason"] == "INVALID_FIELD");
    CHECK(info["domain"] == "crm");
    CHECK(info["metadata"]["field"] == "page_size");
  }
  SECTION("no reason: empty details") {
    nlohmann::json j = nlohmann::json::parse(ErrorJson(absl::NotFoundError("gone")));
    CHECK(j["error"]["code"] == 404);
    CHECK(j["error"]["status"] == "NOT_FOUND");
    CHECK(j["error"]["details"].empty());
  }
  SECTION("explicit http status and invalid UTF-8") {
    absl::Status s =
        common::WithReason(absl::ResourceExhaustedError("too big \xff"), "BODY_TOO_LARGE");
    nlohmann::json j = nlohmann::json::parse(ErrorJson(s, 413));
    CHECK(j["error"]["code"] == 413);
    CHECK(j["error"]["status"] == "RESOURCE_EXHAUSTED");
    CHECK(j["error"]["details"][0]["reason"] == "BODY_TOO_LARGE");
    CHECK(j["error"]["details"][0]["metadata"].empty());
  }
}

}  // namespace
}  // namespace crm::gateway::api
