#pragma once
// google.api.http path templates (the HttpRule grammar):
//
//   Template = "/" Segments [ Verb ] ;
//   Segments = Segment { "/" Segment } ;
//   Segment  = "*" | "**" | LITERAL | Variable ;
//   Variable = "{" FieldPath [ "=" Segments ] "}" ;
//   FieldPath = IDENT { "." IDENT } ;
//   Verb     = ":" LITERAL ;
//
// Pure: std + Abseil only.
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace crm::gateway::domain {

struct PathSegment {
  enum class Kind { kLiteral, kWildcard /* "*" */, kDoubleWildcard /* "**" */ };
  Kind kind = Kind::kLiteral;
  std::string literal;  // kLiteral only
};

// A variable binds the template segments [begin, end) to `field_path`.
struct PathVariable {
  std::string field_path;  // e.g. "customer_id", "name", "parent.id"
  int begin = 0;
  int end = 0;
  // True when the variable covers exactly one "*" segment (its value may not contain '/').
  bool single_segment() const;
};

struct PathTemplate {
  std::string text;  // the template as written
  std::vector<PathSegment> segments;
  std::string verb;  // "" when none ("revoke" for ".../{key_id}:revoke")
  std::vector<PathVariable> variables;

  bool has_double_wildcard() const;
};

[[nodiscard]] absl::StatusOr<PathTemplate> ParsePathTemplate(absl::string_view tmpl);

// Percent-decodes `s`. With keep_encoded_slash, "%2F" stays encoded (multi-segment
// variables, as the HttpRule reserved expansion). Malformed escapes are kept literally.
std::string PercentDecode(absl::string_view s, bool keep_encoded_slash = false);
// A query string's or an HTML form's name or value: '+' is a space, then
// percent-decoded.
std::string DecodeQueryComponent(absl::string_view s);

// The outcome of matching one request path against one template.
struct TemplateMatch {
  bool matched = false;
  // Specificity per template segment (2 literal, 1 "*", 0 "**"), then 1 if a verb matched.
  std::vector<int> rank;
  std::vector<std::pair<std::string, std::string>> bindings;  // field path -> decoded value
  std::string error;        // non-empty: matched, but a bound value is invalid
  std::string error_field;  // the variable the error is about
};

// Matches a request path (no query string, starts with '/') against a template.
TemplateMatch MatchPathTemplate(const PathTemplate& t, absl::string_view path);

}  // namespace crm::gateway::domain
