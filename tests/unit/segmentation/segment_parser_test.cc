// The segment language's lexer and parser: the forms of docs/segments.md,
// precedence, positions in errors, limits and hostile input.
#include "services/segmentation/domain/segment_parser.h"

#include <catch2/catch.hpp>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "libs/common/errors.h"
#include "services/segmentation/domain/segment_check.h"

namespace {

using crm::common::FieldOf;
using crm::common::ReasonOf;
using namespace crm::segmentation::domain;  // NOLINT

std::string Parsed(const std::string& text) {
  absl::StatusOr<Expr> e = ParseSegment(text);
  INFO(text);
  if (!e.ok()) FAIL(e.status().ToString());
  return DebugString(*e);
}

// The error message of a text that must not parse (SEGMENT_SYNTAX).
std::string Error(const std::string& text, const SegmentLimits& limits = {}) {
  absl::StatusOr<Expr> e = ParseSegment(text, limits);
  INFO(text.substr(0, 200));
  REQUIRE_FALSE(e.ok());
  CHECK(e.status().code() == absl::StatusCode::kInvalidArgument);
  CHECK(ReasonOf(e.status()) == "SEGMENT_SYNTAX");
  CHECK(FieldOf(e.status()) == "expression");
  return std::string(e.status().message());
}

TEST_CASE("segment parser: the issue's examples", "[segmentation][segment]") {
  CHECK(
      Parsed(
          R"(rfm.segment = "Champions" AND (p_alive >= 0.8 OR clv > 500) AND NOT consent.email = "opted_out")") ==
      R"((AND (= rfm.segment "Champions") (OR (>= p_alive 0.8) (> clv 500)) (NOT (= consent.email "opted_out"))))");
  CHECK(Parsed(R"(count(product.viewed, category = "Music/Jazz", 7d) >= 3)") ==
        R"((>= count(product.viewed, category = "Music/Jazz", 1w) 3))");
  CHECK(Parsed("count(email.opened, 30d) >= 3") == "(>= count(email.opened, 30d) 3)");
  CHECK(Parsed(R"(bought(category = "Music", 90d))") ==
        R"((>= orders(category = "Music", 90d) 1))");
  CHECK(Parsed("spent(365d) >= 100") == "(>= spent(365d) 100)");
  CHECK(Parsed("NOT purchased(90d)") == "(NOT (>= orders(90d) 1))");
  CHECK(Parsed(R"(profile.country = "CH")") == R"((= profile.country "CH"))");
  CHECK(Parsed(R"(attr.plan = "gold")") == R"((= attr.plan "gold"))");
  CHECK(Parsed(R"(in_segment("vip-customers"))") == R"((in_segment "vip-customers"))");
}

TEST_CASE("segment parser: precedence NOT > AND > OR, parentheses group",
          "[segmentation][segment]") {
  CHECK(Parsed("a = 1 OR b = 2 AND NOT c = 3") == "(OR (= a 1) (AND (= b 2) (NOT (= c 3))))");
  CHECK(Parsed("NOT a = 1 AND b = 2") == "(AND (NOT (= a 1)) (= b 2))");
  CHECK(Parsed("(a = 1 OR b = 2) AND c = 3") == "(AND (OR (= a 1) (= b 2)) (= c 3))");
  CHECK(Parsed("NOT (a = 1 OR b = 2)") == "(NOT (OR (= a 1) (= b 2)))");
  CHECK(Parsed("a = 1 AND b = 2 AND c = 3 OR d = 4 OR e = 5") ==
        "(OR (AND (= a 1) (= b 2) (= c 3)) (= d 4) (= e 5))");
  CHECK(Parsed("NOT NOT a = 1") == "(NOT (NOT (= a 1)))");
  CHECK(Parsed("((((a = 1))))") == "(= a 1)");
}

TEST_CASE("segment parser: keywords and functions are case-insensitive",
          "[segmentation][segment]") {
  CHECK(Parsed(R"(a = 1 and b = 2 Or not c = TRUE)") ==
        "(OR (AND (= a 1) (= b 2)) (NOT (= c true)))");
  CHECK(Parsed(R"(COUNT(email.opened, 30D) >= 3 AND In_Segment("x") AND Purchased(2W))") ==
        R"((AND (>= count(email.opened, 30d) 3) (in_segment "x") (>= orders(2w) 1)))");
  // Field names keep their case.
  CHECK(Parsed("Profile.Country = 'CH'") == R"((= Profile.Country "CH"))");
}

TEST_CASE("segment parser: literals, operators, lists", "[segmentation][segment]") {
  CHECK(Parsed(R"(a = "q\"b\\s\/\n\t\u00e9")") == "(= a \"q\\\"b\\\\s/\n\t\xC3\xA9\")");
  CHECK(Parsed(R"(a = 'it\'s "x"')") == R"((= a "it's \"x\""))");
  CHECK(Parsed("a = \"Z\xC3\xBCrich\"") == "(= a \"Z\xC3\xBCrich\")");
  CHECK(Parsed("clv > -5.25") == "(> clv -5.25)");
  CHECK(Parsed("clv >= .5") == "(>= clv 0.5)");
  CHECK(Parsed("a == 1 AND b <> 2 AND c != 3 AND d < 4 AND e <= 5 AND f > 6") ==
        "(AND (= a 1) (!= b 2) (!= c 3) (< d 4) (<= e 5) (> f 6))");
  CHECK(Parsed("a \xE2\x89\xA5 1 AND b \xE2\x89\xA4 2 AND c \xE2\x89\xA0 3") ==
        "(AND (>= a 1) (<= b 2) (!= c 3))");
  CHECK(Parsed(R"(profile.country IN ("CH", "DE", "AT"))") ==
        R"((IN profile.country ("CH", "DE", "AT")))");
  CHECK(Parsed(R"(profile.country NOT IN ("CH"))") == R"((NOT IN profile.country ("CH")))");
  CHECK(Parsed(R"(count(product.viewed, category IN ("A", "B"), price > 20, 36h) > 0)") ==
        R"((> count(product.viewed, category IN ("A", "B"), price > 20, 36h) 0))");
  CHECK(Parsed(R"(spent(currency = "CHF", 52w) >= 100)") ==
        R"((>= spent(currency = "CHF", 52w) 100))");
  CHECK(Parsed("orders(365d) IN (1, 2)") == "(IN orders(365d) (1, 2))");
  CHECK(Parsed("attr.vip = false") == "(= attr.vip false)");
  // Whitespace: tabs, CRLF, newlines anywhere between tokens.
  CHECK(Parsed("\r\n\tclv\n>\r\n1\t") == "(> clv 1)");
}

TEST_CASE("segment parser: positions in messages", "[segmentation][segment]") {
  CHECK(Error("rfm.segment = \"Champions\" AND\n  (p_alive >= 0.8 OR clv > 500") ==
        "line 2, column 31: expected ')' to close the '(' of line 2, column 3, found end of "
        "input");
  CHECK(Error("clv > 1 AND\n\n   clv >") ==
        "line 3, column 9: expected a value (a \"string\", a number, true or false), found end "
        "of input");
  CHECK(Error("clv > 1 clv < 2") ==
        "line 1, column 9: expected AND, OR or the end of the expression, found 'clv'");
  // Columns count code points, not bytes: "Zürich" is 6 columns.
  CHECK(Error("profile.city = \"Z\xC3\xBCrich\" ? 1") ==
        "line 1, column 25: unexpected character '?'");
  CHECK(Error("clv > 1 AND \xC3\xA9") == "line 1, column 13: unexpected character '\xC3\xA9'");
  CHECK(Error("AND clv > 1").rfind("line 1, column 1: expected a condition", 0) == 0);
  CHECK(Error("clv 3") ==
        "line 1, column 5: expected a comparison (=, !=, <, <=, >, >=) or IN after 'clv', "
        "found '3'");
  // Quoted input is shortened on a character boundary.
  std::string e_acute;
  for (int i = 0; i < 15; ++i) e_acute += "\xC3\xA9";
  CHECK(Error("clv > 1 \"x" + e_acute + "\"") ==
        "line 1, column 9: expected AND, OR or the end of the expression, found string \"x" +
            e_acute.substr(0, 18) + "...\"");
  CHECK(Error("clv > 1 OR ()").rfind("line 1, column 13: expected a condition", 0) == 0);
}

TEST_CASE("segment parser: empty input and other malformed forms", "[segmentation][segment]") {
  CHECK(Error("") == "line 1, column 1: empty expression");
  CHECK(Error("  \n\t ") == "line 2, column 3: empty expression");
  CHECK(Error("a = \"open") == "line 1, column 5: string not closed before the end of input");
  CHECK(Error("a = \"open\nb = 1") ==
        "line 1, column 10: string not closed before the end of the line");
  CHECK(absl::StrContains(Error(R"(a = "\q")"), "column 6: unknown escape '\\q'"));
  CHECK(absl::StrContains(Error("a = \"\\\xC3\xA9\""), "column 6: unknown escape '\\\xC3\xA9'"));
  CHECK(absl::StrContains(Error(R"(a = "\u12")"), "column 6: \\u needs 4 hexadecimal digits"));
  CHECK(absl::StrContains(Error(R"(a = "\u0000")"), "\\u0000 is not allowed"));
  CHECK(absl::StrContains(Error(R"(a = "\ud800")"), "\\uD800 is not allowed"));
  CHECK(Error("count(email.opened, 30x) > 1") ==
        "line 1, column 23: unknown duration unit 'x' (use h, d or w, e.g. 7d)");
  CHECK(absl::StrContains(Error("count(email.opened, 1.5d) > 1"), "whole number"));
  CHECK(absl::StrContains(Error("count(email.opened, 1234567890d) > 1"), "whole number"));
  CHECK(Error("count(email.opened) > 1") ==
        "line 1, column 19: expected ',' and a window, e.g. count(email.opened, 30d), found "
        "')'");
  CHECK(absl::StrContains(Error("count(email.opened, 30d, campaign = \"x\") > 1"),
                          "column 24: expected ')' after the window"));
  CHECK(absl::StrContains(Error("frobnicate(30d) > 1"), "column 1: unknown function 'frobnicate'"));
  CHECK(absl::StrContains(Error("in_segment(vip) "), "column 12: expected the segment id"));
  CHECK(absl::StrContains(Error("a IN ()"), "column 7: expected a value"));
  CHECK(absl::StrContains(Error("a IN (1 2)"), "column 9: expected ',' or ')' in the list"));
  CHECK(absl::StrContains(Error("profile. = 1"), "expected a name after '.'"));
  CHECK(absl::StrContains(Error("a = - 'x'"), "expected a number after '-'"));
  CHECK(absl::StrContains(Error(std::string("a = 1 \0 AND b = 2", 17)),
                          "column 7: unexpected control character 0x00"));
  CHECK(absl::StrContains(Error(std::string("a = \"x\0\"", 8)),
                          "column 7: control character 0x00 in a string"));
}

TEST_CASE("segment parser: 10,000-deep nesting is refused without recursing",
          "[segmentation][segment]") {
  const int n = 10000;
  const std::string parens = std::string(n, '(') + "clv > 1" + std::string(n, ')');
  CHECK(Error(parens) == "line 1, column 65: nesting deeper than 64 levels (parentheses and NOT)");
  std::string nots;
  for (int i = 0; i < n; ++i) nots += "NOT ";
  CHECK(Error(nots + "clv > 1") ==
        "line 1, column 257: nesting deeper than 64 levels (parentheses and NOT)");
  std::string mixed;
  for (int i = 0; i < n; ++i) mixed += "NOT (";
  CHECK(absl::StrContains(Error(mixed + "clv > 1"), "nesting deeper than 64 levels"));
  // Exactly at the limit is fine, one more is not.
  CHECK(ParseSegment(std::string(64, '(') + "clv > 1" + std::string(64, ')')).ok());
  CHECK_FALSE(ParseSegment(std::string(65, '(') + "clv > 1" + std::string(65, ')')).ok());
  // Unclosed deep nesting: the limit, not the missing ')', is what is reported.
  CHECK(absl::StrContains(Error(std::string(n, '(')), "nesting deeper than 64"));
}

TEST_CASE("segment parser: size limits", "[segmentation][segment]") {
  // A string literal of 1024 bytes is fine, 1025 is not.
  CHECK(ParseSegment("a = \"" + std::string(1024, 'x') + "\"").ok());
  CHECK(Error("a = \"" + std::string(1025, 'x') + "\"") ==
        "line 1, column 5: string longer than 1024 bytes");
  // Escapes count after unescaping; a multi-byte character counts its bytes.
  CHECK(ParseSegment("a = \"" + std::string(1022, 'x') + "\\u00e9\"").ok());
  CHECK_FALSE(ParseSegment("a = \"" + std::string(1023, 'x') + "\\u00e9\"").ok());
  // The whole expression: 64 KiB.
  const std::string big = "a = \"" + std::string(70000, 'x') + "\"";
  CHECK(Error(big) == "line 1, column 1: expression longer than 65536 bytes (it has 70006)");
  // A huge number or name.
  CHECK(Error("clv > " + std::string(40, '9')) ==
        "line 1, column 7: number longer than 32 characters");
  CHECK(absl::StrContains(Error("clv > 1e400"), "unknown duration unit 'e400'"));
  CHECK(absl::StrContains(Error(std::string(200, 'a') + " = 1"), "name longer than 128"));
  // Conditions.
  std::string many = "clv > 0";
  for (int i = 1; i < 256; ++i) many += " OR clv > " + std::to_string(i);
  CHECK(ParseSegment(many).ok());
  CHECK(absl::StrContains(Error(many + " OR clv > 256"), "more than 256 conditions"));
  // IN lists.
  std::string list = "a IN (0";
  for (int i = 1; i < 256; ++i) list += ", " + std::to_string(i);
  CHECK(ParseSegment(list + ")").ok());
  CHECK(absl::StrContains(Error(list + ", 256)"), "more than 256 values in a list"));
  // Limits can be tightened by the caller.
  SegmentLimits tight;
  tight.max_depth = 2;
  CHECK(ParseSegment("((clv > 1))", tight).ok());
  CHECK(absl::StrContains(Error("(((clv > 1)))", tight), "nesting deeper than 2 levels"));
}

TEST_CASE("segment parser: invalid UTF-8 is refused with its position", "[segmentation][segment]") {
  CHECK(Error("profile.city = \"Z\xC3\"") ==
        "line 1, column 18: invalid UTF-8 (byte 0xC3 at offset 17)");
  CHECK(Error("clv > 1 AND\n  a = \"\xFF\"") ==
        "line 2, column 8: invalid UTF-8 (byte 0xFF at offset 19)");
  // Overlong encoding of '/', a UTF-16 surrogate, a code point above U+10FFFF,
  // a stray continuation byte.
  CHECK(absl::StrContains(Error("a = \"\xC0\xAF\""), "column 6: invalid UTF-8"));
  CHECK(absl::StrContains(Error("a = \"\xED\xA0\x80\""), "column 6: invalid UTF-8"));
  CHECK(absl::StrContains(Error("a = \"\xF4\x90\x80\x80\""), "column 6: invalid UTF-8"));
  CHECK(absl::StrContains(Error("\x80"), "column 1: invalid UTF-8"));
  CHECK(FirstInvalidUtf8("ok \xE2\x89\xA5 \xF0\x9F\x8E\xB5") == -1);
  CHECK(FirstInvalidUtf8("ab\xE2\x89") == 2);  // truncated sequence
}

}  // namespace

namespace {

// Random token soup and random bytes: every input gets an answer (a tree or
// SEGMENT_SYNTAX), never a crash; what parses also checks or is refused
// with SEGMENT_INVALID, and prints.
TEST_CASE("segment parser: random input never crashes", "[segmentation][segment]") {
  std::mt19937 rng(42);
  const std::vector<std::string> pieces = {"(",
                                           ")",
                                           "NOT ",
                                           " AND ",
                                           " OR ",
                                           "clv",
                                           " > ",
                                           " = ",
                                           "!=",
                                           "3",
                                           "-",
                                           "1.5",
                                           ",",
                                           "\"Music/Jazz\"",
                                           "'x'",
                                           "count(",
                                           "email.opened",
                                           "7d",
                                           "spent(",
                                           "bought(",
                                           "IN",
                                           "in_segment(",
                                           "\"a\"",
                                           "\\",
                                           "\"",
                                           "category",
                                           "rfm.segment",
                                           "\xC3\xA9",
                                           "\xE2\x89\xA5",
                                           "\n",
                                           " ",
                                           "true",
                                           "orders(",
                                           "0d",
                                           "99999999999d"};
  const crm::segmentation::domain::FieldCatalog catalog =
      crm::segmentation::domain::FieldCatalog::Default();
  const std::vector<std::string> valid = {
      R"(rfm.segment = "Champions" AND (p_alive >= 0.8 OR clv > 500) AND NOT consent.email = "opted_out")",
      R"(count(product.viewed, category = "Music/Jazz", 7d) >= 3 OR NOT purchased(90d))",
      R"(bought(category IN ("Music", "Books"), 90d) AND spent(currency = "CHF", 365d) >= 100)",
      R"(profile.country NOT IN ("CH", "DE") OR (in_segment("vip") AND count(email.opened, 30d) > 2))",
  };
  auto pick = [&](size_t n) { return std::uniform_int_distribution<size_t>(0, n - 1)(rng); };
  int parsed = 0;
  for (int i = 0; i < 3000; ++i) {
    std::string text;
    if (i % 2 == 0) {
      // A valid expression with 0 to 3 random edits.
      text = valid[pick(valid.size())];
      const size_t edits = pick(4);
      for (size_t k = 0; k < edits && !text.empty(); ++k) {
        const size_t at = pick(text.size());
        switch (pick(4)) {
          case 0:
            text.erase(at, 1 + pick(8));
            break;
          case 1:
            text.insert(at, pieces[pick(pieces.size())]);
            break;
          case 2:
            text.insert(at, 1, static_cast<char>(pick(256)));
            break;
          default:
            text.resize(at);
        }
      }
    } else {
      const size_t n = pick(41);
      for (size_t k = 0; k < n; ++k) {
        if (i % 3 == 0 && k % 7 == 0) {
          text.push_back(static_cast<char>(pick(256)));
        } else {
          text += pieces[pick(pieces.size())];
        }
      }
    }
    INFO(text);
    absl::StatusOr<Expr> e = ParseSegment(text);
    if (!e.ok()) {
      CHECK(ReasonOf(e.status()) == "SEGMENT_SYNTAX");
      CHECK(absl::StartsWith(e.status().message(), "line "));
      CHECK(FirstInvalidUtf8(e.status().message()) == -1);
      continue;
    }
    ++parsed;
    CHECK_FALSE(DebugString(*e).empty());
    absl::StatusOr<CheckedSegment> c = CheckSegment(*std::move(e), catalog);
    if (!c.ok()) CHECK(ReasonOf(c.status()) == "SEGMENT_INVALID");
  }
  CHECK(parsed > 300);  // the edits leave many expressions valid
}

}  // namespace
