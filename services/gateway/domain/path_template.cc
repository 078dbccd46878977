#include "services/gateway/domain/path_template.h"

#include <set>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"

namespace crm::gateway::domain {
namespace {

bool IsLiteralChar(char c) {
  if (static_cast<unsigned char>(c) <= 0x20 || static_cast<unsigned char>(c) >= 0x7f) return false;
  switch (c) {
    case '/':
    case '{':
    case '}':
    case ':':
    case '*':
    case '=':
    case '?':
    case '#':
      return false;
    default:
      return true;
  }
}

bool IsIdentStart(char c) { return absl::ascii_isalpha(static_cast<unsigned char>(c)) || c == '_'; }
bool IsIdentChar(char c) { return absl::ascii_isalnum(static_cast<unsigned char>(c)) || c == '_'; }

class Parser {
 public:
  explicit Parser(absl::string_view text) : text_(text) {}

  absl::StatusOr<PathTemplate> Parse() {
    PathTemplate t;
    t.text = std::string(text_);
    if (!Consume('/')) return Error("must start with '/'");
    if (absl::Status s = ParseSegments(t, /*in_variable=*/false); !s.ok()) return s;
    if (Consume(':')) {
      size_t start = pos_;
      while (pos_ < text_.size() && IsLiteralChar(text_[pos_])) ++pos_;
      if (pos_ == start) return Error("empty verb after ':'");
      t.verb = std::string(text_.substr(start, pos_ - start));
    }
    if (pos_ != text_.size())
      return Error(absl::StrCat("unexpected '", text_.substr(pos_, 1), "'"));
    // "**" may only be the last segment.
    for (size_t i = 0; i < t.segments.size(); ++i) {
      if (t.segments[i].kind == PathSegment::Kind::kDoubleWildcard && i + 1 != t.segments.size()) {
        return Error("'**' must be the last segment");
      }
    }
    std::set<std::string> names;
    for (const PathVariable& v : t.variables) {
      if (!names.insert(v.field_path).second) {
        return Error(absl::StrCat("variable '", v.field_path, "' bound twice"));
      }
    }
    return t;
  }

 private:
  bool Consume(char c) {
    if (pos_ < text_.size() && text_[pos_] == c) {
      ++pos_;
      return true;
    }
    return false;
  }
  bool Peek(char c) const { return pos_ < text_.size() && text_[pos_] == c; }

  absl::Status Error(absl::string_view what) const {
    return absl::InvalidArgumentError(
        absl::StrCat("invalid path template \"", text_, "\" at offset ", pos_, ": ", what));
  }

  absl::Status ParseSegments(PathTemplate& t, bool in_variable) {
    while (true) {
      if (absl::Status s = ParseSegment(t, in_variable); !s.ok()) return s;
      if (!Consume('/')) return absl::OkStatus();
    }
  }

  absl::Status ParseSegment(PathTemplate& t, bool in_variable) {
    if (Peek('{')) {
      if (in_variable) return Error("nested variable");
      ++pos_;
      size_t start = pos_;
      while (true) {
        if (pos_ >= text_.size() || !IsIdentStart(text_[pos_])) return Error("expected field name");
        while (pos_ < text_.size() && IsIdentChar(text_[pos_])) ++pos_;
        if (!Consume('.')) break;
      }
      PathVariable v;
      v.field_path = std::string(text_.substr(start, pos_ - start));
      v.begin = static_cast<int>(t.segments.size());
      if (Consume('=')) {
        if (absl::Status s = ParseSegments(t, /*in_variable=*/true); !s.ok()) return s;
      } else {
        t.segments.push_back({PathSegment::Kind::kWildcard, ""});
      }
      if (!Consume('}')) return Error("expected '}'");
      v.end = static_cast<int>(t.segments.size());
      t.variables.push_back(std::move(v));
      return absl::OkStatus();
    }
    if (Consume('*')) {
      if (Consume('*')) {
        t.segments.push_back({PathSegment::Kind::kDoubleWildcard, ""});
      } else {
        t.segments.push_back({PathSegment::Kind::kWildcard, ""});
      }
      return absl::OkStatus();
    }
    size_t start = pos_;
    while (pos_ < text_.size() && IsLiteralChar(text_[pos_])) ++pos_;
    if (pos_ == start) return Error("empty segment");
    t.segments.push_back(
        {PathSegment::Kind::kLiteral, PercentDecode(text_.substr(start, pos_ - start))});
    return absl::OkStatus();
  }

