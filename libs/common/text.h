#pragma once
// Text that PostgreSQL can store exactly: no NUL byte (libpq would cut the
// value at it, and jsonb refuses \u0000).
#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "libs/common/errors.h"

namespace crm::common {

inline bool HasNul(absl::string_view s) { return s.find('\0') != absl::string_view::npos; }

// INVALID_ARGUMENT naming `field` when the text holds a NUL byte.
inline absl::Status CheckStorableText(absl::string_view field, absl::string_view value) {
  if (!HasNul(value)) return absl::OkStatus();
  return InvalidField(field, absl::StrCat(field, " must not contain NUL characters"));
}

// The same for a JSON document produced from user input ("\u0000" escapes).
inline absl::Status CheckStorableJson(absl::string_view field, absl::string_view json) {
  if (!HasNul(json) && !absl::StrContains(json, "\\u0000")) return absl::OkStatus();
  return InvalidField(field, absl::StrCat(field, " must not contain NUL characters"));
}

}  // namespace crm::common
