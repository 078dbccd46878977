#include "services/segmentation/domain/segment_parser.h"

#include <cmath>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "libs/common/status_macros.h"

namespace crm::segmentation::domain {
namespace {

enum class Tok {
  kName,
  kString,
  kNumber,
  kDuration,
  kOp,
  kMinus,
  kLParen,
  kRParen,
  kComma,
  kAnd,
  kOr,
  kNot,
  kIn,
  kTrue,
  kFalse,
  kEnd,
};

struct Token {
  Tok kind = Tok::kEnd;
  SourcePos pos;
  std::string text;       // source text (kName: the name; kString: the unescaped value)
  double number = 0;      // kNumber
  absl::Duration window;  // kDuration
  CompareOp op = CompareOp::kEq;
};

bool IsIdentStart(char c) { return absl::ascii_isalpha(c) || c == '_'; }
bool IsIdentChar(char c) { return absl::ascii_isalnum(c) || c == '_'; }

std::string Describe(const Token& t) {
  switch (t.kind) {
    case Tok::kEnd:
      return "end of input";
    case Tok::kString:
      return absl::StrCat("string \"", ShortenForMessage(t.text, 20), "\"");
    default:
      return absl::StrCat("'", ShortenForMessage(t.text, 30), "'");
  }
}

class Lexer {
 public:
  Lexer(absl::string_view text, const SegmentLimits& limits) : text_(text), limits_(limits) {}

  absl::StatusOr<std::vector<Token>> Run() {
    std::vector<Token> out;
    while (true) {
      SkipSpace();
      Token t;
      t.pos = pos_;
      if (i_ >= text_.size()) {
        t.kind = Tok::kEnd;
        out.push_back(std::move(t));
        return out;
      }
      CRM_RETURN_IF_ERROR(Next(t));
      out.push_back(std::move(t));
    }
  }

 private:
  char Peek(size_t k = 0) const { return i_ + k < text_.size() ? text_[i_ + k] : '\0'; }
  bool AtEnd(size_t k = 0) const { return i_ + k >= text_.size(); }

  // Advances one byte, keeping line and column (columns count code points:
  // continuation bytes add none).
  void Advance() {
    const char c = text_[i_++];
    if (c == '\n') {
      ++pos_.line;
      pos_.column = 1;
    } else if ((static_cast<unsigned char>(c) & 0xC0) != 0x80) {
      ++pos_.column;
    }
  }

  void SkipSpace() {
    while (!AtEnd() && (Peek() == ' ' || Peek() == '\t' || Peek() == '\n' || Peek() == '\r')) {
      Advance();
    }
  }

  absl::Status Next(Token& t) {
    const char c = Peek();
    if (c == '(' || c == ')' || c == ',' || c == '-') {
      t.kind = c == '('   ? Tok::kLParen
               : c == ')' ? Tok::kRParen
               : c == ',' ? Tok::kComma
                          : Tok::kMinus;
      t.text = std::string(1, c);
      Advance();
      return absl::OkStatus();
    }
    if (c == '"' || c == '\'') return String(t);
    if (absl::ascii_isdigit(c) || (c == '.' && absl::ascii_isdigit(Peek(1)))) return Number(t);
    if (IsIdentStart(c)) return Name(t);
    if (Operator(t)) return absl::OkStatus();
    const unsigned char u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7F) {
      return SegmentSyntaxError(pos_, absl::StrFormat("unexpected control character 0x%02X", u));
    }
    // Name the whole code point (the input is valid UTF-8 here).
    size_t n = u < 0x80 ? 1 : u < 0xE0 ? 2 : u < 0xF0 ? 3 : 4;
    return SegmentSyntaxError(pos_,
                              absl::StrCat("unexpected character '", text_.substr(i_, n), "'"));
  }

