#include "services/delivery/domain/email.h"

#include <arpa/inet.h>

#include <cstring>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "libs/common/tracking_token.h"

namespace crm::delivery::domain {
namespace {

constexpr size_t kMaxHeaderLine = 78;     // RFC 5322 2.1.1 SHOULD
constexpr size_t kHardHeaderLine = 998;   // RFC 5322 2.1.1 MUST
constexpr size_t kMaxQpLine = 76;         // RFC 2045 6.7 (5)
constexpr size_t kEncodedWordBytes = 42;  // 56 base64 chars: a 68-char word fits "Subject: "
constexpr size_t kMaxPlainToken = 66;     // longer words force encoding (so lines stay <= 78)

bool IsAtext(char c) {
  return absl::ascii_isalnum(static_cast<unsigned char>(c)) ||
         (c != '\0' && std::strchr("!#$%&'*+-/=?^_`{|}~", c) != nullptr);
}

bool HasLineBreak(absl::string_view s) {
  return s.find_first_of("\r\n") != absl::string_view::npos;
}

// Printable ASCII (0x21..0x7e) only.
bool IsVisibleAscii(absl::string_view s) {
  for (char ch : s) {
    unsigned char c = static_cast<unsigned char>(ch);
    if (c < 0x21 || c > 0x7e) return false;
  }
  return true;
}

// Printable ASCII and space (0x20..0x7e) only; and tab when allowed.
bool IsPrintableAscii(absl::string_view s, bool allow_tab = false) {
  for (char ch : s) {
    unsigned char c = static_cast<unsigned char>(ch);
    if (c == '\t' && allow_tab) continue;
    if (c < 0x20 || c > 0x7e) return false;
  }
  return true;
}

bool ValidDotAtom(absl::string_view s) {
  if (s.empty() || s.front() == '.' || s.back() == '.') return false;
  if (absl::StrContains(s, "..")) return false;
  for (char c : s) {
    if (c != '.' && !IsAtext(c)) return false;
  }
  return true;
}

bool ValidDomain(absl::string_view domain) {
  if (domain.empty()) return false;
  if (domain.front() == '[') {
    if (domain.size() < 3 || domain.back() != ']') return false;
    std::string inner(domain.substr(1, domain.size() - 2));
    unsigned char buf[16];
    if (absl::StartsWithIgnoreCase(inner, "IPv6:")) {
      return inet_pton(AF_INET6, inner.c_str() + 5, buf) == 1;
    }
    return inet_pton(AF_INET, inner.c_str(), buf) == 1;
  }
  if (domain.find('.') == absl::string_view::npos || domain.size() > 253) return false;
  for (absl::string_view label : absl::StrSplit(domain, '.')) {
    if (label.empty() || label.size() > 63) return false;
    if (label.front() == '-' || label.back() == '-') return false;
    for (char c : label) {
      if (!absl::ascii_isalnum(static_cast<unsigned char>(c)) && c != '-') return false;
    }
  }
  return true;
}

// RFC 2047 B-encoded words of UTF-8 text, each at most 68 characters, split
// between (not inside) UTF-8 sequences.
std::vector<std::string> EncodedWords(absl::string_view text) {
  std::vector<std::string> words;
  while (!text.empty()) {
    size_t n = std::min(text.size(), kEncodedWordBytes);
    if (n < text.size()) {
      // Back off from a continuation byte (10xxxxxx) to a sequence start;
      // invalid UTF-8 (no start within 3 bytes) is cut anywhere.
      auto continuation = [&](size_t i) {
        return (static_cast<unsigned char>(text[i]) & 0xC0) == 0x80;
      };
      size_t cut = n;
      for (int back = 0; back < 3 && cut > 0 && continuation(cut); ++back) --cut;
      if (cut > 0 && !continuation(cut)) n = cut;
    }
    words.push_back(absl::StrCat("=?UTF-8?B?", absl::Base64Escape(text.substr(0, n)), "?="));
    text.remove_prefix(n);
  }
  return words;
}

// "Name: t1 t2 ..." with CRLF-space folds before tokens that would push a
// line past 78 characters; no fold before an empty token (a run of spaces).
std::string FoldHeader(absl::string_view name, const std::vector<std::string>& tokens) {
  std::string out = absl::StrCat(name, ":");
  size_t line = out.size();
  for (const std::string& t : tokens) {
    if (!t.empty() && line + 1 + t.size() > kMaxHeaderLine && line > name.size() + 1) {
      out += "\r\n";
      line = 0;
    }
    out += ' ';
    out += t;
    line += 1 + t.size();
  }
  out += "\r\n";
  return out;
}

// Tokens of an unstructured text (Subject): its words when it is plain
// ASCII that folds cleanly, else B-encoded words.
std::vector<std::string> UnstructuredTokens(absl::string_view text) {
  if (text.empty()) return {};
  bool plain = IsPrintableAscii(text) && !absl::StrContains(text, "=?");
  std::vector<std::string> tokens;
  if (plain) {
    tokens = absl::StrSplit(text, ' ');
    for (const std::string& t : tokens) {
      if (t.empty() || t.size() > kMaxPlainToken) plain = false;
    }
  }
  if (plain) return tokens;
  return EncodedWords(text);
}

// Tokens of a display name: atoms, one quoted string, or B-encoded words.
std::vector<std::string> PhraseTokens(absl::string_view name) {
  if (name.empty()) return {};
  if (!IsPrintableAscii(name) || absl::StrContains(name, "=?")) return EncodedWords(name);
  std::vector<std::string> atoms = absl::StrSplit(name, ' ');
  bool atoms_ok = true;
  for (const std::string& a : atoms) {
    if (a.empty()) atoms_ok = false;
    for (char c : a) {
      if (!IsAtext(c)) atoms_ok = false;
    }
  }
  if (atoms_ok) return atoms;
  std::string quoted = "\"";
  for (char c : name) {
    if (c == '"' || c == '\\') quoted += '\\';
    quoted += c;
  }
  quoted += '"';
  return {quoted};
}

std::vector<std::string> MailboxTokens(const Mailbox& m) {
  std::vector<std::string> tokens = PhraseTokens(m.name);
  if (tokens.empty()) return {m.address};
  tokens.push_back(absl::StrCat("<", m.address, ">"));
  return tokens;
}

absl::Status Invalid(absl::string_view field, absl::string_view why) {
  return absl::InvalidArgumentError(absl::StrCat(field, ": ", why));
}

absl::Status NoLineBreak(absl::string_view field, absl::string_view value) {
  if (HasLineBreak(value)) {
    return Invalid(field, "must not contain CR or LF (header injection refused)");
  }
  return absl::OkStatus();
}

absl::Status CheckMailbox(absl::string_view field, const Mailbox& m) {
  absl::Status s = NoLineBreak(absl::StrCat(field, ".name"), m.name);
  if (!s.ok()) return s;
  s = NoLineBreak(absl::StrCat(field, ".address"), m.address);
  if (!s.ok()) return s;
  if (!ValidEmailAddress(m.address)) {
    return Invalid(absl::StrCat(field, ".address"),
                   absl::StrCat("\"", m.address, "\" is not a valid email address"));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> FormatDate(absl::Time t) {
  if (t == absl::InfiniteFuture() || t == absl::InfinitePast()) {
    return Invalid("date", "must be a finite time");
  }
  absl::CivilSecond cs = absl::ToCivilSecond(t, absl::UTCTimeZone());
  if (cs.year() < 1900 || cs.year() > 9999) return Invalid("date", "year must be 1900..9999");
  static constexpr const char* kDays[] = {"Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"};
  static constexpr const char* kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                            "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  auto two = [](int v) { return absl::StrCat(v < 10 ? "0" : "", v); };
  return absl::StrCat(kDays[static_cast<int>(absl::GetWeekday(cs))], ", ", two(cs.day()), " ",
                      kMonths[cs.month() - 1], " ", cs.year(), " ", two(cs.hour()), ":",
                      two(cs.minute()), ":", two(cs.second()), " +0000");
}

// Characters allowed in a List-Unsubscribe entry: visible ASCII without the
// header's own delimiters.
absl::Status CheckUnsubscribeChars(absl::string_view field, absl::string_view value) {
  if (!IsVisibleAscii(value)) {
    return Invalid(field, "must be visible ASCII without spaces (percent-encode the rest)");
  }
  if (value.find_first_of("<>,") != absl::string_view::npos) {
    return Invalid(field, "'<', '>' and ',' must be percent-encoded");
  }
  return absl::OkStatus();
}

bool ValidHeaderName(absl::string_view name) {
  if (name.empty() || name.size() > 76) return false;
  for (char ch : name) {
    unsigned char c = static_cast<unsigned char>(ch);
    if (c < 0x21 || c > 0x7e || c == ':') return false;
  }
  return true;
}

bool ComposerOwned(absl::string_view name) {
  static constexpr const char* kOwned[] = {
      "from",
      "to",
      "cc",
      "bcc",
      "sender",
      "reply-to",
      "subject",
      "date",
      "message-id",
      "mime-version",
      "content-type",
      "content-transfer-encoding",
      "list-unsubscribe",
      "list-unsubscribe-post",
  };
  for (const char* owned : kOwned) {
    if (absl::EqualsIgnoreCase(name, owned)) return true;
  }
  return false;
}

bool ValidBoundary(absl::string_view b) {
  if (b.empty() || b.size() > 70) return false;
  for (char c : b) {
    if (!absl::ascii_isalnum(static_cast<unsigned char>(c)) &&
        std::strchr("'()+_,-./:=?", c) == nullptr) {
      return false;
    }
    if (c == '\0') return false;
  }
  return true;
}

// An RFC 2231 parameter `attr` of `value`: attr="value" when it is short
// printable ASCII without quotes or backslashes; else UTF-8
// percent-encoded in continuations (attr*0*=UTF-8''..; attr*1*=..), each
// a token of its own to fold, every one but the last ending in ';'.
std::vector<std::string> ParameterTokens(absl::string_view attr, absl::string_view value) {
  bool plain = !value.empty() && value.size() <= 60;
  for (char ch : value) {
    const auto c = static_cast<unsigned char>(ch);
    if (c < 0x20 || c >= 0x7f || c == '"' || c == '\\') plain = false;
  }
  if (plain) return {absl::StrCat(attr, "=\"", value, "\"")};
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::vector<std::string> chunks(1);
  for (char ch : value) {
    const auto c = static_cast<unsigned char>(ch);
    std::string piece;
    if (absl::ascii_isalnum(c) || std::strchr("!#$&+-.^_`|~", c) != nullptr) {
      piece = std::string(1, ch);
    } else {
      piece = {'%', kHex[c >> 4], kHex[c & 15]};
    }
    // 50 characters a line: "filename*0*=UTF-8''" and ';' around it stay within 78.
    if (chunks.back().size() + piece.size() > 50) chunks.emplace_back();
    chunks.back() += piece;
  }
  std::vector<std::string> out;
  for (size_t i = 0; i < chunks.size(); ++i) {
    out.push_back(absl::StrCat(attr, "*", i, "*=", i == 0 ? "UTF-8''" : "", chunks[i],
                               i + 1 < chunks.size() ? ";" : ""));
  }
  return out;
}

// A media type as sent: type/subtype (parameters kept) of printable ASCII,
// else application/octet-stream.
std::string SendableMediaType(absl::string_view type) {
  const size_t slash = type.find('/');
  bool ok = !type.empty() && type.size() <= 255 && slash != absl::string_view::npos && slash > 0 &&
            slash + 1 < type.size();
  for (char ch : type) {
    const auto c = static_cast<unsigned char>(ch);
    if (c < 0x20 || c >= 0x7f) ok = false;
  }
  return ok ? std::string(type) : std::string("application/octet-stream");
}

std::string PartHeaders(absl::string_view subtype) {
  return absl::StrCat("Content-Type: text/", subtype,
                      "; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n");
}

// Appends the quoted-printable form of one line (without its line break).
void EncodeQpLine(absl::string_view line, std::string* out) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  size_t len = 0;  // characters on the current output line
  for (size_t i = 0; i < line.size(); ++i) {
    unsigned char c = static_cast<unsigned char>(line[i]);
    bool last = i + 1 == line.size();
    auto token = [&](bool line_start) {
      bool literal = (c >= 33 && c <= 126 && c != '=') || ((c == ' ' || c == '\t') && !last);
      if (line_start && c == '.') literal = false;
      if (line_start && c == 'F' && absl::StartsWith(line.substr(i), "From ")) literal = false;
      if (literal) return std::string(1, static_cast<char>(c));
      return std::string{'=', kHex[c >> 4], kHex[c & 15]};
    };
    std::string t = token(len == 0);
    size_t limit = last ? kMaxQpLine : kMaxQpLine - 1;  // room for the soft break '='
    if (len + t.size() > limit) {
      out->append("=\r\n");
      len = 0;
      t = token(true);
    }
    out->append(t);
    len += t.size();
  }
}

}  // namespace

bool ValidEmailAddress(absl::string_view address) {
  if (address.size() > 254) return false;
  size_t at = address.find('@');
  if (at == absl::string_view::npos || address.find('@', at + 1) != absl::string_view::npos) {
    return false;
  }
  absl::string_view local = address.substr(0, at);
  absl::string_view domain = address.substr(at + 1);
  if (local.size() > 64 || !ValidDotAtom(local)) return false;
  return ValidDomain(domain);
}

std::string FormatMailbox(const Mailbox& mailbox) {
  return absl::StrJoin(MailboxTokens(mailbox), " ");
}

std::string QuotedPrintable(absl::string_view data) {
  std::string out;
  size_t start = 0;
  for (size_t i = 0; i <= data.size(); ++i) {
    if (i < data.size() && data[i] != '\r' && data[i] != '\n') continue;
    EncodeQpLine(data.substr(start, i - start), &out);
    if (i == data.size()) break;
    out.append("\r\n");
    if (data[i] == '\r' && i + 1 < data.size() && data[i + 1] == '\n') ++i;
    start = i + 1;
  }
  return out;
}

namespace {

// The message's text (and html): its part headers, a blank line and the
// encoded body; multipart/alternative under `boundary` when both exist.
absl::StatusOr<std::string> BodyPart(const Email& email, absl::string_view boundary) {
  if (email.text.empty() || email.html.empty()) {
    const bool text = !email.text.empty();
    return absl::StrCat(PartHeaders(text ? "plain" : "html"), "\r\n",
                        QuotedPrintable(text ? email.text : email.html), "\r\n");
  }
  if (!ValidBoundary(boundary)) {
    return Invalid("boundary", "must be 1..70 characters of letters, digits and '()+_,-./:=?");
  }
  std::string text = QuotedPrintable(email.text);
  std::string html = QuotedPrintable(email.html);
  if (absl::StrContains(text, boundary) || absl::StrContains(html, boundary)) {
    return Invalid("boundary", "occurs in the encoded body; choose another (random) boundary");
  }
  std::string out = FoldHeader(
      "Content-Type", {"multipart/alternative;", absl::StrCat("boundary=\"", boundary, "\"")});
  out += "\r\n";
  absl::StrAppend(&out, "--", boundary, "\r\n", PartHeaders("plain"), "\r\n", text, "\r\n");
  absl::StrAppend(&out, "--", boundary, "\r\n", PartHeaders("html"), "\r\n", html, "\r\n");
  absl::StrAppend(&out, "--", boundary, "--\r\n");
  return out;
}

}  // namespace

absl::StatusOr<std::string> ComposeEmail(const Email& email, absl::string_view boundary) {
  absl::Status s = CheckMailbox("from", email.from);
  if (!s.ok()) return s;
  s = CheckMailbox("to", email.to);
  if (!s.ok()) return s;
  if (!email.reply_to.empty()) {
    s = NoLineBreak("reply_to", email.reply_to);
    if (!s.ok()) return s;
    if (!ValidEmailAddress(email.reply_to)) {
      return Invalid("reply_to",
                     absl::StrCat("\"", email.reply_to, "\" is not a valid email address"));
    }
  }
  s = NoLineBreak("subject", email.subject);
  if (!s.ok()) return s;
  s = NoLineBreak("message_id", email.message_id);
  if (!s.ok()) return s;
  {
    size_t at = email.message_id.find('@');
    if (at == std::string::npos ||
        !ValidDotAtom(absl::string_view(email.message_id).substr(0, at)) ||
        !ValidDotAtom(absl::string_view(email.message_id).substr(at + 1))) {
      return Invalid("message_id", "must look like id@domain (without angle brackets)");
    }
  }
  absl::StatusOr<std::string> date = FormatDate(email.date);
  if (!date.ok()) return date.status();

  std::vector<std::string> unsubscribe;
  if (!email.list_unsubscribe_url.empty()) {
    s = NoLineBreak("list_unsubscribe_url", email.list_unsubscribe_url);
    if (!s.ok()) return s;
    if (!IsUnsubscribeUrl(email.list_unsubscribe_url)) {
      return Invalid("list_unsubscribe_url",
                     "must be an https:// URL (RFC 8058; http:// only on loopback)");
    }
    s = CheckUnsubscribeChars("list_unsubscribe_url", email.list_unsubscribe_url);
    if (!s.ok()) return s;
    unsubscribe.push_back(absl::StrCat("<", email.list_unsubscribe_url, ">"));
  }
  if (!email.list_unsubscribe_mailto.empty()) {
    s = NoLineBreak("list_unsubscribe_mailto", email.list_unsubscribe_mailto);
    if (!s.ok()) return s;
    absl::string_view mailto = email.list_unsubscribe_mailto;
    if (absl::StartsWithIgnoreCase(mailto, "mailto:")) mailto.remove_prefix(7);
    s = CheckUnsubscribeChars("list_unsubscribe_mailto", mailto);
    if (!s.ok()) return s;
    if (!ValidEmailAddress(mailto.substr(0, mailto.find('?')))) {
      return Invalid("list_unsubscribe_mailto",
                     "must be an email address (optionally ?subject=...)");
    }
    unsubscribe.push_back(absl::StrCat("<mailto:", mailto, ">"));
  }
  if (unsubscribe.size() == 2) unsubscribe[0] += ',';

  for (const auto& [name, value] : email.headers) {
    s = NoLineBreak("headers", name);
    if (!s.ok()) return s;
    s = NoLineBreak(absl::StrCat("headers: ", name), value);
    if (!s.ok()) return s;
    if (!ValidHeaderName(name)) {
      return Invalid(
          "headers",
          absl::StrCat("\"", name, "\" is not a valid header name (visible ASCII, no ':')"));
    }
    if (ComposerOwned(name)) {
      return Invalid("headers",
                     absl::StrCat(name, " is set by the composer, not as an extra header"));
    }
    if (!IsPrintableAscii(value, /*allow_tab=*/true)) {
      return Invalid(absl::StrCat("headers: ", name), "value must be printable ASCII");
    }
  }

  if (email.text.empty() && email.html.empty()) {
    return Invalid("email", "a text or html body is required");
  }

  std::string out;
  out += FoldHeader("From", MailboxTokens(email.from));
  out += FoldHeader("To", MailboxTokens(email.to));
  if (!email.reply_to.empty()) out += FoldHeader("Reply-To", {email.reply_to});
  out += FoldHeader("Subject", UnstructuredTokens(email.subject));
  out += absl::StrCat("Date: ", *date, "\r\n");
  out += FoldHeader("Message-ID", {absl::StrCat("<", email.message_id, ">")});
  if (!unsubscribe.empty()) out += FoldHeader("List-Unsubscribe", unsubscribe);
  if (!email.list_unsubscribe_url.empty()) {
    out += "List-Unsubscribe-Post: List-Unsubscribe=One-Click\r\n";
  }
  for (const auto& [name, value] : email.headers) {
    out += FoldHeader(name, absl::StrSplit(value, ' '));
  }
  out += "MIME-Version: 1.0\r\n";
  for (absl::string_view line : absl::StrSplit(out, "\r\n")) {
    if (line.size() > kHardHeaderLine) {
      return Invalid("email",
                     "a header line would exceed 998 characters (a value word is too long)");
    }
  }

  if (email.attachments.empty()) {
    absl::StatusOr<std::string> body = BodyPart(email, boundary);
    if (!body.ok()) return body.status();
    return out + *body;
  }
  // multipart/mixed: the body, then the files (two boundaries, neither
  // inside the other).
  const std::string mixed = absl::StrCat(boundary, "_m");
  const std::string alternative = absl::StrCat(boundary, "_a");
  if (!ValidBoundary(mixed) || !ValidBoundary(alternative)) {
    return Invalid("boundary",
                   "must be 1..68 characters of letters, digits and '()+_,-./:=? (attachments)");
  }
  absl::StatusOr<std::string> body = BodyPart(email, alternative);
  if (!body.ok()) return body.status();
  std::vector<std::string> parts = {*std::move(body)};
  for (const EmailAttachment& a : email.attachments) {
    for (char ch : a.filename) {
      const auto c = static_cast<unsigned char>(ch);
      if (c < 0x20 || c == 0x7f)
        return Invalid("attachments", "a file name has a control character");
    }
    std::vector<std::string> type = {SendableMediaType(a.content_type) + ";"};
    std::vector<std::string> disposition = {"attachment;"};
    for (const std::string& t : ParameterTokens("name", a.filename)) type.push_back(t);
    for (const std::string& t : ParameterTokens("filename", a.filename)) disposition.push_back(t);
    std::string part = FoldHeader("Content-Type", type);
    part += FoldHeader("Content-Disposition", disposition);
    part += "Content-Transfer-Encoding: base64\r\n\r\n";
    const std::string encoded = absl::Base64Escape(a.content);
    for (size_t i = 0; i < encoded.size(); i += kMaxQpLine) {
      absl::StrAppend(&part, absl::string_view(encoded).substr(i, kMaxQpLine), "\r\n");
    }
    parts.push_back(std::move(part));
  }
  for (const std::string& part : parts) {
    if (absl::StrContains(part, mixed)) {
      return Invalid("boundary", "occurs in an encoded part; choose another (random) boundary");
    }
  }
  out += FoldHeader("Content-Type", {"multipart/mixed;", absl::StrCat("boundary=\"", mixed, "\"")});
  out += "\r\n";
  for (const std::string& part : parts) absl::StrAppend(&out, "--", mixed, "\r\n", part);
  absl::StrAppend(&out, "--", mixed, "--\r\n");
  return out;
}

std::string ReferencesHeader(const std::vector<std::string>& ids, size_t max_chars) {
  std::vector<std::string> ok;
  for (const std::string& id : ids) {
    bool good = !id.empty() && id.size() <= 250;
    for (char ch : id) {
      const auto c = static_cast<unsigned char>(ch);
      if (c <= 0x20 || c >= 0x7f || c == '<' || c == '>') good = false;
    }
    if (good) ok.push_back(absl::StrCat("<", id, ">"));
  }
  size_t total = 0;
  for (const std::string& id : ok) total += id.size() + 1;
  if (total <= max_chars + 1) return absl::StrJoin(ok, " ");
  // The root, then the newest that fit after it.
  std::vector<std::string> tail;
  size_t used = ok.front().size();
  for (size_t i = ok.size() - 1; i > 0; --i) {
    if (used + 1 + ok[i].size() > max_chars) break;
    used += 1 + ok[i].size();
    tail.push_back(ok[i]);
  }
  std::string out = ok.front();
  for (auto it = tail.rbegin(); it != tail.rend(); ++it) absl::StrAppend(&out, " ", *it);
  return out;
}

bool IsUnsubscribeUrl(absl::string_view url) { return common::IsLinkUrl(url); }

}  // namespace crm::delivery::domain
