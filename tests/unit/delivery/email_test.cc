// Composing MIME messages: addresses, display names, quoted-printable,
// header encoding and folding, header injection, multipart structure.
#include "services/delivery/domain/email.h"

#include <algorithm>
#include <catch2/catch.hpp>
#include <map>
#include <string>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"

namespace {

using crm::delivery::domain::ComposeEmail;
using crm::delivery::domain::Email;
using crm::delivery::domain::FormatMailbox;
using crm::delivery::domain::Mailbox;
using crm::delivery::domain::QuotedPrintable;
using crm::delivery::domain::ValidEmailAddress;

constexpr char kBoundary[] = "=_b0undary.7f3a";

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;  // lower-case hex is not what the encoder emits
}

// An RFC 2045 quoted-printable decoder (strict: upper-case hex only).
std::string QpDecode(const std::string& in) {
  std::string out;
  for (size_t i = 0; i < in.size(); ++i) {
    if (in[i] != '=') {
      out += in[i];
      continue;
    }
    REQUIRE(i + 2 < in.size());
    if (in[i + 1] == '\r' && in[i + 2] == '\n') {  // soft line break
      i += 2;
      continue;
    }
    int hi = HexValue(in[i + 1]);
    int lo = HexValue(in[i + 2]);
    REQUIRE(hi >= 0);
    REQUIRE(lo >= 0);
    out += static_cast<char>(hi * 16 + lo);
    i += 2;
  }
  return out;
}

// Bare CR and LF as CRLF.
std::string Crlf(const std::string& in) {
  std::string out;
  for (size_t i = 0; i < in.size(); ++i) {
    if (in[i] == '\r' && i + 1 < in.size() && in[i + 1] == '\n') {
      out += "\r\n";
      ++i;
    } else if (in[i] == '\r' || in[i] == '\n') {
      out += "\r\n";
    } else {
      out += in[i];
    }
  }
  return out;
}

// Every line of a quoted-printable body obeys RFC 2045 and the SMTP rules.
void CheckQpLines(const std::string& qp) {
  for (absl::string_view line : absl::StrSplit(qp, "\r\n")) {
    INFO(std::string(line));
    CHECK(line.size() <= 76);
    CHECK(line.find('\r') == absl::string_view::npos);
    CHECK(line.find('\n') == absl::string_view::npos);
    if (!line.empty()) {
      CHECK(line.front() != '.');
      CHECK(line.back() != ' ');
      CHECK(line.back() != '\t');
    }
    for (char c : line) {
      unsigned char u = static_cast<unsigned char>(c);
      CHECK(((u >= 33 && u <= 126) || u == ' ' || u == '\t'));
    }
  }
}

// Decodes a header value of RFC 2047 B words (UTF-8) separated by folding
// whitespace; fails the test on anything else.
std::string DecodeBWords(const std::string& value) {
  std::string out;
  for (absl::string_view word : absl::StrSplit(value, ' ', absl::SkipEmpty())) {
    INFO(std::string(word));
    REQUIRE(word.size() <= 75);
    REQUIRE(absl::StartsWith(word, "=?UTF-8?B?"));
    REQUIRE(absl::EndsWith(word, "?="));
    absl::string_view b64 = word.substr(10, word.size() - 12);
    std::string decoded;
    REQUIRE(absl::Base64Unescape(b64, &decoded));
    out += decoded;
  }
  return out;
}

struct Message {
  std::vector<std::string> raw_header_lines;   // folded, as written
  std::map<std::string, std::string> headers;  // unfolded
  std::vector<std::string> order;
  std::string body;
};

Message Parse(const std::string& m) {
  Message out;
  size_t split = m.find("\r\n\r\n");
  REQUIRE(split != std::string::npos);
  std::string head = m.substr(0, split);
  out.body = m.substr(split + 4);
  out.raw_header_lines = absl::StrSplit(head, "\r\n");
  std::string unfolded = absl::StrReplaceAll(head, {{"\r\n ", " "}, {"\r\n\t", "\t"}});
  for (absl::string_view line : absl::StrSplit(unfolded, "\r\n")) {
    size_t colon = line.find(':');
    REQUIRE(colon != absl::string_view::npos);
    std::string name(line.substr(0, colon));
    absl::string_view value = line.substr(colon + 1);
    if (absl::StartsWith(value, " ")) value.remove_prefix(1);
    CHECK(out.headers.count(name) == 0);
    out.headers[name] = std::string(value);
    out.order.push_back(name);
  }
  return out;
}