  bool Operator(Token& t) {
    struct Spelling {
      absl::string_view text;
      CompareOp op;
    };
    // Longest first. The Unicode signs are what people paste from documents.
    static constexpr Spelling kOps[] = {
        {"==", CompareOp::kEq},
        {"!=", CompareOp::kNe},
        {"<>", CompareOp::kNe},
        {"<=", CompareOp::kLe},
        {">=", CompareOp::kGe},
        {"\xE2\x89\xA5", CompareOp::kGe},  // ≥
        {"\xE2\x89\xA4", CompareOp::kLe},  // ≤
        {"\xE2\x89\xA0", CompareOp::kNe},  // ≠
        {"=", CompareOp::kEq},
        {"<", CompareOp::kLt},
        {">", CompareOp::kGt},
    };
    absl::string_view rest = text_.substr(i_);
    for (const Spelling& s : kOps) {
      if (rest.substr(0, s.text.size()) == s.text) {
        t.kind = Tok::kOp;
        t.op = s.op;
        t.text = std::string(s.text);
        for (size_t k = 0; k < s.text.size(); ++k) Advance();
        return true;
      }
    }
    return false;
  }

  absl::Status Name(Token& t) {
    const size_t start = i_;
    while (true) {
      if (!IsIdentStart(Peek())) {
        return SegmentSyntaxError(pos_, "expected a name after '.'");
      }
      while (!AtEnd() && IsIdentChar(Peek())) Advance();
      if (Peek() == '.' && IsIdentStart(Peek(1))) {
        Advance();
        continue;
      }
      if (Peek() == '.') {
        Advance();
        continue;  // reports "expected a name after '.'"
      }
      break;
    }
    t.text = std::string(text_.substr(start, i_ - start));
    if (t.text.size() > limits_.max_identifier_bytes) {
      return SegmentSyntaxError(
          t.pos, absl::StrFormat("name longer than %d characters", limits_.max_identifier_bytes));
    }
    const std::string lower = absl::AsciiStrToLower(t.text);
    t.kind = lower == "and"     ? Tok::kAnd
             : lower == "or"    ? Tok::kOr
             : lower == "not"   ? Tok::kNot
             : lower == "in"    ? Tok::kIn
             : lower == "true"  ? Tok::kTrue
             : lower == "false" ? Tok::kFalse
                                : Tok::kName;
    return absl::OkStatus();
  }

  absl::Status Number(Token& t) {
    const size_t start = i_;
    bool dot = false;
    while (!AtEnd() && (absl::ascii_isdigit(Peek()) || (Peek() == '.' && !dot))) {
      if (Peek() == '.') {
        if (!absl::ascii_isdigit(Peek(1))) break;
        dot = true;
      }
      Advance();
    }
    t.text = std::string(text_.substr(start, i_ - start));
    if (t.text.size() > 32) {
      return SegmentSyntaxError(t.pos, "number longer than 32 characters");
    }
    if (IsIdentStart(Peek())) {
      // A duration: whole number + unit, e.g. 7d.
      const size_t unit_start = i_;
      SourcePos unit_pos = pos_;
      while (!AtEnd() && IsIdentChar(Peek())) Advance();
      absl::string_view unit = text_.substr(unit_start, i_ - unit_start);
      t.text += std::string(unit);
      absl::Duration per;
      if (unit == "h" || unit == "H") {
        per = absl::Hours(1);
      } else if (unit == "d" || unit == "D") {
        per = absl::Hours(24);
      } else if (unit == "w" || unit == "W") {
        per = absl::Hours(24 * 7);
      } else {
        return SegmentSyntaxError(unit_pos,
                                  absl::StrCat("unknown duration unit '", unit.substr(0, 10),
                                               "' (use h, d or w, e.g. 7d)"));
      }
      int64_t count = 0;
      if (dot || t.text.size() - unit.size() > 9 ||
          !absl::SimpleAtoi(text_.substr(start, unit_start - start), &count)) {
        return SegmentSyntaxError(t.pos,
                                  "a duration is a whole number of at most 9 digits and "
                                  "a unit, e.g. 7d");
      }
      t.kind = Tok::kDuration;
      t.window = per * count;
      return absl::OkStatus();
    }
    double v = 0;
    if (!absl::SimpleAtod(t.text, &v) || !std::isfinite(v)) {
      return SegmentSyntaxError(t.pos, absl::StrCat("invalid number '", t.text, "'"));
    }
    t.kind = Tok::kNumber;
    t.number = v;
    return absl::OkStatus();
  }

