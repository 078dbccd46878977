// Hidden test run once per ctest run as the setup of the
// `customer_store_schema` fixture: a fresh customer_store schema for the
// tests of this binary (see CMakeLists.txt).
#include <catch2/catch.hpp>

#include "tests/integration/customer_store/cs_env.h"

namespace crm::customer_store::itest {
namespace {

TEST_CASE("reset schema customer_store", "[.schema_reset]") {
  absl::Status s = ResetSchema();
  INFO(s.ToString());
  REQUIRE(s.ok());
  pqxx::connection c(ts::PgOwnerDsn());
  pqxx::work w(c);
  CHECK(w.exec1("SELECT count(*) FROM public.crm_schema_migrations WHERE service = "
                "'customer_store'")[0]
            .as<int64_t>() >= 1);
}

}  // namespace
}  // namespace crm::customer_store::itest
