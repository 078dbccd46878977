#include "services/segmentation/domain/segment_ast.h"

#include <cstdint>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "libs/common/errors.h"

namespace crm::segmentation::domain {
namespace {

std::string LiteralString(const Literal& l) {
  if (const double* d = std::get_if<double>(&l.value)) return absl::StrFormat("%g", *d);
  if (const bool* b = std::get_if<bool>(&l.value)) return *b ? "true" : "false";
  std::string out = "\"";
  for (char c : std::get<std::string>(l.value)) {
    if (c == '"' || c == '\\') out.push_back('\\');
    out.push_back(c);
  }
  out.push_back('"');
  return out;
}

std::string ValuesString(const std::vector<Literal>& values) {
  std::vector<std::string> parts;
  for (const Literal& l : values) parts.push_back(LiteralString(l));
  return absl::StrCat("(", absl::StrJoin(parts, ", "), ")");
}

std::string FilterString(const PropertyFilter& f) {
  if (f.in_list) {
    return absl::StrCat(f.property, f.negated ? " NOT IN " : " IN ", ValuesString(f.values));
  }
  return absl::StrCat(f.property, " ", CompareOpText(f.op), " ", LiteralString(f.values.at(0)));
}

std::string OperandString(const Operand& o) {
  if (o.kind == OperandKind::kField) return o.name;
  std::vector<std::string> args;
  if (o.kind == OperandKind::kEventCount) args.push_back(o.name);
  for (const PropertyFilter& f : o.filters) args.push_back(FilterString(f));
  args.push_back(FormatWindow(o.window));
  const char* fn = o.kind == OperandKind::kEventCount   ? "count"
                   : o.kind == OperandKind::kOrderCount ? "orders"
                                                        : "spent";
  return absl::StrCat(fn, "(", absl::StrJoin(args, ", "), ")");
}

absl::Status WithPos(absl::string_view reason, SourcePos pos, absl::string_view message) {
  return common::WithField(
      common::WithReason(absl::InvalidArgumentError(absl::StrFormat("line %d, column %d: %s",
                                                                    pos.line, pos.column, message)),
                         reason),
      "expression");
}

}  // namespace

absl::string_view CompareOpText(CompareOp op) {
  switch (op) {
    case CompareOp::kEq:
      return "=";
    case CompareOp::kNe:
      return "!=";
    case CompareOp::kLt:
      return "<";
    case CompareOp::kLe:
      return "<=";
    case CompareOp::kGt:
      return ">";
    case CompareOp::kGe:
      return ">=";
  }
  return "?";
}

std::string FormatWindow(absl::Duration d) {
  const int64_t hours = absl::ToInt64Hours(d);
  if (hours == 0) return "0h";
  if (hours % (24 * 7) == 0) return absl::StrCat(hours / (24 * 7), "w");
  if (hours % 24 == 0) return absl::StrCat(hours / 24, "d");
  return absl::StrCat(hours, "h");
}

std::string DebugString(const Expr& e) {
  switch (e.kind) {
    case ExprKind::kAnd:
    case ExprKind::kOr:
    case ExprKind::kNot: {
      std::string out = e.kind == ExprKind::kAnd  ? "(AND"
                        : e.kind == ExprKind::kOr ? "(OR"
                                                  : "(NOT";
      for (const Expr& c : e.children) absl::StrAppend(&out, " ", DebugString(c));
      return out + ")";
    }
    case ExprKind::kCompare:
      return absl::StrCat("(", CompareOpText(e.op), " ", OperandString(e.operand), " ",
                          LiteralString(e.values.at(0)), ")");
    case ExprKind::kIn:
      return absl::StrCat("(", e.negated ? "NOT IN " : "IN ", OperandString(e.operand), " ",
                          ValuesString(e.values), ")");
    case ExprKind::kInSegment:
      return absl::StrCat("(in_segment \"", e.segment_id, "\")");
  }
  return "?";
}

std::string ShortenForMessage(absl::string_view s, size_t max_bytes) {
  if (s.size() <= max_bytes) return std::string(s);
  size_t n = max_bytes;
  while (n > 0 && (static_cast<unsigned char>(s[n]) & 0xC0) == 0x80) --n;
  return absl::StrCat(s.substr(0, n), "...");
}

absl::Status SegmentSyntaxError(SourcePos pos, absl::string_view message) {
  return WithPos("SEGMENT_SYNTAX", pos, message);
}

absl::Status SegmentInvalidError(SourcePos pos, absl::string_view message) {
  return WithPos("SEGMENT_INVALID", pos, message);
}

}  // namespace crm::segmentation::domain