Email BaseEmail() {
  Email e;
  e.from = {"Acme Shop", "news@acme.example"};
  e.to = {"Jane Doe", "jane@example.com"};
  e.subject = "Your weekly picks";
  e.text = "Hello Jane\n";
  e.message_id = "0193a1b2.42@crm.acme.example";
  e.date = absl::FromCivil(absl::CivilSecond(2025, 2, 13, 12, 34, 56), absl::UTCTimeZone());
  return e;
}

std::string Compose(const Email& e) {
  auto m = ComposeEmail(e, kBoundary);
  if (!m.ok()) FAIL(m.status().ToString());
  return *m;
}

std::string ComposeError(const Email& e, absl::string_view boundary = kBoundary) {
  auto m = ComposeEmail(e, boundary);
  REQUIRE_FALSE(m.ok());
  CHECK(m.status().code() == absl::StatusCode::kInvalidArgument);
  return std::string(m.status().message());
}

TEST_CASE("ValidEmailAddress accepts pragmatic addresses", "[delivery][email]") {
  for (const char* ok : {"a@b.co", "jane.doe+tag@example.com", "o'neil@example.ie",
                         "x_y-z@sub.example.org", "user@[192.0.2.1]", "user@[IPv6:2001:db8::1]",
                         "a!#$%&'*+/=?^_`{|}~-@example.com", "x@xn--bcher-kva.example"}) {
    INFO(ok);
    CHECK(ValidEmailAddress(ok));
  }
  std::string local64(64, 'a');
  CHECK(ValidEmailAddress(local64 + "@example.com"));
  std::string domain = std::string(63, 'd') + "." + std::string(63, 'd') + "." +
                       std::string(63, 'd') + "." + std::string(57, 'd') + ".com";
  std::string max = local64 + "@" + domain.substr(0, 254 - 65 - 4) + ".com";
  REQUIRE(max.size() == 254);
  CHECK(ValidEmailAddress(max));
}

TEST_CASE("ValidEmailAddress rejects malformed addresses", "[delivery][email]") {
  std::string local65(65, 'a');
  for (const std::string& bad : std::vector<std::string>{
           "", "plain", "@example.com", "jane@", "jane@localhost", "a@b@c.com", "jane doe@x.com",
           "jane@exa mple.com", "<jane@example.com>", "jane@example.com>", "a,b@example.com",
           "jane@example.com,x@y.com", "jane\r\n@example.com", "jane@example.com\n",
           std::string("ja\0ne@x.com", 11), "\"jane\"@example.com", ".jane@example.com",
           "jane.@example.com", "ja..ne@example.com", "jane@-example.com", "jane@example-.com",
           "jane@example..com", "jane@.example.com", "jane@example.com.", "jäne@example.com",
           "jane@bücher.example", "jane@[300.1.1.1]", "jane@[1.2.3.4", "jane@ex_ample.com",
           local65 + "@example.com",
           // 255 characters, every part otherwise valid.
           std::string(64, 'a') + "@" + std::string(60, 'b') + "." + std::string(60, 'b') + "." +
               std::string(60, 'b') + ".abcdefg"}) {
    INFO(bad);
    CHECK_FALSE(ValidEmailAddress(bad));
  }
}

TEST_CASE("FormatMailbox writes atoms, quoted strings or encoded words", "[delivery][email]") {
  CHECK(FormatMailbox({"", "a@b.co"}) == "a@b.co");
  CHECK(FormatMailbox({"Acme Shop", "a@b.co"}) == "Acme Shop <a@b.co>");
  CHECK(FormatMailbox({"Doe, Jane", "a@b.co"}) == "\"Doe, Jane\" <a@b.co>");
  CHECK(FormatMailbox({"Jane \"JD\" Doe", "a@b.co"}) == "\"Jane \\\"JD\\\" Doe\" <a@b.co>");
  CHECK(FormatMailbox({"a\\b", "a@b.co"}) == "\"a\\\\b\" <a@b.co>");
  CHECK(FormatMailbox({"Two  spaces", "a@b.co"}) == "\"Two  spaces\" <a@b.co>");

  std::string name = "Zoë Müller — Café";
  std::string formatted = FormatMailbox({name, "zoe@example.com"});
  REQUIRE(absl::EndsWith(formatted, " <zoe@example.com>"));
  std::string words =
      formatted.substr(0, formatted.size() - std::string(" <zoe@example.com>").size());
  CHECK(DecodeBWords(words) == name);

  // "=?" in a plain name would be read as an encoded word: encode it instead.
  std::string tricky = "=?UTF-8?B?QWRtaW4=?=";
  std::string f = FormatMailbox({tricky, "a@b.co"});
  CHECK(DecodeBWords(f.substr(0, f.find(" <"))) == tricky);
}

