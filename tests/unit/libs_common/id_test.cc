#include "libs/common/id.h"

#include <catch2/catch.hpp>
#include <set>
#include <string>

namespace {

using crm::common::IsUuid;
using crm::common::NewUuid;

TEST_CASE("NewUuid produces distinct canonical v4 UUIDs", "[common][id]") {
  std::set<std::string> seen;
  for (int i = 0; i < 1000; ++i) {
    std::string u = NewUuid();
    REQUIRE(u.size() == 36);
    CHECK(IsUuid(u));
    CHECK(u[14] == '4');                                         // version
    CHECK(std::string("89ab").find(u[19]) != std::string::npos);  // variant 10xx
    for (char c : u) CHECK_FALSE((c >= 'A' && c <= 'F'));        // lower case
    seen.insert(u);
  }
  CHECK(seen.size() == 1000);
}

TEST_CASE("IsUuid accepts canonical UUIDs only", "[common][id]") {
  CHECK(IsUuid("123e4567-e89b-12d3-a456-426614174000"));
  CHECK(IsUuid("123E4567-E89B-12D3-A456-426614174000"));
  CHECK(IsUuid("00000000-0000-0000-0000-000000000000"));
  for (const char* bad : {"", "123e4567e89b12d3a456426614174000",
                          "123e4567-e89b-12d3-a456-42661417400",
                          "123e4567-e89b-12d3-a456-4266141740000",
                          "{123e4567-e89b-12d3-a456-426614174000}",
                          "123e4567-e89b-12d3-a456_426614174000",
                          "123e4567-e89b-12d3-a45-6426614174000",
                          "g23e4567-e89b-12d3-a456-426614174000",
                          "123e4567-e89b-12d3-a456-42661417400 "}) {
    INFO(bad);
    CHECK_FALSE(IsUuid(bad));
  }
}

}  // namespace
