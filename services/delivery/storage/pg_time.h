#pragma once
// Optional times in the delivery schema's rows: a nullable timestamptz
// column read as bigint microseconds (pg::MicrosColumn), and a parameter
// that is NULL when the time is unset.
#include <cstdint>
#include <optional>
#include <pqxx/pqxx>

#include "absl/time/time.h"

namespace crm::delivery::storage {

inline std::optional<absl::Time> OptionalTime(const pqxx::field& f) {
  if (f.is_null()) return std::nullopt;
  return absl::FromUnixMicros(f.as<int64_t>());
}

inline std::optional<int64_t> MicrosOf(const std::optional<absl::Time>& t) {
  if (!t) return std::nullopt;
  return absl::ToUnixMicros(*t);
}

}  // namespace crm::delivery::storage