TEST_CASE("QuotedPrintable encodes the special characters", "[delivery][email][qp]") {
  CHECK(QuotedPrintable("") == "");
  CHECK(QuotedPrintable("Hello, world!") == "Hello, world!");
  CHECK(QuotedPrintable("a=b") == "a=3Db");
  CHECK(QuotedPrintable("==") == "=3D=3D");
  CHECK(QuotedPrintable("caf\xc3\xa9") == "caf=C3=A9");
  CHECK(QuotedPrintable("\x7f\x01\xff") == "=7F=01=FF");
  CHECK(QuotedPrintable("a b\tc") == "a b\tc");
  CHECK(QuotedPrintable(std::string("a\0b", 3)) == "a=00b");
}

TEST_CASE("QuotedPrintable encodes trailing whitespace", "[delivery][email][qp]") {
  CHECK(QuotedPrintable("a ") == "a=20");
  CHECK(QuotedPrintable("a\t") == "a=09");
  CHECK(QuotedPrintable("a  \nb") == "a =20\r\nb");
  CHECK(QuotedPrintable("a \r\nb \rc") == "a=20\r\nb=20\r\nc");
  CHECK(QuotedPrintable(" ") == "=20");
}

TEST_CASE("QuotedPrintable normalizes line breaks to CRLF", "[delivery][email][qp]") {
  CHECK(QuotedPrintable("a\nb") == "a\r\nb");
  CHECK(QuotedPrintable("a\rb") == "a\r\nb");
  CHECK(QuotedPrintable("a\r\nb") == "a\r\nb");
  CHECK(QuotedPrintable("a\n\rb") == "a\r\n\r\nb");  // LF then CR: two breaks
  CHECK(QuotedPrintable("a\n\nb\n") == "a\r\n\r\nb\r\n");
  CHECK(QuotedPrintable("\r\n") == "\r\n");
}

TEST_CASE("QuotedPrintable encodes a leading dot and From", "[delivery][email][qp]") {
  CHECK(QuotedPrintable(".") == "=2E");
  CHECK(QuotedPrintable(".hidden") == "=2Ehidden");
  CHECK(QuotedPrintable("a\n.\nb") == "a\r\n=2E\r\nb");
  CHECK(QuotedPrintable("a.b") == "a.b");
  CHECK(QuotedPrintable("From here") == "=46rom here");
  CHECK(QuotedPrintable("x\nFrom here") == "x\r\n=46rom here");
  CHECK(QuotedPrintable("Fromage") == "Fromage");
}

TEST_CASE("QuotedPrintable breaks long lines softly at 76 characters", "[delivery][email][qp]") {
  CHECK(QuotedPrintable(std::string(76, 'a')) == std::string(76, 'a'));
  CHECK(QuotedPrintable(std::string(77, 'a')) == std::string(75, 'a') + "=\r\naa");
  CHECK(QuotedPrintable(std::string(76, 'a') + "\nb") == std::string(76, 'a') + "\r\nb");
  // An escape is never split across a soft break.
  CHECK(QuotedPrintable(std::string(74, 'a') + "=b") == std::string(74, 'a') + "=\r\n=3Db");
  CHECK(QuotedPrintable(std::string(73, 'a') + "=b") == std::string(73, 'a') + "=\r\n=3Db");
  CHECK(QuotedPrintable(std::string(72, 'a') + "=b") == std::string(72, 'a') + "=3Db");
  CHECK(QuotedPrintable(std::string(73, 'a') + "=") == std::string(73, 'a') + "=3D");
  CHECK(QuotedPrintable(std::string(74, 'a') + "=") == std::string(74, 'a') + "=\r\n=3D");
  // A dot that a soft break moves to the start of a line is encoded too.
  CHECK(QuotedPrintable(std::string(75, 'a') + ".b") == std::string(75, 'a') + "=\r\n=2Eb");
  // Whitespace before a soft break is fine; at the end of a line it is not.
  CHECK(QuotedPrintable(std::string(74, 'a') + " bc") == std::string(74, 'a') + " =\r\nbc");
  CHECK(QuotedPrintable(std::string(75, 'a') + " ") == std::string(75, 'a') + "=\r\n=20");

  std::string long_text;
  for (int i = 0; i < 300; ++i) long_text += "é=. \t";
  std::string qp = QuotedPrintable(long_text);
  CheckQpLines(qp);
  CHECK(QpDecode(qp) == long_text);
}

