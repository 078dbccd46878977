#pragma once
// The syntax tree of the segment language (docs/segments.md, "The segment
// language"): what ParseSegment (segment_parser.h) produces, CheckSegment
// (segment_check.h) types and EvaluateSegment (segment_eval.h) runs. Every node
// keeps the position of its first character so errors can name it.
#include <cstddef>
#include <string>
#include <variant>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace crm::segmentation::domain {

// 1-based line and column; columns count Unicode code points (a tab is one).
struct SourcePos {
  int line = 1;
  int column = 1;
  bool operator==(const SourcePos& o) const { return line == o.line && column == o.column; }
};

// Hard limits of one expression. Going past one is a SEGMENT_SYNTAX error
// naming the position where the limit was crossed.
struct SegmentLimits {
  size_t max_bytes = 64 * 1024;       // whole expression, in bytes (UTF-8)
  int max_depth = 64;                 // nested parentheses and NOT, combined
  size_t max_literal_bytes = 1024;    // one string literal, after unescaping
  size_t max_identifier_bytes = 128;  // one (dotted) name
  int max_conditions = 256;           // comparisons and predicates in the expression
  int max_list_values = 256;          // values of one IN list
};

// A literal value. Numbers are doubles (finite); strings are valid UTF-8.
using SegmentValue = std::variant<double, std::string, bool>;

struct Literal {
  SegmentValue value;
  SourcePos pos;
};

enum class CompareOp { kEq, kNe, kLt, kLe, kGt, kGe };
absl::string_view CompareOpText(CompareOp op);  // "=", "!=", ...

// A property test inside an aggregate: `category = "Music/Jazz"`,
// `sku IN ("a", "b")`. `values` has one element unless `in_list`; an IN list
// is equality with any of its values (NOT IN: `negated`).
struct PropertyFilter {
  SourcePos pos;
  std::string property;
  CompareOp op = CompareOp::kEq;
  bool in_list = false;
  bool negated = false;  // NOT IN
  std::vector<Literal> values;
};

// What the left side of a comparison reads.
enum class OperandKind {
  kField,       // profile.country, attr.plan, consent.email, rfm.segment, clv, ...
  kEventCount,  // count(<event type>[, filters], <window>)
  kOrderCount,  // orders([filters, ]<window>)
  kSpent,       // spent([filters, ]<window>)
};

struct Operand {
  SourcePos pos;
  OperandKind kind = OperandKind::kField;
  // kField: the dotted field name as written ("profile.country"); the checker
  // rewrites it to its canonical name (consent.email -> consent.email.marketing).
  // kEventCount: the event type ("product.viewed").
  std::string name;
  std::vector<PropertyFilter> filters;  // aggregates only; all must hold
  absl::Duration window;                // aggregates only
};

enum class ExprKind {
  kAnd,        // children: 2 or more
  kOr,         // children: 2 or more
  kNot,        // children: 1
  kCompare,    // operand op values[0]
  kIn,         // operand [NOT] IN (values...)
  kInSegment,  // in_segment("segment-id")
};

// One node. bought([filters, ]w) and purchased(w) are parsed as
// orders([filters, ]w) >= 1 (a kCompare).
struct Expr {
  ExprKind kind = ExprKind::kCompare;
  SourcePos pos;
  std::vector<Expr> children;     // kAnd, kOr, kNot
  Operand operand;                // kCompare, kIn
  CompareOp op = CompareOp::kEq;  // kCompare
  bool negated = false;           // kIn: NOT IN
  std::vector<Literal> values;    // kCompare: 1; kIn: 1 or more
  std::string segment_id;         // kInSegment
};

// A canonical, fully parenthesised rendering, e.g.
// (AND (= profile.country "CH") (NOT (>= count(email.opened, 30d) 3))).
// Used by tests and logs; not meant to be parsed back.
std::string DebugString(const Expr& e);

// "7d", "36h", "2w" (the largest unit that divides the duration).
std::string FormatWindow(absl::Duration d);

// `s` cut to at most `max_bytes` on a code point boundary, "..." appended when
// cut (for quoting user input in messages without splitting a character).
std::string ShortenForMessage(absl::string_view s, size_t max_bytes);

// INVALID_ARGUMENT, field "expression", reason SEGMENT_SYNTAX:
// "line L, column C: <message>".
absl::Status SegmentSyntaxError(SourcePos pos, absl::string_view message);
// INVALID_ARGUMENT, field "expression", reason SEGMENT_INVALID (unknown
// field, type mismatch, bad window...): "line L, column C: <message>".
absl::Status SegmentInvalidError(SourcePos pos, absl::string_view message);

}  // namespace crm::segmentation::domain