  absl::Status String(Token& t) {
    const char quote = Peek();
    Advance();
    std::string value;
    while (true) {
      if (AtEnd()) return SegmentSyntaxError(t.pos, "string not closed before the end of input");
      const char c = Peek();
      if (c == quote) {
        Advance();
        break;
      }
      const unsigned char u = static_cast<unsigned char>(c);
      if (u < 0x20 || u == 0x7F) {
        return SegmentSyntaxError(
            pos_, c == '\n' ? std::string("string not closed before the end of the line")
                            : absl::StrFormat("control character 0x%02X in a string (use an "
                                              "escape such as \\t)",
                                              u));
      }
      if (c == '\\') {
        SourcePos esc = pos_;
        Advance();
        if (AtEnd()) return SegmentSyntaxError(t.pos, "string not closed before the end of input");
        const char e = Peek();
        Advance();
        switch (e) {
          case '"':
          case '\'':
          case '\\':
          case '/':
            value.push_back(e);
            break;
          case 'n':
            value.push_back('\n');
            break;
          case 't':
            value.push_back('\t');
            break;
          case 'r':
            value.push_back('\r');
            break;
          case 'u': {
            uint32_t cp = 0;
            for (int k = 0; k < 4; ++k) {
              const char h = Peek();
              if (!absl::ascii_isxdigit(h)) {
                return SegmentSyntaxError(esc, "\\u needs 4 hexadecimal digits, e.g. \\u00e9");
              }
              cp = cp * 16 + (absl::ascii_isdigit(h) ? h - '0' : absl::ascii_tolower(h) - 'a' + 10);
              Advance();
            }
            if (cp == 0 || (cp >= 0xD800 && cp <= 0xDFFF)) {
              return SegmentSyntaxError(esc,
                                        absl::StrFormat("\\u%04X is not allowed in a string", cp));
            }
            AppendUtf8(cp, value);
            break;
          }
          default: {
            // Name the whole character after the backslash (valid UTF-8 here).
            const unsigned char ue = static_cast<unsigned char>(e);
            const size_t n = ue < 0x80 ? 1 : ue < 0xE0 ? 2 : ue < 0xF0 ? 3 : 4;
            return SegmentSyntaxError(
                esc, absl::StrCat("unknown escape '\\", text_.substr(i_ - 1, n),
                                  "' (use \\\", \\', \\\\, \\/, \\n, \\t, \\r or \\uXXXX)"));
          }
        }
      } else {
        // Copy one code point (valid UTF-8: checked before lexing).
        size_t n = u < 0x80 ? 1 : u < 0xE0 ? 2 : u < 0xF0 ? 3 : 4;
        value.append(text_.substr(i_, n).data(), n);
        for (size_t k = 0; k < n; ++k) Advance();
      }
      if (value.size() > limits_.max_literal_bytes) {
        return SegmentSyntaxError(
            t.pos, absl::StrFormat("string longer than %d bytes", limits_.max_literal_bytes));
      }
    }
    t.kind = Tok::kString;
    t.text = std::move(value);
    return absl::OkStatus();
  }

  static void AppendUtf8(uint32_t cp, std::string& out) {
    if (cp < 0x80) {
      out.push_back(static_cast<char>(cp));
    } else if (cp < 0x800) {
      out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
      out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    } else {
      out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
      out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
      out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    }
  }

  absl::string_view text_;
  const SegmentLimits& limits_;
  size_t i_ = 0;
  SourcePos pos_;
};

class Parser {
 public:
  Parser(std::vector<Token> tokens, const SegmentLimits& limits)
      : tokens_(std::move(tokens)), limits_(limits) {}

  absl::StatusOr<Expr> Run() {
    CRM_ASSIGN_OR_RETURN(Expr e, Or());
    if (Cur().kind != Tok::kEnd) {
      return SegmentSyntaxError(
          Cur().pos,
          absl::StrCat("expected AND, OR or the end of the expression, found ", Describe(Cur())));
    }
    return e;
  }

 private:
  const Token& Cur() const { return tokens_[k_]; }
  const Token& Ahead(size_t n) const {
    return tokens_[k_ + n < tokens_.size() ? k_ + n : tokens_.size() - 1];
  }
  const Token& Take() { return tokens_[k_ < tokens_.size() - 1 ? k_++ : k_]; }

  absl::Status Expect(Tok kind, absl::string_view what) {
    if (Cur().kind != kind) {
      return SegmentSyntaxError(Cur().pos,
                                absl::StrCat("expected ", what, ", found ", Describe(Cur())));
    }
    Take();
    return absl::OkStatus();
  }