TEST_CASE("QuotedPrintable round-trips arbitrary bytes", "[delivery][email][qp]") {
  std::vector<std::string> inputs = {"plain",
                                     "line one\nline two\r\nline three\rend",
                                     ". leading\n..double\n.\n",
                                     "trailing \t \nspaces  ",
                                     std::string(500, '='),
                                     std::string(200, ' ') + "x",
                                     "From the start\nFrom again",
                                     "\xe2\x9c\x93 unicode \xf0\x9f\x98\x80 emoji\n"};
  std::string all;
  for (int i = 0; i < 256; ++i) all += static_cast<char>(i);
  inputs.push_back(all + all + all);
  for (const std::string& in : inputs) {
    INFO(in);
    std::string qp = QuotedPrintable(in);
    CheckQpLines(qp);
    CHECK(QpDecode(qp) == Crlf(in));
  }
}

TEST_CASE("a single-part text message", "[delivery][email]") {
  Email e = BaseEmail();
  e.text = "Hello Jane,\n.\nprice = 10 €\n";
  std::string raw = Compose(e);
  // CRLF only.
  CHECK(absl::StrReplaceAll(raw, {{"\r\n", ""}}).find_first_of("\r\n") == std::string::npos);
  CHECK(absl::EndsWith(raw, "\r\n"));
  Message m = Parse(raw);
  CHECK(m.headers["From"] == "Acme Shop <news@acme.example>");
  CHECK(m.headers["To"] == "Jane Doe <jane@example.com>");
  CHECK(m.headers.count("Reply-To") == 0);
  CHECK(m.headers["Subject"] == "Your weekly picks");
  CHECK(m.headers["Date"] == "Thu, 13 Feb 2025 12:34:56 +0000");
  CHECK(m.headers["Message-ID"] == "<0193a1b2.42@crm.acme.example>");
  CHECK(m.headers["MIME-Version"] == "1.0");
  CHECK(m.headers["Content-Type"] == "text/plain; charset=utf-8");
  CHECK(m.headers["Content-Transfer-Encoding"] == "quoted-printable");
  CHECK(m.headers.count("List-Unsubscribe") == 0);
  CHECK(m.headers.count("List-Unsubscribe-Post") == 0);
  CHECK(m.order.front() == "From");
  CHECK(m.body == "Hello Jane,\r\n=2E\r\nprice =3D 10 =E2=82=AC\r\n\r\n");
  CHECK(QpDecode(m.body) == Crlf(e.text) + "\r\n");
  for (const std::string& line : m.raw_header_lines) CHECK(line.size() <= 78);
}

TEST_CASE("an html-only message is a single text/html part", "[delivery][email]") {
  Email e = BaseEmail();
  e.text.clear();
  e.html = "<p>Hi</p>";
  Message m = Parse(Compose(e));
  CHECK(m.headers["Content-Type"] == "text/html; charset=utf-8");
  CHECK(m.body == "<p>Hi</p>\r\n");
}

TEST_CASE("text and html make a multipart/alternative message", "[delivery][email]") {
  Email e = BaseEmail();
  e.text = "Hi Jane\n";
  e.html = "<p style=\"x\">Hi Jan\xc3\xa9</p>";
  Message m = Parse(Compose(e));
  CHECK(m.headers["Content-Type"] ==
        std::string("multipart/alternative; boundary=\"") + kBoundary + "\"");
  CHECK(m.headers.count("Content-Transfer-Encoding") == 0);

  std::string delimiter = std::string("--") + kBoundary;
  std::vector<std::string> pieces = absl::StrSplit(m.body, delimiter);
  // "" before the first delimiter, two parts, "--\r\n" after the closing one.
  REQUIRE(pieces.size() == 4);
  CHECK(pieces[0].empty());
  CHECK(pieces[3] == "--\r\n");
  CHECK(pieces[1] ==
        "\r\nContent-Type: text/plain; charset=utf-8\r\n"
        "Content-Transfer-Encoding: quoted-printable\r\n\r\nHi Jane\r\n\r\n");
  CHECK(pieces[2] ==
        "\r\nContent-Type: text/html; charset=utf-8\r\n"
        "Content-Transfer-Encoding: quoted-printable\r\n\r\n<p style=3D\"x\">Hi Jan=C3=A9</p>\r\n");
}

TEST_CASE("a message needs a body", "[delivery][email]") {
  Email e = BaseEmail();
  e.text.clear();
  CHECK_THAT(ComposeError(e), Catch::Contains("text or html"));
}

