#pragma once
// libpqxx exceptions -> absl::Status with client-safe messages. The SQL and
// server detail are logged (WARNING/ERROR), never returned.
#include <exception>
#include <string>

#include "absl/status/status.h"

namespace crm::pg {

// unique_violation -> ALREADY_EXISTS, foreign_key_violation /
// check_violation / not_null_violation -> FAILED_PRECONDITION,
// serialization_failure / deadlock_detected -> ABORTED,
// broken_connection -> UNAVAILABLE, in_doubt_error -> UNAVAILABLE,
// insufficient_privilege -> INTERNAL, other sql_error -> INTERNAL,
// anything else -> INTERNAL.
absl::Status FromPqxxException(const std::exception& e);

// The SQLSTATE of a pqxx::sql_error ("" for other exceptions).
std::string SqlState(const std::exception& e);

}  // namespace crm::pg