  absl::string_view text_;
  size_t pos_ = 0;
};

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

bool PathVariable::single_segment() const { return end - begin == 1; }

bool PathTemplate::has_double_wildcard() const {
  return !segments.empty() && segments.back().kind == PathSegment::Kind::kDoubleWildcard;
}

absl::StatusOr<PathTemplate> ParsePathTemplate(absl::string_view tmpl) {
  return Parser(tmpl).Parse();
}

std::string DecodeQueryComponent(absl::string_view s) {
  return PercentDecode(absl::StrReplaceAll(s, {{"+", " "}}));
}

std::string PercentDecode(absl::string_view s, bool keep_encoded_slash) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size()) {
      int hi = HexValue(s[i + 1]);
      int lo = HexValue(s[i + 2]);
      if (hi >= 0 && lo >= 0) {
        char c = static_cast<char>(hi * 16 + lo);
        if (keep_encoded_slash && c == '/') {
          out.append(s.substr(i, 3).data(), 3);
        } else {
          out.push_back(c);
        }
        i += 2;
        continue;
      }
    }
    out.push_back(s[i]);
  }
  return out;
}

TemplateMatch MatchPathTemplate(const PathTemplate& t, absl::string_view path) {
  TemplateMatch m;
  if (path.empty() || path[0] != '/') return m;
  std::vector<absl::string_view> parts = absl::StrSplit(path.substr(1), '/');
  if (!t.verb.empty()) {
    std::string suffix = absl::StrCat(":", t.verb);
    absl::string_view& last = parts.back();
    if (last.size() <= suffix.size() || last.substr(last.size() - suffix.size()) != suffix) {
      return m;
    }
    last = last.substr(0, last.size() - suffix.size());
  }
  const size_t n = t.segments.size();
  if (t.has_double_wildcard()) {
    if (parts.size() + 1 < n) return m;
  } else if (parts.size() != n) {
    return m;
  }
  m.rank.reserve(n + 1);
  for (size_t i = 0; i < n; ++i) {
    const PathSegment& seg = t.segments[i];
    switch (seg.kind) {
      case PathSegment::Kind::kLiteral:
        if (PercentDecode(parts[i]) != seg.literal) return m;
        m.rank.push_back(2);
        break;
      case PathSegment::Kind::kWildcard:
        if (parts[i].empty()) return m;
        m.rank.push_back(1);
        break;
      case PathSegment::Kind::kDoubleWildcard:
        m.rank.push_back(0);
        break;
    }
  }
  m.rank.push_back(t.verb.empty() ? 0 : 1);
  for (const PathVariable& v : t.variables) {
    size_t begin = static_cast<size_t>(v.begin);
    size_t end = static_cast<size_t>(v.end);
    if (end == n && t.has_double_wildcard()) end = parts.size();
    if (v.single_segment() && t.segments[begin].kind == PathSegment::Kind::kWildcard) {
      std::string value = PercentDecode(parts[begin]);
      if (value.find('/') != std::string::npos && m.error.empty()) {
        m.error = absl::StrCat("path parameter ", v.field_path, " must not contain '/'");
        m.error_field = v.field_path;
      }
      m.bindings.emplace_back(v.field_path, std::move(value));
    } else {
      std::vector<absl::string_view> slice(parts.begin() + static_cast<std::ptrdiff_t>(begin),
                                           parts.begin() + static_cast<std::ptrdiff_t>(end));
      m.bindings.emplace_back(
          v.field_path, PercentDecode(absl::StrJoin(slice, "/"), /*keep_encoded_slash=*/true));
    }
  }
  m.matched = true;
  return m;
}

}  // namespace crm::gateway::domain
