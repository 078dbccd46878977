#pragma once
// Client-chosen idempotency keys (the `request_id` field of mutating
// requests): one rule for every service and the gateway's REST edge.
#include <cstddef>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace crm::common {

inline constexpr size_t kMaxRequestIdLength = 128;  // bytes; fits the idempotency tables

// True when `s` holds an ASCII control character (U+0000..U+001F, U+007F).
// PostgreSQL (libpq) cuts text at a NUL, so "R\0X" and "R" would be one key.
bool HasControlCharacter(absl::string_view s);

// INVALID_ARGUMENT (reason INVALID_FIELD, field request_id) when a request id
// is longer than kMaxRequestIdLength or holds a control character. An empty
// id passes: whether one is required is the caller's rule.
[[nodiscard]] absl::Status CheckRequestId(absl::string_view id);
// For writes that replay their first answer: INVALID_ARGUMENT (field
// request_id) also when `id` is empty.
[[nodiscard]] absl::Status RequireRequestId(absl::string_view id);

// The idempotency key of a call one service makes to another on behalf of
// a request: "<key>/<suffix>" while that fits kMaxRequestIdLength, else the
// first 64 hex digits of SHA-256(key) then "/<suffix>" (still one key per
// request and suffix).
std::string DerivedKey(const std::string& key, const std::string& suffix);

}  // namespace crm::common
