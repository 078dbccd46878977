#pragma once
// Catch2 checks of answers: a refusal's status code and reason
// (libs/common/errors.h), the value of an OK StatusOr.
#include <catch2/catch.hpp>
#include <string>
#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "libs/common/errors.h"

namespace crm::testing {

inline void RequireRefused(const absl::Status& s, absl::StatusCode code,
                           const std::string& reason) {
  INFO(s.ToString());
  REQUIRE(s.code() == code);
  CHECK(common::ReasonOf(s) == reason);
}

// The value of `r`, which must be OK.
template <typename T>
T ValueOf(absl::StatusOr<T> r) {
  INFO(r.status().ToString());
  REQUIRE(r.ok());
  return *std::move(r);
}

}  // namespace crm::testing
