#include <stdexcept>
#include <string>

#include <catch2/catch.hpp>
#include <pqxx/pqxx>

#include "libs/pg/errors.h"

namespace {

using absl::StatusCode;
using crm::pg::FromPqxxException;
using crm::pg::SqlState;

constexpr char kSecretQuery[] = "INSERT INTO customers(email) VALUES ('alice@example.com')";

void RequireClientSafe(const absl::Status& s) {
  const std::string msg(s.message());
  REQUIRE(msg.find("INSERT") == std::string::npos);
  REQUIRE(msg.find("alice") == std::string::npos);
  REQUIRE(msg.find("postgresql://") == std::string::npos);
}

}  // namespace

TEST_CASE("constraint violations map to ALREADY_EXISTS / FAILED_PRECONDITION", "[libs][pg][errors]") {
  SECTION("unique_violation") {
    pqxx::unique_violation e("ERROR: duplicate key\nDETAIL: Key (email)=(alice@example.com)",
                             kSecretQuery, "23505");
    absl::Status s = FromPqxxException(e);
    CHECK(s.code() == StatusCode::kAlreadyExists);
    RequireClientSafe(s);
    CHECK(SqlState(e) == "23505");
  }
  SECTION("foreign_key_violation") {
    pqxx::foreign_key_violation e("fk", kSecretQuery, "23503");
    CHECK(FromPqxxException(e).code() == StatusCode::kFailedPrecondition);
    RequireClientSafe(FromPqxxException(e));
  }
  SECTION("check_violation") {
    pqxx::check_violation e("check", kSecretQuery, "23514");
    CHECK(FromPqxxException(e).code() == StatusCode::kFailedPrecondition);
  }
  SECTION("not_null_violation") {
    pqxx::not_null_violation e("not null", kSecretQuery, "23502");
    CHECK(FromPqxxException(e).code() == StatusCode::kFailedPrecondition);
  }
  SECTION("generic sql_error carrying 23505 still maps by SQLSTATE") {
    pqxx::sql_error e("dup", kSecretQuery, "23505");
    CHECK(FromPqxxException(e).code() == StatusCode::kAlreadyExists);
  }
}

TEST_CASE("conflicts map to ABORTED", "[libs][pg][errors]") {
  CHECK(FromPqxxException(pqxx::serialization_failure("40001")).code() == StatusCode::kAborted);
  CHECK(FromPqxxException(pqxx::deadlock_detected("40P01")).code() == StatusCode::kAborted);
  CHECK(FromPqxxException(pqxx::sql_error("x", "", "40001")).code() == StatusCode::kAborted);
  CHECK(FromPqxxException(pqxx::sql_error("x", "", "40P01")).code() == StatusCode::kAborted);
  CHECK(SqlState(pqxx::serialization_failure("no state in 6.4")).empty());
}

TEST_CASE("connection trouble maps to UNAVAILABLE", "[libs][pg][errors]") {
  CHECK(FromPqxxException(pqxx::broken_connection("gone")).code() == StatusCode::kUnavailable);
  CHECK(FromPqxxException(pqxx::too_many_connections("full")).code() ==
        StatusCode::kUnavailable);
  CHECK(FromPqxxException(pqxx::in_doubt_error("?")).code() == StatusCode::kUnavailable);
  CHECK(FromPqxxException(pqxx::statement_completion_unknown("?")).code() ==
        StatusCode::kUnavailable);
  CHECK(FromPqxxException(pqxx::sql_error("admin shutdown", "", "57P01")).code() ==
        StatusCode::kUnavailable);
}

TEST_CASE("everything else maps to INTERNAL with a generic message", "[libs][pg][errors]") {
  absl::Status priv = FromPqxxException(pqxx::insufficient_privilege("denied", kSecretQuery, "42501"));
  CHECK(priv.code() == StatusCode::kInternal);
  RequireClientSafe(priv);
  absl::Status syntax = FromPqxxException(pqxx::syntax_error("bad", kSecretQuery, "42601"));
  CHECK(syntax.code() == StatusCode::kInternal);
  RequireClientSafe(syntax);
  CHECK(FromPqxxException(pqxx::undefined_table("t", kSecretQuery, "42P01")).code() ==
        StatusCode::kInternal);
  CHECK(FromPqxxException(pqxx::conversion_error("conv")).code() == StatusCode::kInternal);
  CHECK(FromPqxxException(std::runtime_error("plain")).code() == StatusCode::kInternal);
  CHECK(SqlState(std::runtime_error("plain")).empty());
}