TEST_CASE("the boundary is checked for multipart messages", "[delivery][email]") {
  Email e = BaseEmail();
  e.text = "contains simple-boundary here";
  e.html = "<p>x</p>";
  CHECK_THAT(ComposeError(e, "simple-boundary"), Catch::Contains("boundary"));
  e.text = "fine";
  e.html = "<p>simple-boundary</p>";
  CHECK_THAT(ComposeError(e, "simple-boundary"), Catch::Contains("boundary"));
  // "=_" never occurs in quoted-printable, so such a boundary is always safe.
  e.text = std::string("contains ") + kBoundary + " here";
  CHECK(ComposeEmail(e, kBoundary).ok());

  e.text = "fine";
  CHECK_THAT(ComposeError(e, ""), Catch::Contains("boundary"));
  CHECK_THAT(ComposeError(e, std::string(71, 'b')), Catch::Contains("boundary"));
  CHECK_THAT(ComposeError(e, "has space"), Catch::Contains("boundary"));
  CHECK_THAT(ComposeError(e, "quote\"s"), Catch::Contains("boundary"));
  CHECK_THAT(ComposeError(e, "line\r\nbreak"), Catch::Contains("boundary"));
  CHECK(ComposeEmail(e, std::string(70, 'b')).ok());

  // The boundary is checked against the encoded form: "=" becomes "=3D".
  e.text = "a=b";
  CHECK(ComposeEmail(e, "a=b").ok());
  CHECK_FALSE(ComposeEmail(e, "3Db").ok());

  // A single part does not use the boundary.
  e.html.clear();
  CHECK(ComposeEmail(e, "").ok());
}

TEST_CASE("a non-ASCII subject is B-encoded and round-trips", "[delivery][email][subject]") {
  Email e = BaseEmail();
  std::string subject;
  for (int i = 0; i < 12; ++i) subject += "Grüße aus Zürich — 日本語のテキスト 😀 ";
  subject += "end";
  e.subject = subject;
  Message m = Parse(Compose(e));
  for (const std::string& line : m.raw_header_lines) {
    INFO(line);
    CHECK(line.size() <= 78);
  }
  CHECK(DecodeBWords(m.headers["Subject"]) == subject);

  // Short non-ASCII subject: one word.
  e.subject = "Café";
  m = Parse(Compose(e));
  CHECK(m.headers["Subject"] == "=?UTF-8?B?Q2Fmw6k=?=");
}

TEST_CASE("each encoded word holds whole UTF-8 characters", "[delivery][email][subject]") {
  Email e = BaseEmail();
  e.subject = std::string(40, 'a') + "€€€€€€€€€€€€€€€€€€€€";  // 3-byte characters
  Message m = Parse(Compose(e));
  for (absl::string_view word : absl::StrSplit(m.headers["Subject"], ' ', absl::SkipEmpty())) {
    std::string decoded;
    REQUIRE(absl::Base64Unescape(word.substr(10, word.size() - 12), &decoded));
    REQUIRE_FALSE(decoded.empty());
    // Does not end inside a sequence: the last lead byte's sequence is complete.
    size_t lead = decoded.size() - 1;
    while (lead > 0 && (static_cast<unsigned char>(decoded[lead]) & 0xC0) == 0x80) --lead;
    unsigned char c = static_cast<unsigned char>(decoded[lead]);
    size_t len = c < 0x80 ? 1 : c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : 2;
    CHECK(decoded.size() - lead == len);
  }
  CHECK(DecodeBWords(m.headers["Subject"]) == e.subject);
}

TEST_CASE("a long ASCII subject is folded at spaces", "[delivery][email][subject]") {
  Email e = BaseEmail();
  e.subject =
      "This is a rather long subject line that will certainly need to be folded over more "
      "than one header line because it exceeds seventy-eight characters";
  std::string raw = Compose(e);
  Message m = Parse(raw);
  CHECK(m.headers["Subject"] == e.subject);
  int subject_lines = 0;
  bool in_subject = false;
  for (const std::string& line : m.raw_header_lines) {
    CHECK(line.size() <= 78);
    if (absl::StartsWith(line, "Subject:"))
      in_subject = true;
    else if (!absl::StartsWith(line, " "))
      in_subject = false;
    if (in_subject) ++subject_lines;
  }
  CHECK(subject_lines >= 2);
}

TEST_CASE("subjects that would not fold or decode cleanly are encoded",
          "[delivery][email][subject]") {
  Email e = BaseEmail();
  for (const std::string& subject :
       {std::string(100, 'x'), std::string("=?UTF-8?B?SGk=?="), std::string("two  spaces"),
        std::string(" leading"), std::string("trailing "), std::string("tab\there"),
        std::string("bell\x07")}) {
    INFO(subject);
    e.subject = subject;
    Message m = Parse(Compose(e));
    CHECK(absl::StartsWith(m.headers["Subject"], "=?UTF-8?B?"));
    CHECK(DecodeBWords(m.headers["Subject"]) == subject);
    for (const std::string& line : m.raw_header_lines) CHECK(line.size() <= 78);
  }
}

