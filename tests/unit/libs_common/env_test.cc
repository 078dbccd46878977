#include "libs/common/env.h"

#include <catch2/catch.hpp>
#include <cstdlib>
#include <string>

#include "tests/support/scoped_env.h"

namespace {

using namespace crm::common;  // NOLINT
using crm::testing::ScopedEnv;

bool Mentions(const absl::Status& s, const std::string& what) {
  return std::string(s.message()).find(what) != std::string::npos;
}

TEST_CASE("EnvInt parses and range-checks", "[common][env]") {
  const char* kName = "CRM_UNIT_TEST_ENV_INT_7F3A";
  unsetenv(kName);
  CHECK(*EnvInt(kName, 42, 0, 100) == 42);
  {
    ScopedEnv e(kName, "");
    CHECK(*EnvInt(kName, 42, 0, 100) == 42);  // empty = unset
  }
  {
    ScopedEnv e(kName, "100");
    CHECK(*EnvInt(kName, 42, 0, 100) == 100);
  }
  {
    ScopedEnv e(kName, "-5");
    CHECK(*EnvInt(kName, 42, -5, 100) == -5);
  }
  for (const char* bad : {"101", "-1", "12abc", "abc", "1.5", "99999999999999999999"}) {
    INFO(bad);
    ScopedEnv e(kName, bad);
    auto r = EnvInt(kName, 42, 0, 100);
    REQUIRE_FALSE(r.ok());
    CHECK(r.status().code() == absl::StatusCode::kInvalidArgument);
    CHECK(Mentions(r.status(), kName));
  }
}

TEST_CASE("EnvDuration and EnvBool", "[common][env]") {
  const char* kDur = "CRM_UNIT_TEST_ENV_DURATION_7F3A";
  const char* kBool = "CRM_UNIT_TEST_ENV_BOOL_7F3A";
  unsetenv(kDur);
  unsetenv(kBool);
  SECTION("durations") {
    CHECK(*EnvDuration(kDur, absl::Seconds(3)) == absl::Seconds(3));
    {
      ScopedEnv e(kDur, "500ms");
      CHECK(*EnvDuration(kDur, absl::Seconds(3)) == absl::Milliseconds(500));
    }
    {
      ScopedEnv e(kDur, "1m30s");
      CHECK(*EnvDuration(kDur, absl::Seconds(3)) == absl::Seconds(90));
    }
    for (const char* bad : {"30", "soon", "-1s"}) {
      INFO(bad);
      ScopedEnv e(kDur, bad);
      auto r = EnvDuration(kDur, absl::Seconds(3));
      REQUIRE_FALSE(r.ok());
      CHECK(Mentions(r.status(), kDur));
    }
  }
  SECTION("bools") {
    CHECK(*EnvBool(kBool, true) == true);
    CHECK(*EnvBool(kBool, false) == false);
    for (const char* yes : {"1", "true", "TRUE", "yes"}) {
      ScopedEnv e(kBool, yes);
      CHECK(*EnvBool(kBool, false) == true);
    }
    for (const char* no : {"0", "false", "No"}) {
      ScopedEnv e(kBool, no);
      CHECK(*EnvBool(kBool, true) == false);
    }
    ScopedEnv e(kBool, "maybe");
    auto r = EnvBool(kBool, true);
    REQUIRE_FALSE(r.ok());
    CHECK(r.status().code() == absl::StatusCode::kInvalidArgument);
    CHECK(Mentions(r.status(), kBool));
  }
  SECTION("required and string") {
    const char* kStr = "CRM_UNIT_TEST_ENV_STRING_7F3A";
    unsetenv(kStr);
    auto missing = EnvRequired(kStr);
    REQUIRE_FALSE(missing.ok());
    CHECK(Mentions(missing.status(), kStr));
    CHECK(*EnvString(kStr, "dflt") == "dflt");
    ScopedEnv e(kStr, "value");
    CHECK(*EnvRequired(kStr) == "value");
    CHECK(*EnvString(kStr, "dflt") == "value");
  }
}

TEST_CASE("RedactDsn masks passwords", "[common][env]") {
  SECTION("URL DSNs") {
    CHECK(RedactDsn("postgresql://crm_app:s3cr3t@db:5432/crm") ==
          "postgresql://crm_app:***@db:5432/crm");
    CHECK(RedactDsn("postgres://u:p%40ss@h/db?sslmode=require") ==
          "postgres://u:***@h/db?sslmode=require");
    CHECK(RedactDsn("postgresql://user@host/db") == "postgresql://user@host/db");
    CHECK(RedactDsn("redis://:pw@127.0.0.1:6379") == "redis://:***@127.0.0.1:6379");
  }
  SECTION("a password given as a URL query parameter is masked too") {
    // libpq accepts postgresql://host/db?password=..., which is a DSN form too.
    std::string out = RedactDsn("postgresql://db:5432/crm?user=crm_app&password=s3cr3t");
    CHECK(out.find("s3cr3t") == std::string::npos);
  }
  SECTION("key=value DSNs") {
    CHECK(RedactDsn("host=db user=crm password=s3cr3t dbname=crm") ==
          "host=db user=crm password=*** dbname=crm");
    CHECK(RedactDsn("password = 'with space' host=db") == "password = *** host=db");
    CHECK(RedactDsn("host=db dbname=crm") == "host=db dbname=crm");
  }
  SECTION("anything else is fully masked") { CHECK(RedactDsn("justasecret") == "***"); }
  SECTION("ConfigDump uses the redaction") {
    ConfigDump d;
    d.Add("CRM_GRPC_PORT", int64_t{50051})
        .Add("CRM_TIMEOUT", absl::Milliseconds(250))
        .AddSecret("CRM_PG_DSN", "postgresql://u:pw@h/db")
        .AddSecret("CRM_TOKEN", "tok")
        .AddSecret("CRM_EMPTY", "");
    CHECK(d.ToString() ==
          "CRM_GRPC_PORT=50051 CRM_TIMEOUT=250ms CRM_PG_DSN=postgresql://u:***@h/db "
          "CRM_TOKEN=*** CRM_EMPTY=");
  }
}

}  // namespace
