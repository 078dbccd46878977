#pragma once
// Limits on JSON request bodies, checked by one cheap pass before any JSON
// parser sees the text. The parsers behind it (nlohmann's DOM, then
// protobuf's JSON mapping) do work that grows with the nesting depth for
// every nested value — protobuf 3.21 transcodes google.protobuf.Struct /
// ListValue values level by level with cost quadratic in the depth and caps
// array nesting nowhere — so a small body of deeply nested arrays could keep
// a thread busy for minutes. Bounding the depth first bounds that work to a
// constant factor of the body size.
//
// Pure: std + Abseil only.
#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace crm::gateway::domain {

// Objects and arrays nested deeper than this are refused. 32 leaves room for
// any real document while keeping a google.protobuf.Struct value (up to three
// message levels per JSON object level) inside protobuf's own recursion
// limit of 100 message levels, so the caller sees this limit's message and
// not the parser's.
inline constexpr int kMaxJsonDepth = 32;

// One linear pass (strings and their escapes skipped): INVALID_ARGUMENT with
// reason MALFORMED_BODY when objects/arrays nest deeper than max_depth. Any
// other syntax error is left to the parser.
[[nodiscard]] absl::Status CheckJsonDepth(absl::string_view json, int max_depth = kMaxJsonDepth);

}  // namespace crm::gateway::domain
