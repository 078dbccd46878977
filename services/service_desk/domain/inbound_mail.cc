#include "services/service_desk/domain/inbound_mail.h"

#include <algorithm>
#include <set>
#include <string_view>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/strip.h"
#include "libs/common/crypto.h"
#include "libs/common/errors.h"
#include "libs/common/id.h"
#include "services/service_desk/domain/outbound_mail.h"
#include "services/service_desk/domain/ticket.h"

namespace crm::service_desk::domain {
namespace {

constexpr size_t kMaxMessageId = 500;  // bytes; longer ids are not ids we keep

bool IsSpace(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

std::string Lower(absl::string_view s) {
  return absl::AsciiStrToLower(absl::StripAsciiWhitespace(s));
}

const std::string* HeaderOf(const InboundMail& m, const char* name) {
  auto it = m.headers.find(name);
  return it == m.headers.end() ? nullptr : &it->second;
}

bool HasHeader(const InboundMail& m, const char* name) { return HeaderOf(m, name) != nullptr; }

// The first token of a structured header's value ("auto-replied; x=y").
std::string FirstToken(const std::string& value) { return Lower(value.substr(0, value.find(';'))); }

std::string LocalPart(absl::string_view addr) {
  const size_t at = addr.rfind('@');
  return std::string(at == absl::string_view::npos ? addr : addr.substr(0, at));
}

}  // namespace

const std::vector<std::string>& LoopHeaders() {
  static const std::vector<std::string>* const kNames =
      new std::vector<std::string>{"return-path",
                                   "auto-submitted",
                                   "x-auto-response-suppress",
                                   "precedence",
                                   "list-id",
                                   "list-unsubscribe",
                                   "x-autoreply",
                                   "x-autorespond",
                                   "x-autoresponder",
                                   "x-autoreply-from",
                                   "x-mail-autoreply",
                                   "x-auto-reply",
                                   "x-fc-machinegenerated",
                                   "x-post-messageclass"};
  return *kNames;
}

const char* MachineReasonName(MachineReason r) {
  switch (r) {
    case MachineReason::kNone:
      return "";
    case MachineReason::kDeliveryReport:
      return "delivery_report";
    case MachineReason::kOwnAddress:
      return "own_address";
    case MachineReason::kSystemSender:
      return "system_sender";
    case MachineReason::kEmptyReturnPath:
      return "empty_return_path";
    case MachineReason::kAutoSubmitted:
      return "auto_submitted";
    case MachineReason::kAutoreplyHeader:
      return "autoreply_header";
    case MachineReason::kAutoResponseSuppress:
      return "auto_response_suppress";
    case MachineReason::kPrecedence:
      return "precedence";
    case MachineReason::kList:
      return "list";
  }
  return "";
}

bool OwnAddresses::Contains(absl::string_view raw) const {
  const std::string addr = Lower(raw);
  if (addr.empty()) return false;
  if (std::find(addresses.begin(), addresses.end(), addr) != addresses.end()) return true;
  const size_t at = addr.rfind('@');
  if (at == std::string::npos) return false;
  const absl::string_view domain = absl::string_view(addr).substr(at + 1);
  for (const std::string& d : domains) {
    if (domain == d || absl::EndsWith(domain, absl::StrCat(".", d))) return true;
  }
  return false;
}

MachineReason MachineMade(const InboundMail& m, const OwnAddresses& own) {
  if (m.delivery_report) return MachineReason::kDeliveryReport;
  if (own.Contains(m.from.addr)) return MachineReason::kOwnAddress;
  const std::string local = Lower(LocalPart(m.from.addr));
  if (local == "mailer-daemon" || local == "mailerdaemon" || local == "mail-daemon" ||
      local == "postmaster") {
    return MachineReason::kSystemSender;
  }
  if (const std::string* rp = HeaderOf(m, "return-path")) {
    std::string bare;
    for (char c : *rp) {
      if (!IsSpace(c)) bare.push_back(c);
    }
    if (bare.empty() || bare == "<>") return MachineReason::kEmptyReturnPath;
  }
  if (const std::string* as = HeaderOf(m, "auto-submitted")) {
    const std::string v = FirstToken(*as);
    if (v != "no") return MachineReason::kAutoSubmitted;
  }
  for (const char* name : {"x-autoreply", "x-autorespond", "x-autoresponder", "x-autoreply-from",
                           "x-mail-autoreply", "x-auto-reply"}) {
    if (HasHeader(m, name)) return MachineReason::kAutoreplyHeader;
  }
  if (const std::string* fc = HeaderOf(m, "x-fc-machinegenerated");
      fc != nullptr && Lower(*fc) == "true") {
    return MachineReason::kAutoreplyHeader;
  }
  if (const std::string* pc = HeaderOf(m, "x-post-messageclass");
      pc != nullptr && absl::StrContains(Lower(*pc), "autoresponder")) {
    return MachineReason::kAutoreplyHeader;
  }
  if (HasHeader(m, "x-auto-response-suppress")) return MachineReason::kAutoResponseSuppress;
  if (const std::string* p = HeaderOf(m, "precedence")) {
    const std::string v = FirstToken(*p);
    if (v == "bulk" || v == "junk" || v == "list" || v == "auto_reply") {
      return MachineReason::kPrecedence;
    }
  }
  if (HasHeader(m, "list-id") || HasHeader(m, "list-unsubscribe")) return MachineReason::kList;
  return MachineReason::kNone;
}

namespace {

bool DomainShaped(absl::string_view d) {
  if (d.empty() || d.size() > 253 || d.front() == '.' || d.back() == '.' || d.front() == '-') {
    return false;
  }
  for (char c : d) {
    if (!absl::ascii_isalnum(static_cast<unsigned char>(c)) && c != '.' && c != '-') return false;
  }
  return d.find("..") == absl::string_view::npos;
}

}  // namespace

absl::Status NormalizeAndValidate(Mailbox& m) {
  m.address = Lower(m.address);
  const size_t at = m.address.find('@');
  bool address_ok = !m.address.empty() && m.address.size() <= 254 && at != std::string::npos &&
                    at > 0 && m.address.find('@', at + 1) == std::string::npos &&
                    DomainShaped(absl::string_view(m.address).substr(at + 1));
  for (char c : m.address.substr(0, at == std::string::npos ? 0 : at)) {
    const auto u = static_cast<unsigned char>(c);
    if (u <= 0x20 || u >= 0x7F || c == '<' || c == '>' || c == '(' || c == ')' || c == ',' ||
        c == ';' || c == ':' || c == '"' || c == '[' || c == ']' || c == '\\') {
      address_ok = false;
    }
  }
  if (!address_ok) {
    return common::InvalidField("address",
                                "address must be an email address (local@domain, ASCII, at "
                                "most 254 characters)");
  }
  m.own.addresses = {m.address};
  if (m.own.domains.size() > kMaxOwnDomains) {
    return common::InvalidField("own_domains",
                                absl::StrCat("own_domains holds at most ", kMaxOwnDomains));
  }
  std::set<std::string> seen;
  for (size_t i = 0; i < m.own.domains.size(); ++i) {
    std::string& d = m.own.domains[i];
    d = Lower(d);
    const std::string field = absl::StrCat("own_domains[", i, "]");
    if (!DomainShaped(d)) {
      return common::InvalidField(field, absl::StrCat(field,
                                                      " must be a domain name such as "
                                                      "mail.example.com"));
    }
    if (!seen.insert(d).second) {
      return common::InvalidField(field, absl::StrCat(field, " is listed twice"));
    }
  }
  if (m.reopen_window < absl::Seconds(1) || m.reopen_window > kMaxReopenWindow) {
    return common::InvalidField("reopen_window_seconds",
                                "reopen_window_seconds must be 1 to 31536000 (365 days)");
  }
  if (m.same_subject_window < absl::ZeroDuration() ||
      m.same_subject_window > kMaxSameSubjectWindow) {
    return common::InvalidField("same_subject_window_seconds",
                                "same_subject_window_seconds must be 0 (off) to 2592000 (30 days)");
  }
  m.name = std::string(absl::StripAsciiWhitespace(m.name));
  if (absl::Status s = CheckAutoReplyTemplate("name", m.name, 200, true); !s.ok()) return s;
  if (absl::StrContains(m.name, "{{")) {
    return common::InvalidField("name", "name is a display name, not a template");
  }
  if (absl::Status s = CheckAutoReplyTemplate("auto_reply.subject", m.auto_reply_subject,
                                              kMaxAutoReplySubject, true);
      !s.ok()) {
    return s;
  }
  if (absl::Status s =
          CheckAutoReplyTemplate("auto_reply.body", m.auto_reply_body, kMaxAutoReplyBody, false);
      !s.ok()) {
    return s;
  }
  return absl::OkStatus();
}

std::string NormalizeMessageId(absl::string_view raw) {
  absl::string_view v = absl::StripAsciiWhitespace(raw);
  absl::ConsumePrefix(&v, "<");
  absl::ConsumeSuffix(&v, ">");
  std::string id;
  for (char c : v) {
    if (!IsSpace(c) && c != '<' && c != '>') id.push_back(c);
  }
  if (id.size() > kMaxMessageId) return "";
  return id;
}

std::vector<std::string> ParseMessageIds(absl::string_view value) {
  std::vector<std::string> ids;
  size_t i = 0;
  while (i < value.size()) {
    const char c = value[i];
    if (IsSpace(c) || c == ',') {
      ++i;
    } else if (c == '(') {  // a comment, nested ones included
      int depth = 0;
      for (; i < value.size(); ++i) {
        if (value[i] == '(') ++depth;
        if (value[i] == ')' && --depth == 0) {
          ++i;
          break;
        }
      }
    } else if (c == '<') {
      const size_t end = value.find('>', i + 1);
      const size_t stop = end == absl::string_view::npos ? value.size() : end;
      std::string id = NormalizeMessageId(value.substr(i + 1, stop - i - 1));
      if (!id.empty()) ids.push_back(std::move(id));
      i = stop + 1;
    } else {  // an id without brackets: taken when it looks like one
      size_t j = i;
      while (j < value.size() && !IsSpace(value[j]) && value[j] != ',' && value[j] != '<' &&
             value[j] != '(') {
        ++j;
      }
      const absl::string_view token = value.substr(i, j - i);
      if (absl::StrContains(token, "@")) {
        std::string id = NormalizeMessageId(token);
        if (!id.empty()) ids.push_back(std::move(id));
      }
      i = j;
    }
  }
  return ids;
}

std::vector<std::string> ThreadIds(const InboundMail& m) {
  std::vector<std::string> out;
  std::set<std::string> seen;
  auto add = [&](const std::string& id) {
    if (id.empty() || out.size() >= kMaxThreadIds || !seen.insert(id).second) return;
    out.push_back(id);
  };
  for (const std::string& id : m.reported_ids) add(id);
  for (const std::string& id : m.in_reply_to) add(id);
  for (auto it = m.references.rbegin(); it != m.references.rend(); ++it) add(*it);
  return out;
}

std::string TicketReference(absl::string_view ticket_id) {
  return absl::StrCat("[ref:", ticket_id, "]");
}

std::optional<std::string> FindTicketReference(absl::string_view text) {
  constexpr absl::string_view kOpen = "[ref:";
  constexpr size_t kUuid = 36;
  for (size_t at = text.find(kOpen); at != absl::string_view::npos; at = text.find(kOpen, at + 1)) {
    const size_t start = at + kOpen.size();
    if (start + kUuid >= text.size() || text[start + kUuid] != ']') continue;
    const absl::string_view id = text.substr(start, kUuid);
    if (common::IsUuid(std::string_view(id.data(), id.size()))) return absl::AsciiStrToLower(id);
  }
  return std::nullopt;
}

std::string OutgoingMessageId(absl::string_view message_id, absl::string_view mailbox_address) {
  const size_t at = mailbox_address.rfind('@');
  const absl::string_view domain = at == absl::string_view::npos ? absl::string_view("desk.invalid")
                                                                 : mailbox_address.substr(at + 1);
  return absl::StrCat(message_id, "@", absl::AsciiStrToLower(domain));
}

std::string SubjectWithNumber(absl::string_view subject, int64_t number) {
  if (FindSubjectNumber(subject) == number) return std::string(subject);
  const std::string token = absl::StrCat("[#", number, "]");
  const absl::string_view bare = absl::StripAsciiWhitespace(subject);
  return bare.empty() ? token : absl::StrCat(bare, " ", token);
}

std::optional<int64_t> FindSubjectNumber(absl::string_view subject) {
  for (size_t at = subject.find("[#"); at != absl::string_view::npos;
       at = subject.find("[#", at + 1)) {
    size_t j = at + 2;
    while (j < subject.size() && absl::ascii_isdigit(static_cast<unsigned char>(subject[j]))) ++j;
    const size_t digits = j - at - 2;
    if (digits == 0 || digits > 18 || j >= subject.size() || subject[j] != ']') continue;
    int64_t n = 0;
    if (absl::SimpleAtoi(subject.substr(at + 2, digits), &n) && n > 0) return n;
  }
  return std::nullopt;
}

std::string ThreadSubject(absl::string_view subject) {
  // Prefixes, lower-case ASCII or UTF-8 as written; each may carry a count
  // ("Re[2]:", "RE(3):") and end in ':' or the full-width '：'.
  static const std::vector<std::string>* const kPrefixes = new std::vector<std::string>{
      "re",   "aw",   "sv",   "vs",   "antw", "odp",  "ynt",    "r",    "rif",
      "fwd",  "fw",   "wg",   "tr",   "rv",   "enc",  "doorst", "vb",   "回复",
      "答复", "转发", "回覆", "轉寄", "답장", "회신", "전달",   "返信", "転送"};
  std::string s(subject);
  // Our number token goes first, wherever it is.
  for (size_t at = s.find("[#"); at != std::string::npos; at = s.find("[#", at)) {
    const size_t end = s.find(']', at);
    if (end == std::string::npos) break;
    bool digits = end > at + 2;
    for (size_t k = at + 2; k < end; ++k) digits = digits && absl::ascii_isdigit(s[k]);
    if (digits) {
      s.erase(at, end - at + 1);
    } else {
      at += 2;
    }
  }
  absl::string_view v = absl::StripAsciiWhitespace(s);
  for (bool stripped = true; stripped;) {
    stripped = false;
    for (const std::string& p : *kPrefixes) {
      if (v.size() < p.size() || Lower(v.substr(0, p.size())) != p) continue;
      absl::string_view rest = v.substr(p.size());
      // An optional count: [2] or (2).
      if (!rest.empty() && (rest[0] == '[' || rest[0] == '(')) {
        const char close = rest[0] == '[' ? ']' : ')';
        const size_t end = rest.find(close);
        if (end != absl::string_view::npos) {
          bool digits = end > 1;
          for (size_t k = 1; k < end; ++k) digits = digits && absl::ascii_isdigit(rest[k]);
          if (digits) rest = rest.substr(end + 1);
        }
      }
      rest = absl::StripLeadingAsciiWhitespace(rest);
      if (absl::ConsumePrefix(&rest, ":") || absl::ConsumePrefix(&rest, "\xEF\xBC\x9A")) {
        v = absl::StripAsciiWhitespace(rest);
        stripped = true;
        break;
      }
    }
  }
  // Lower-case ASCII, one space between words.
  std::string out;
  bool space = false;
  for (char c : v) {
    if (IsSpace(c)) {
      space = !out.empty();
      continue;
    }
    if (space) out.push_back(' ');
    space = false;
    out.push_back(absl::ascii_tolower(static_cast<unsigned char>(c)));
  }
  return out;
}

namespace {

void AppendUtf8(uint32_t cp, std::string& out) {
  if (cp == 0 || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) cp = 0xFFFD;
  if (cp < 0x80) {
    out.push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out.push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

// "&amp;" and its kin at html[i] ('&'): the text it stands for and its
// length; nullopt for anything else (kept as written).
std::optional<std::pair<std::string, size_t>> Entity(absl::string_view html, size_t i) {
  const size_t end = html.find(';', i);
  if (end == absl::string_view::npos || end - i > 12 || end == i + 1) return std::nullopt;
  const absl::string_view name = html.substr(i + 1, end - i - 1);
  std::string text;
  if (name[0] == '#') {
    uint32_t cp = 0;
    const bool hex = name.size() > 1 && (name[1] == 'x' || name[1] == 'X');
    const absl::string_view digits = name.substr(hex ? 2 : 1);
    if (digits.empty() || !(hex ? absl::SimpleHexAtoi(digits, &cp) : absl::SimpleAtoi(digits, &cp)))
      return std::nullopt;
    AppendUtf8(cp == 0xA0 ? 0x20 : cp, text);
  } else {
    static const std::map<std::string, std::string>* const kNamed =
        new std::map<std::string, std::string>{
            {"amp", "&"},         {"lt", "<"},         {"gt", ">"},         {"quot", "\""},
            {"apos", "'"},        {"nbsp", " "},       {"copy", "\u00a9"},  {"reg", "\u00ae"},
            {"hellip", "\u2026"}, {"ndash", "\u2013"}, {"mdash", "\u2014"}, {"lsquo", "\u2018"},
            {"rsquo", "\u2019"},  {"ldquo", "\u201c"}, {"rdquo", "\u201d"}, {"euro", "\u20ac"},
            {"zwnj", ""},         {"shy", ""}};
    auto it = kNamed->find(std::string(name));
    if (it == kNamed->end()) return std::nullopt;
    text = it->second;
  }
  return std::make_pair(text, end - i + 1);
}

}  // namespace

std::string HtmlToText(absl::string_view html) {
  static const std::set<std::string>* const kBlocks = new std::set<std::string>{
      "br", "p",          "div",   "tr", "li", "h1", "h2",  "h3", "h4", "h5",
      "h6", "blockquote", "table", "hr", "ul", "ol", "pre", "dt", "dd"};
  static const std::set<std::string>* const kHidden =
      new std::set<std::string>{"script", "style", "head", "title"};
  std::string out;
  bool space = false;  // a pending space (HTML collapses white space)
  // A line break: <br> always, a block's edge only where a line has text.
  auto newline = [&](bool always) {
    space = false;
    if (!out.empty() && out.back() == ' ') out.pop_back();
    if (always || (!out.empty() && out.back() != '\n')) out.push_back('\n');
  };
  size_t i = 0;
  while (i < html.size()) {
    const char c = html[i];
    if (c == '<') {
      if (html.substr(i, 4) == "<!--") {
        const size_t end = html.find("-->", i + 4);
        i = end == absl::string_view::npos ? html.size() : end + 3;
        continue;
      }
      // The tag's end, quotes in attributes kept whole.
      size_t j = i + 1;
      char quote = 0;
      for (; j < html.size(); ++j) {
        if (quote != 0) {
          if (html[j] == quote) quote = 0;
        } else if (html[j] == '"' || html[j] == '\'') {
          quote = html[j];
        } else if (html[j] == '>') {
          break;
        }
      }
      const absl::string_view tag = html.substr(i + 1, j - i - 1);
      size_t k = 0;
      const bool closing = !tag.empty() && tag[0] == '/';
      if (closing) k = 1;
      std::string name;
      for (; k < tag.size() &&
             (absl::ascii_isalnum(static_cast<unsigned char>(tag[k])) || tag[k] == ':');
           ++k) {
        name.push_back(absl::ascii_tolower(static_cast<unsigned char>(tag[k])));
      }
      i = j + 1;
      if (!closing && kHidden->count(name) > 0) {
        const std::string close = absl::StrCat("</", name);
        size_t end = i;
        for (; end + close.size() <= html.size(); ++end) {
          if (absl::EqualsIgnoreCase(html.substr(end, close.size()), close)) break;
        }
        const size_t gt = html.find('>', end);
        i = gt == absl::string_view::npos ? html.size() : gt + 1;
        continue;
      }
      if (kBlocks->count(name) > 0) {
        newline(name == "br");
      } else if (name == "td" || name == "th") {
        space = !out.empty() && out.back() != '\n';
      }
      continue;
    }
    if (IsSpace(c)) {
      space = !out.empty() && out.back() != '\n';
      ++i;
      continue;
    }
    if (space) out.push_back(' ');
    space = false;
    if (c == '&') {
      if (auto e = Entity(html, i)) {
        out += e->first;
        i += e->second;
        continue;
      }
    }
    out.push_back(c);
    ++i;
  }
  // Lines trimmed at their end; at most one blank line in a row.
  std::string text;
  int newlines = 0;
  for (char c : out) {
    if (c == '\n') {
      while (!text.empty() && text.back() == ' ') text.pop_back();
      if (++newlines > 2 || text.empty()) continue;
    } else {
      newlines = 0;
    }
    text.push_back(c);
  }
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
  return text;
}

std::string CleanText(absl::string_view s) {
  std::string out;
  out.reserve(s.size());
  size_t i = 0;
  while (i < s.size()) {
    const auto b = static_cast<unsigned char>(s[i]);
    if (b == 0) {
      ++i;
      continue;
    }
    if (b == '\r') {
      out.push_back('\n');
      i += (i + 1 < s.size() && s[i + 1] == '\n') ? 2 : 1;
      continue;
    }
    if (b < 0x80) {
      out.push_back(static_cast<char>(b));
      ++i;
      continue;
    }
    // A multi-byte sequence: its length, first continuation's range and
    // code point checked (no overlong forms, no surrogates, <= U+10FFFF).
    size_t len = 0;
    unsigned char lo = 0x80, hi = 0xBF;
    if (b >= 0xC2 && b <= 0xDF) {
      len = 2;
    } else if (b >= 0xE0 && b <= 0xEF) {
      len = 3;
      if (b == 0xE0) lo = 0xA0;
      if (b == 0xED) hi = 0x9F;
    } else if (b >= 0xF0 && b <= 0xF4) {
      len = 4;
      if (b == 0xF0) lo = 0x90;
      if (b == 0xF4) hi = 0x8F;
    }
    bool ok = len > 0 && i + len <= s.size();
    for (size_t k = 1; ok && k < len; ++k) {
      const auto cb = static_cast<unsigned char>(s[i + k]);
      ok = k == 1 ? (cb >= lo && cb <= hi) : (cb >= 0x80 && cb <= 0xBF);
    }
    if (!ok) {
      out += "\xEF\xBF\xBD";
      ++i;
      continue;
    }
    out.append(s.data() + i, len);
    i += len;
  }
  return out;
}

namespace {

// The first `max` characters (code points) of valid UTF-8 text.
std::string FirstChars(const std::string& s, size_t max) {
  size_t chars = 0;
  for (size_t i = 0; i < s.size(); ++i) {
    if ((static_cast<unsigned char>(s[i]) & 0xC0) != 0x80 && chars++ == max) return s.substr(0, i);
  }
  return s;
}

}  // namespace

std::string MailSubject(const InboundMail& m) {
  std::string subject;
  for (char c : m.subject) subject.push_back(c == '\n' || c == '\r' || c == '\t' ? ' ' : c);
  subject = std::string(absl::StripAsciiWhitespace(subject));
  if (subject.empty()) return "(no subject)";
  return FirstChars(subject, kMaxSubject);
}

std::string MailSenderName(const InboundMail& m) {
  std::string name;
  for (char c : m.from.name) name.push_back(c == '\n' || c == '\r' || c == '\t' ? ' ' : c);
  return FirstChars(std::string(absl::StripAsciiWhitespace(name)), 200);
}

std::string MailBody(const InboundMail& m) {
  std::string text(absl::StripAsciiWhitespace(m.text));
  if (text.empty()) {
    return m.attachments.empty()
               ? "(no text)"
               : absl::StrCat("(no text; ", m.attachments.size(),
                              m.attachments.size() == 1 ? " attachment)" : " attachments)");
  }
  if (CharCount(text) <= kMaxBody) return text;
  const std::string note =
      absl::StrCat("\n[the mail's text was cut here: it is longer than ", kMaxBody, " characters]");
  return FirstChars(text, kMaxBody - CharCount(note)) + note;
}

std::string MailIdentity(const InboundMail& m) {
  if (!m.message_id.empty()) return m.message_id;
  std::vector<std::string> rcpt;
  for (const MailAddress& a : m.to) rcpt.push_back(a.addr);
  for (const MailAddress& a : m.cc) rcpt.push_back(a.addr);
  const std::string basis = absl::StrCat(m.from.addr, "\n", absl::StrJoin(rcpt, ","), "\n",
                                         m.date ? absl::ToUnixSeconds(*m.date) : int64_t{0}, "\n",
                                         m.subject, "\n", m.text);
  return absl::StrCat(common::HexEncode(common::Sha256(basis)), "@derived.invalid");
}

}  // namespace crm::service_desk::domain