  absl::Status Deeper(SourcePos pos) {
    if (++depth_ > limits_.max_depth) {
      return SegmentSyntaxError(
          pos, absl::StrFormat("nesting deeper than %d levels (parentheses and NOT)",
                               limits_.max_depth));
    }
    return absl::OkStatus();
  }

  absl::StatusOr<Expr> Or() {
    CRM_ASSIGN_OR_RETURN(Expr first, And());
    if (Cur().kind != Tok::kOr) return first;
    Expr e;
    e.kind = ExprKind::kOr;
    e.pos = first.pos;
    e.children.push_back(std::move(first));
    while (Cur().kind == Tok::kOr) {
      Take();
      CRM_ASSIGN_OR_RETURN(Expr next, And());
      e.children.push_back(std::move(next));
    }
    return e;
  }

  absl::StatusOr<Expr> And() {
    CRM_ASSIGN_OR_RETURN(Expr first, Unary());
    if (Cur().kind != Tok::kAnd) return first;
    Expr e;
    e.kind = ExprKind::kAnd;
    e.pos = first.pos;
    e.children.push_back(std::move(first));
    while (Cur().kind == Tok::kAnd) {
      Take();
      CRM_ASSIGN_OR_RETURN(Expr next, Unary());
      e.children.push_back(std::move(next));
    }
    return e;
  }

  absl::StatusOr<Expr> Unary() {
    if (Cur().kind == Tok::kNot) {
      const SourcePos pos = Take().pos;
      CRM_RETURN_IF_ERROR(Deeper(pos));
      CRM_ASSIGN_OR_RETURN(Expr inner, Unary());
      --depth_;
      Expr e;
      e.kind = ExprKind::kNot;
      e.pos = pos;
      e.children.push_back(std::move(inner));
      return e;
    }
    if (Cur().kind == Tok::kLParen) {
      const SourcePos open = Take().pos;
      CRM_RETURN_IF_ERROR(Deeper(open));
      CRM_ASSIGN_OR_RETURN(Expr inner, Or());
      if (Cur().kind != Tok::kRParen) {
        return SegmentSyntaxError(
            Cur().pos, absl::StrFormat("expected ')' to close the '(' of line %d, column %d, "
                                       "found %s",
                                       open.line, open.column, Describe(Cur())));
      }
      Take();
      --depth_;
      return inner;
    }
    return Condition();
  }

  static bool IsFunction(const Token& t, absl::string_view name) {
    return t.kind == Tok::kName && absl::AsciiStrToLower(t.text) == name;
  }

  absl::StatusOr<Expr> Condition() {
    const Token& first = Cur();
    if (first.kind != Tok::kName) {
      return SegmentSyntaxError(
          first.pos, absl::StrCat("expected a condition (a field, count(...), orders(...), "
                                  "spent(...), bought(...), purchased(...), in_segment(...)), "
                                  "NOT or '(', found ",
                                  Describe(first)));
    }
    if (++conditions_ > limits_.max_conditions) {
      return SegmentSyntaxError(first.pos,
                                absl::StrFormat("more than %d conditions", limits_.max_conditions));
    }
    const bool call = Ahead(1).kind == Tok::kLParen;
    Expr e;
    e.pos = first.pos;
    if (call && IsFunction(first, "in_segment")) {
      Take();
      Take();
      if (Cur().kind != Tok::kString) {
        return SegmentSyntaxError(Cur().pos,
                                  absl::StrCat("expected the segment id as a string, e.g. "
                                               "in_segment(\"vip-customers\"), found ",
                                               Describe(Cur())));
      }
      e.kind = ExprKind::kInSegment;
      e.segment_id = Take().text;
      CRM_RETURN_IF_ERROR(Expect(Tok::kRParen, "')'"));
      return e;
    }
    if (call && (IsFunction(first, "bought") || IsFunction(first, "purchased"))) {
      e.kind = ExprKind::kCompare;
      e.operand.pos = first.pos;
      e.operand.kind = OperandKind::kOrderCount;
      Take();
      Take();
      CRM_RETURN_IF_ERROR(AggregateArgs(e.operand));
      e.op = CompareOp::kGe;
      e.values.push_back(Literal{1.0, first.pos});
      return e;
    }
    CRM_RETURN_IF_ERROR(OperandOf(e.operand));
    // Comparison tail.
    if (Cur().kind == Tok::kOp) {
      e.kind = ExprKind::kCompare;
      e.op = Take().op;
      CRM_ASSIGN_OR_RETURN(Literal v, Value());
      e.values.push_back(std::move(v));
      return e;
    }
    if (Cur().kind == Tok::kIn || (Cur().kind == Tok::kNot && Ahead(1).kind == Tok::kIn)) {
      e.kind = ExprKind::kIn;
      if (Cur().kind == Tok::kNot) {
        e.negated = true;
        Take();
      }
      Take();
      CRM_ASSIGN_OR_RETURN(e.values, List());
      return e;
    }
    return SegmentSyntaxError(
        Cur().pos, absl::StrCat("expected a comparison (=, !=, <, <=, >, >=) or IN after ",
                                Describe(first), ", found ", Describe(Cur())));
  }