TEST_CASE("non-ASCII display names are encoded in From and To", "[delivery][email]") {
  Email e = BaseEmail();
  e.from.name = "Boutique Élégance";
  e.to.name = "";
  Message m = Parse(Compose(e));
  CHECK(m.headers["To"] == "jane@example.com");
  std::string from = m.headers["From"];
  REQUIRE(absl::EndsWith(from, " <news@acme.example>"));
  CHECK(DecodeBWords(from.substr(0, from.find(" <"))) == "Boutique Élégance");
}

TEST_CASE("header injection is refused", "[delivery][email][injection]") {
  struct Case {
    const char* what;
    void (*mutate)(Email*);
    const char* field;
  };
  const Case cases[] = {
      {"subject", [](Email* e) { e->subject = "Hi\r\nBcc: victim@example.com"; }, "subject"},
      {"subject LF", [](Email* e) { e->subject = "Hi\nBcc: victim@example.com"; }, "subject"},
      {"subject CR", [](Email* e) { e->subject = "Hi\rBcc: victim@example.com"; }, "subject"},
      {"from name", [](Email* e) { e->from.name = "Acme\r\nBcc: v@x.com"; }, "from.name"},
      {"to name", [](Email* e) { e->to.name = "Jane\n"; }, "to.name"},
      {"to address", [](Email* e) { e->to.address = "jane@example.com\r\nBcc: v@x.com"; },
       "to.address"},
      {"reply-to", [](Email* e) { e->reply_to = "r@example.com\nBcc: v@x.com"; }, "reply_to"},
      {"message id", [](Email* e) { e->message_id = "a@b\r\nBcc: v@x.com"; }, "message_id"},
      {"unsubscribe url",
       [](Email* e) { e->list_unsubscribe_url = "https://u.example/x\r\nBcc: v@x.com"; },
       "list_unsubscribe_url"},
      {"unsubscribe mailto",
       [](Email* e) { e->list_unsubscribe_mailto = "u@example.com\nBcc: v@x.com"; },
       "list_unsubscribe_mailto"},
      {"extra value",
       [](Email* e) {
         e->headers = {{"X-CRM-Message", "1\r\nBcc: v@x.com"}};
       },
       "X-CRM-Message"},
      {"extra name",
       [](Email* e) {
         e->headers = {{"X-A\r\nBcc", "v@x.com"}};
       },
       "headers"},
  };
  for (const Case& c : cases) {
    INFO(c.what);
    Email e = BaseEmail();
    c.mutate(&e);
    std::string error = ComposeError(e);
    CHECK_THAT(error, Catch::Contains(c.field));
    CHECK_THAT(error, Catch::Contains("CR or LF"));
  }
}

TEST_CASE("addresses and the message id are validated", "[delivery][email]") {
  Email e = BaseEmail();
  e.from.address = "not an address";
  CHECK_THAT(ComposeError(e), Catch::Contains("from.address"));
  e = BaseEmail();
  e.to.address = "jane@localhost";
  CHECK_THAT(ComposeError(e), Catch::Contains("to.address"));
  e = BaseEmail();
  e.reply_to = "a,b@example.com";
  CHECK_THAT(ComposeError(e), Catch::Contains("reply_to"));
  for (const char* bad : {"", "<id@example.com>", "no-at-sign", "a@b@c", "@b", "a@", "a b@c"}) {
    INFO(bad);
    e = BaseEmail();
    e.message_id = bad;
    CHECK_THAT(ComposeError(e), Catch::Contains("message_id"));
  }
}

TEST_CASE("Reply-To is written when set", "[delivery][email]") {
  Email e = BaseEmail();
  e.reply_to = "support@acme.example";
  Message m = Parse(Compose(e));
  CHECK(m.headers["Reply-To"] == "support@acme.example");
}

TEST_CASE("the Date header is RFC 5322 in UTC", "[delivery][email]") {
  Email e = BaseEmail();
  e.date = absl::FromCivil(absl::CivilSecond(2025, 1, 5, 3, 4, 5), absl::FixedTimeZone(2 * 3600)) +
           absl::Milliseconds(999);
  Message m = Parse(Compose(e));
  CHECK(m.headers["Date"] == "Sun, 05 Jan 2025 01:04:05 +0000");
  e.date = absl::FromCivil(absl::CivilSecond(2024, 12, 31, 23, 59, 59), absl::UTCTimeZone());
  CHECK(Parse(Compose(e)).headers["Date"] == "Tue, 31 Dec 2024 23:59:59 +0000");
  e.date = absl::InfiniteFuture();
  CHECK_THAT(ComposeError(e), Catch::Contains("date"));
  e.date = absl::FromCivil(absl::CivilSecond(1800, 1, 1, 0, 0, 0), absl::UTCTimeZone());
  CHECK_THAT(ComposeError(e), Catch::Contains("date"));
}

