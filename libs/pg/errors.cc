#include "libs/pg/errors.h"

#include <string>

#include <pqxx/pqxx>

#include "libs/observability/log.h"

namespace crm::pg {
namespace {

// Classifies by SQLSTATE class/code for sql_errors whose dynamic type is the
// generic base (libpqxx only has subclasses for some codes).
absl::Status FromSqlState(const std::string& state) {
  if (state == "23505") return absl::AlreadyExistsError("already exists");
  if (state == "23503" || state == "23514" || state == "23502" || state == "23001") {
    return absl::FailedPreconditionError("constraint violation");
  }
  if (state == "40001" || state == "40P01") {
    return absl::AbortedError("transaction conflict, retry");
  }
  if (state.rfind("08", 0) == 0 || state == "57P01" || state == "57P02" || state == "57P03") {
    return absl::UnavailableError("database unavailable");
  }
  if (state == "53300") return absl::UnavailableError("database unavailable");
  if (state == "57014") return absl::DeadlineExceededError("database statement timed out");
  return absl::InternalError("database error");
}

}  // namespace

std::string SqlState(const std::exception& e) {
  if (const auto* s = dynamic_cast<const pqxx::sql_error*>(&e)) return s->sqlstate();
  return "";
}

absl::Status FromPqxxException(const std::exception& e) {
  absl::Status status;
  // Most specific types first: several of these share base classes.
  if (dynamic_cast<const pqxx::unique_violation*>(&e) != nullptr) {
    status = absl::AlreadyExistsError("already exists");
  } else if (dynamic_cast<const pqxx::foreign_key_violation*>(&e) != nullptr ||
             dynamic_cast<const pqxx::check_violation*>(&e) != nullptr ||
             dynamic_cast<const pqxx::not_null_violation*>(&e) != nullptr) {
    status = absl::FailedPreconditionError("constraint violation");
  } else if (dynamic_cast<const pqxx::serialization_failure*>(&e) != nullptr ||
             dynamic_cast<const pqxx::deadlock_detected*>(&e) != nullptr) {
    status = absl::AbortedError("transaction conflict, retry");
  } else if (dynamic_cast<const pqxx::broken_connection*>(&e) != nullptr) {
    status = absl::UnavailableError("database unavailable");
  } else if (dynamic_cast<const pqxx::in_doubt_error*>(&e) != nullptr ||
             dynamic_cast<const pqxx::statement_completion_unknown*>(&e) != nullptr) {
    status = absl::UnavailableError("database unavailable: transaction outcome unknown");
  } else if (dynamic_cast<const pqxx::insufficient_privilege*>(&e) != nullptr) {
    status = absl::InternalError("database permission error");
  } else if (const auto* sql = dynamic_cast<const pqxx::sql_error*>(&e)) {
    status = FromSqlState(sql->sqlstate());
  } else {
    status = absl::InternalError("database error");
  }
  // The detail goes to the log only, and only its first line: libpq's DETAIL
  // lines may quote key values (PII). SQL text is never logged or returned.
  std::string detail = e.what();
  if (auto pos = detail.find('\n'); pos != std::string::npos) detail.resize(pos);
  CRM_LOG(Warning)
          .Field("component", "pg")
          .Field("sqlstate", SqlState(e))
          .Field("code", absl::StatusCodeToString(status.code()))
      << "database exception: " << detail;
  return status;
}

}  // namespace crm::pg
