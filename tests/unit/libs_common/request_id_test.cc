#include "libs/common/request_id.h"

#include <catch2/catch.hpp>
#include <string>

#include "libs/common/errors.h"

namespace {

using crm::common::CheckRequestId;
using crm::common::FieldOf;
using crm::common::HasControlCharacter;
using crm::common::ReasonOf;

TEST_CASE("CheckRequestId: length and control characters", "[common][request_id]") {
  SECTION("ordinary ids pass, the empty id too (required is the caller's rule)") {
    CHECK(CheckRequestId("").ok());
    CHECK(CheckRequestId("R").ok());
    CHECK(CheckRequestId("order-2024/01 #7 é").ok());
    CHECK(CheckRequestId(std::string(128, 'x')).ok());
  }
  SECTION("longer than 128 bytes") {
    absl::Status s = CheckRequestId(std::string(129, 'x'));
    CHECK(s.code() == absl::StatusCode::kInvalidArgument);
    CHECK(ReasonOf(s) == "INVALID_FIELD");
    CHECK(FieldOf(s) == "request_id");
  }
  SECTION("NUL and other control characters: R\\0X, R\\0Y and R must not be one key") {
    for (const std::string& id : {std::string("R\0X", 3), std::string("R\0", 2),
                                  std::string("\0", 1), std::string("R\nX"),
                                  std::string("R\tX"), std::string("R\x1fX"),
                                  std::string("R\x7fX")}) {
      INFO(id.size());
      absl::Status s = CheckRequestId(id);
      CHECK(s.code() == absl::StatusCode::kInvalidArgument);
      CHECK(ReasonOf(s) == "INVALID_FIELD");
      CHECK(FieldOf(s) == "request_id");
      CHECK(s.message().find("request_id") != absl::string_view::npos);
    }
  }
  SECTION("HasControlCharacter") {
    CHECK_FALSE(HasControlCharacter("abc ~"));
    CHECK_FALSE(HasControlCharacter("\xc3\xa9"));  // é: bytes >= 0x80 are not control
    CHECK(HasControlCharacter(std::string("a\0", 2)));
    CHECK(HasControlCharacter("\r"));
  }
}

}  // namespace
