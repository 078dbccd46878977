#pragma once
// Lexer and recursive-descent parser of the segment language (grammar and
// examples: docs/segments.md, "The segment language").
//
//   rfm.segment = "Champions" AND (p_alive >= 0.8 OR clv > 500)
//     AND NOT consent.email = "opted_out"
//   count(product.viewed, category = "Music/Jazz", 7d) >= 3
//   bought(category = "Music", 90d) AND spent(365d) >= 100
//   NOT purchased(90d) OR in_segment("vip-customers")
//
// Precedence: NOT binds tighter than AND, AND tighter than OR; parentheses
// group. Keywords (AND OR NOT IN TRUE FALSE) and function names (count orders
// spent bought purchased in_segment) are case-insensitive; field names are
// case-sensitive.
//
// Everything that is not a well-formed expression is INVALID_ARGUMENT with
// reason SEGMENT_SYNTAX, field "expression", and a message starting
// "line L, column C: " (columns count code points). The limits of
// SegmentLimits are enforced while reading: the input size and UTF-8 validity
// before anything else, the nesting depth before the parser recurses (so a
// 10,000-deep input costs no stack), literal and name lengths as they are read.
// Only syntax is checked here: field names, types and windows are the
// checker's (segment_check.h).
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "services/segmentation/domain/segment_ast.h"

namespace crm::segmentation::domain {

[[nodiscard]] absl::StatusOr<Expr> ParseSegment(absl::string_view text,
                                                const SegmentLimits& limits = {});

// Position of the first byte of `text` that is not valid UTF-8 (overlong
// forms, surrogates and code points above U+10FFFF are invalid), or -1.
long FirstInvalidUtf8(absl::string_view text);

}  // namespace crm::segmentation::domain