  absl::Status OperandOf(Operand& o) {
    const Token& name = Take();
    o.pos = name.pos;
    if (Cur().kind != Tok::kLParen) {
      o.kind = OperandKind::kField;
      o.name = name.text;
      return absl::OkStatus();
    }
    Take();  // (
    if (IsFunction(name, "count")) {
      o.kind = OperandKind::kEventCount;
      if (Cur().kind != Tok::kName) {
        return SegmentSyntaxError(
            Cur().pos, absl::StrCat("expected an event type, e.g. count(email.opened, 30d), "
                                    "found ",
                                    Describe(Cur())));
      }
      o.name = Take().text;
      CRM_RETURN_IF_ERROR(Expect(Tok::kComma, "',' and a window, e.g. count(email.opened, 30d)"));
      return AggregateArgs(o);
    }
    if (IsFunction(name, "orders")) {
      o.kind = OperandKind::kOrderCount;
      return AggregateArgs(o);
    }
    if (IsFunction(name, "spent")) {
      o.kind = OperandKind::kSpent;
      return AggregateArgs(o);
    }
    return SegmentSyntaxError(name.pos,
                              absl::StrCat("unknown function '", name.text.substr(0, 30),
                                           "' (known: count, orders, spent, bought, purchased, "
                                           "in_segment)"));
  }

  // { filter "," } window ")" — after the opening parenthesis (and event type).
  absl::Status AggregateArgs(Operand& o) {
    while (Cur().kind != Tok::kDuration) {
      if (Cur().kind != Tok::kName) {
        return SegmentSyntaxError(
            Cur().pos, absl::StrCat("expected a property filter such as category = \"Music\" "
                                    "or a window such as 30d, found ",
                                    Describe(Cur())));
      }
      PropertyFilter f;
      f.pos = Cur().pos;
      f.property = Take().text;
      if (++conditions_ > limits_.max_conditions) {
        return SegmentSyntaxError(
            f.pos, absl::StrFormat("more than %d conditions", limits_.max_conditions));
      }
      if (Cur().kind == Tok::kOp) {
        f.op = Take().op;
        CRM_ASSIGN_OR_RETURN(Literal v, Value());
        f.values.push_back(std::move(v));
      } else if (Cur().kind == Tok::kIn || (Cur().kind == Tok::kNot && Ahead(1).kind == Tok::kIn)) {
        f.in_list = true;
        if (Cur().kind == Tok::kNot) {
          f.negated = true;
          Take();
        }
        Take();
        CRM_ASSIGN_OR_RETURN(f.values, List());
      } else {
        return SegmentSyntaxError(
            Cur().pos, absl::StrCat("expected a comparison or IN after '", f.property, "', found ",
                                    Describe(Cur())));
      }
      o.filters.push_back(std::move(f));
      CRM_RETURN_IF_ERROR(Expect(Tok::kComma, "',' (the window comes last, e.g. 30d)"));
    }
    o.window = Take().window;
    return Expect(Tok::kRParen, "')' after the window");
  }

