// Hidden test run once per ctest run as the setup of fixture
// gateway_access_schema: a fresh `access` schema (see CMakeLists.txt).
#include <catch2/catch.hpp>

#include "tests/integration/gateway_storage/gw_env.h"

namespace crm::gateway::itest {
namespace {

TEST_CASE("reset schema access", "[.schema_reset]") {
  absl::Status s = ResetAccessSchema();
  INFO(s.ToString());
  REQUIRE(s.ok());
}

}  // namespace
}  // namespace crm::gateway::itest