TEST_CASE("List-Unsubscribe with one-click (RFC 8058)", "[delivery][email][unsubscribe]") {
  Email e = BaseEmail();
  e.list_unsubscribe_url = "https://crm.acme.example/u/abc123?t=x%2Cy";
  e.list_unsubscribe_mailto = "unsub@acme.example?subject=unsubscribe";
  Message m = Parse(Compose(e));
  CHECK(m.headers["List-Unsubscribe"] ==
        "<https://crm.acme.example/u/abc123?t=x%2Cy>, "
        "<mailto:unsub@acme.example?subject=unsubscribe>");
  CHECK(m.headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click");

  e.list_unsubscribe_url.clear();
  e.list_unsubscribe_mailto = "MAILTO:unsub@acme.example";
  m = Parse(Compose(e));
  CHECK(m.headers["List-Unsubscribe"] == "<mailto:unsub@acme.example>");
  CHECK(m.headers.count("List-Unsubscribe-Post") == 0);

  e.list_unsubscribe_mailto.clear();
  e.list_unsubscribe_url = "https://crm.acme.example/u/1";
  m = Parse(Compose(e));
  CHECK(m.headers["List-Unsubscribe"] == "<https://crm.acme.example/u/1>");
  CHECK(m.headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click");
}

TEST_CASE("bad List-Unsubscribe values are refused", "[delivery][email][unsubscribe]") {
  for (const char* url : {"http://crm.acme.example/u/1", "ftp://x/", "https://", "https://a/b c",
                          "https://a/<x>", "https://a/x,y", "crm.acme.example/u"}) {
    INFO(url);
    Email e = BaseEmail();
    e.list_unsubscribe_url = url;
    CHECK_THAT(ComposeError(e), Catch::Contains("list_unsubscribe_url"));
  }
  for (const char* mailto : {"not-an-address", "mailto:", "a@b.com>", "a b@c.com"}) {
    INFO(mailto);
    Email e = BaseEmail();
    e.list_unsubscribe_mailto = mailto;
    CHECK_THAT(ComposeError(e), Catch::Contains("list_unsubscribe_mailto"));
  }
}

TEST_CASE("extra headers are written after the standard ones", "[delivery][email][headers]") {
  Email e = BaseEmail();
  e.headers = {{"X-CRM-Message", "msg-42"}, {"X-CRM-Campaign", "spring sale"}};
  Message m = Parse(Compose(e));
  CHECK(m.headers["X-CRM-Message"] == "msg-42");
  CHECK(m.headers["X-CRM-Campaign"] == "spring sale");
  auto pos = [&](const std::string& name) {
    return std::find(m.order.begin(), m.order.end(), name) - m.order.begin();
  };
  CHECK(pos("Message-ID") < pos("X-CRM-Message"));
  CHECK(pos("X-CRM-Message") < pos("X-CRM-Campaign"));

  // Long values fold at spaces.
  std::string value;
  for (int i = 0; i < 30; ++i) value += "word" + std::to_string(i) + " ";
  value += "end";
  e.headers = {{"X-Long", value}};
  m = Parse(Compose(e));
  CHECK(m.headers["X-Long"] == value);
  for (const std::string& line : m.raw_header_lines) CHECK(line.size() <= 78);
}

TEST_CASE("bad extra headers are refused", "[delivery][email][headers]") {
  struct Case {
    std::string name;
    std::string value;
    const char* expect;
  };
  const std::vector<Case> cases = {
      {"Subject", "x", "set by the composer"},
      {"bcc", "v@x.com", "set by the composer"},
      {"Content-Type", "text/html", "set by the composer"},
      {"List-Unsubscribe-Post", "x", "set by the composer"},
      {"X:Bad", "x", "not a valid header name"},
      {"", "x", "not a valid header name"},
      {"X Bad", "x", "not a valid header name"},
      {"X-Utf8", "caf\xc3\xa9", "printable ASCII"},
      {"X-Ctl", std::string("a\0b", 3), "printable ASCII"},
      {"X-Huge", std::string(1200, 'z'), "998"},
  };
  for (const Case& c : cases) {
    INFO(c.name);
    Email e = BaseEmail();
    e.headers = {{c.name, c.value}};
    CHECK_THAT(ComposeError(e), Catch::Contains(c.expect));
  }
}

}  // namespace

TEST_CASE("References fit one header line, keeping the root and the newest",
          "[delivery][email][headers]") {
  using crm::delivery::domain::ReferencesHeader;
  CHECK(ReferencesHeader({}).empty());
  CHECK(ReferencesHeader({"a@x"}) == "<a@x>");
  CHECK(ReferencesHeader({"a@x", "bad id@x", "b@x", "<c@x>", "é@x"}) == "<a@x> <b@x>");
  std::vector<std::string> ids;
  for (int i = 0; i < 100; ++i) ids.push_back("message-" + std::to_string(i) + "@example.com");
  const std::string h = ReferencesHeader(ids, 200);
  CHECK(h.size() <= 200);
  CHECK(h.rfind("<message-0@example.com> ", 0) == 0);
  CHECK(absl::EndsWith(h, "<message-99@example.com>"));
  CHECK_FALSE(absl::StrContains(h, "<message-1@example.com>"));
}

TEST_CASE("a message with files is multipart/mixed: the body, then each file in base64",
          "[delivery][email]") {
  Email e = BaseEmail();
  e.text = "Your invoice is attached.\n";
  std::string pdf = "%PDF-1.4\n";
  for (int i = 0; i < 300; ++i) pdf += static_cast<char>(i % 256);
  e.attachments.push_back({"invoice.pdf", "application/pdf", pdf});
  std::string long_name = "Rechnung März ";
  for (int i = 0; i < 20; ++i) long_name += "und so weiter ";
  long_name += ".txt";
  e.attachments.push_back({long_name, "text/plain; charset=utf-8", "Grüße"});
  e.attachments.push_back({"x.bin", "not a type\x01", "x"});
  const std::string m = Compose(e);
  const Message p = Parse(m);
  const std::string mixed = std::string(kBoundary) + "_m";
  CHECK(p.headers.at("Content-Type") == "multipart/mixed; boundary=\"" + mixed + "\"");
  std::vector<std::string> parts = absl::StrSplit(p.body, "--" + mixed);
  REQUIRE(parts.size() == 6);  // no preamble, the body, three files, the close delimiter's "--"
  CHECK(parts[0].empty());
  CHECK(absl::StartsWith(parts[1], "\r\nContent-Type: text/plain; charset=utf-8\r\n"));
  CHECK(absl::StrContains(parts[1], "Your invoice is attached."));
  // The first file: quoted name, base64 lines of 76 that decode to the bytes.
  const std::string& first = parts[2];
  CHECK(absl::StrContains(first, "Content-Type: application/pdf; name=\"invoice.pdf\"\r\n"));
  CHECK(absl::StrContains(first, "Content-Disposition: attachment; filename=\"invoice.pdf\"\r\n"));
  CHECK(absl::StrContains(first, "Content-Transfer-Encoding: base64\r\n\r\n"));
  const size_t data = first.find("\r\n\r\n") + 4;
  std::string joined;
  for (absl::string_view line : absl::StrSplit(first.substr(data), "\r\n")) {
    CHECK(line.size() <= 76);
    joined += std::string(line);
  }
  std::string decoded;
  REQUIRE(absl::Base64Unescape(joined, &decoded));
  CHECK(decoded == pdf);
  // The long UTF-8 name: RFC 2231 continuations, no line over 78.
  const std::string& second = parts[3];
  CHECK(absl::StrContains(second, "filename*0*=UTF-8''Rechnung%20M%C3%A4rz%20"));
  CHECK(absl::StrContains(second, "filename*1*="));
  for (absl::string_view line : absl::StrSplit(second, "\r\n")) CHECK(line.size() <= 78);
  // A media type that is no type: octet-stream.
  CHECK(absl::StrContains(parts[4], "Content-Type: application/octet-stream; name=\"x.bin\""));
  CHECK(parts[5] == "--\r\n");

  // Text and html with a file: the alternative part nested under its own boundary.
  e.html = "<p>Your invoice</p>";
  const Message both = Parse(Compose(e));
  CHECK(absl::StrContains(both.body, "multipart/alternative;"));
  CHECK(absl::StrContains(both.body, std::string("--") + kBoundary + "_a--\r\n"));
  // A control character in a file's name is refused; a boundary too long
  // for the two derived ones too.
  e.attachments[0].filename = "in\nvoice.pdf";
  CHECK(absl::StrContains(ComposeError(e), "control character"));
  e.attachments[0].filename = "invoice.pdf";
  CHECK(absl::StrContains(ComposeError(e, std::string(69, 'b')), "boundary"));
}