  absl::StatusOr<Literal> Value() {
    Literal l;
    l.pos = Cur().pos;
    switch (Cur().kind) {
      case Tok::kString:
        l.value = Take().text;
        return l;
      case Tok::kNumber:
        l.value = Take().number;
        return l;
      case Tok::kMinus:
        Take();
        if (Cur().kind != Tok::kNumber) {
          return SegmentSyntaxError(
              Cur().pos, absl::StrCat("expected a number after '-', found ", Describe(Cur())));
        }
        l.value = -Take().number;
        return l;
      case Tok::kTrue:
      case Tok::kFalse:
        l.value = Take().kind == Tok::kTrue;
        return l;
      default:
        return SegmentSyntaxError(
            Cur().pos, absl::StrCat("expected a value (a \"string\", a number, true or false), "
                                    "found ",
                                    Describe(Cur())));
    }
  }

  absl::StatusOr<std::vector<Literal>> List() {
    CRM_RETURN_IF_ERROR(Expect(Tok::kLParen, "'(' and a list of values, e.g. IN (\"CH\", \"DE\")"));
    std::vector<Literal> values;
    while (true) {
      if (static_cast<int>(values.size()) >= limits_.max_list_values) {
        return SegmentSyntaxError(
            Cur().pos, absl::StrFormat("more than %d values in a list", limits_.max_list_values));
      }
      CRM_ASSIGN_OR_RETURN(Literal v, Value());
      values.push_back(std::move(v));
      if (Cur().kind == Tok::kComma) {
        Take();
        continue;
      }
      CRM_RETURN_IF_ERROR(Expect(Tok::kRParen, "',' or ')' in the list"));
      return values;
    }
  }

  std::vector<Token> tokens_;
  const SegmentLimits& limits_;
  size_t k_ = 0;
  int depth_ = 0;
  int conditions_ = 0;
};

SourcePos PosOfOffset(absl::string_view text, size_t offset) {
  SourcePos p;
  for (size_t i = 0; i < offset && i < text.size(); ++i) {
    if (text[i] == '\n') {
      ++p.line;
      p.column = 1;
    } else if ((static_cast<unsigned char>(text[i]) & 0xC0) != 0x80) {
      ++p.column;
    }
  }
  return p;
}

}  // namespace

long FirstInvalidUtf8(absl::string_view text) {
  const auto* s = reinterpret_cast<const unsigned char*>(text.data());
  const size_t n = text.size();
  size_t i = 0;
  while (i < n) {
    const unsigned char c = s[i];
    if (c < 0x80) {
      ++i;
      continue;
    }
    size_t len;
    uint32_t min;
    uint32_t cp;
    if ((c & 0xE0) == 0xC0) {
      len = 2;
      min = 0x80;
      cp = c & 0x1F;
    } else if ((c & 0xF0) == 0xE0) {
      len = 3;
      min = 0x800;
      cp = c & 0x0F;
    } else if ((c & 0xF8) == 0xF0) {
      len = 4;
      min = 0x10000;
      cp = c & 0x07;
    } else {
      return static_cast<long>(i);
    }
    if (i + len > n) return static_cast<long>(i);
    for (size_t k = 1; k < len; ++k) {
      if ((s[i + k] & 0xC0) != 0x80) return static_cast<long>(i);
      cp = (cp << 6) | (s[i + k] & 0x3F);
    }
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return static_cast<long>(i);
    i += len;
  }
  return -1;
}

absl::StatusOr<Expr> ParseSegment(absl::string_view text, const SegmentLimits& limits) {
  if (text.size() > limits.max_bytes) {
    return SegmentSyntaxError(SourcePos{},
                              absl::StrFormat("expression longer than %d bytes (it has %d)",
                                              limits.max_bytes, text.size()));
  }
  if (long bad = FirstInvalidUtf8(text); bad >= 0) {
    return SegmentSyntaxError(PosOfOffset(text, static_cast<size_t>(bad)),
                              absl::StrFormat("invalid UTF-8 (byte 0x%02X at offset %d)",
                                              static_cast<unsigned char>(text[bad]), bad));
  }
  CRM_ASSIGN_OR_RETURN(std::vector<Token> tokens, Lexer(text, limits).Run());
  if (tokens.size() == 1) {
    return SegmentSyntaxError(tokens[0].pos, "empty expression");
  }
  return Parser(std::move(tokens), limits).Run();
}

}  // namespace crm::segmentation::domain
