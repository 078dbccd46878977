#include "libs/common/errors.h"

#include <catch2/catch.hpp>

namespace {

using namespace crm::common;  // NOLINT

TEST_CASE("Reason and field payloads travel in absl::Status", "[common][errors]") {
  absl::Status plain = absl::NotFoundError("gone");
  CHECK(ReasonOf(plain).empty());
  CHECK(FieldOf(plain).empty());
  CHECK(ReasonOf(absl::OkStatus()).empty());

  absl::Status s = WithField(WithReason(absl::InvalidArgumentError("bad"), "INVALID_FIELD"), "emails[0]");
  CHECK(s.code() == absl::StatusCode::kInvalidArgument);
  CHECK(s.message() == "bad");
  CHECK(ReasonOf(s) == "INVALID_FIELD");
  CHECK(FieldOf(s) == "emails[0]");

  // Setting again replaces.
  CHECK(ReasonOf(WithReason(s, "OTHER")) == "OTHER");
  // OK statuses carry no payloads.
  CHECK(ReasonOf(WithReason(absl::OkStatus(), "X")).empty());

  absl::Status f = InvalidField("page_size", "page_size must not be negative");
  CHECK(f.code() == absl::StatusCode::kInvalidArgument);
  CHECK(ReasonOf(f) == "INVALID_FIELD");
  CHECK(FieldOf(f) == "page_size");
  CHECK(f.message() == "page_size must not be negative");

  absl::Status n = NotFound("CUSTOMER_NOT_FOUND", "customer not found");
  CHECK(n.code() == absl::StatusCode::kNotFound);
  CHECK(ReasonOf(n) == "CUSTOMER_NOT_FOUND");
  CHECK(FieldOf(n).empty());
}

}  // namespace
