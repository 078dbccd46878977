#include "services/personalization/domain/templates.h"

#include <algorithm>
#include <kainjow/mustache.hpp>
#include <set>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "libs/common/errors.h"
#include "libs/common/text.h"
#include "services/personalization/domain/slots.h"

namespace crm::personalization::domain {
namespace {

namespace mu = kainjow::mustache;
using Data = mu::data;

// ---- the data tree, escaped for a part ----

Data ToData(const nlohmann::json& j, Escape e) {
  switch (j.type()) {
    case nlohmann::json::value_t::object: {
      Data d{Data::type::object};
      for (auto it = j.begin(); it != j.end(); ++it) d.set(it.key(), ToData(it.value(), e));
      return d;
    }
    case nlohmann::json::value_t::array: {
      Data d{Data::type::list};
      for (const auto& x : j) d.push_back(ToData(x, e));
      return d;
    }
    case nlohmann::json::value_t::string:
      return Data{EscapeFor(e, j.get<std::string>())};
    case nlohmann::json::value_t::boolean:
      return Data{j.get<bool>()};
    case nlohmann::json::value_t::number_integer:
    case nlohmann::json::value_t::number_unsigned:
    case nlohmann::json::value_t::number_float:
      return Data{j.dump()};
    default:
      return Data{false};
  }
}

// The same names, every value empty: lists [], booleans false, strings "".
nlohmann::json Emptied(const nlohmann::json& j) {
  if (j.is_object()) {
    nlohmann::json out = nlohmann::json::object();
    for (auto it = j.begin(); it != j.end(); ++it) out[it.key()] = Emptied(it.value());
    return out;
  }
  if (j.is_array()) return nlohmann::json::array();
  if (j.is_boolean()) return false;
  return "";
}

constexpr char kAttributes[] = "customer.attributes.";

// Name lookups over the data, the template's partials, and (when checking)
// a record of the names and partials nothing answers.
class TemplateContext final : public mu::basic_context<std::string> {
 public:
  TemplateContext(const Data* root, const std::map<std::string, Data>& partials, bool checking)
      : inner_(root), partials_(partials), checking_(checking) {}

  void push(const Data* d) override { inner_.push(d); }
  void pop() override { inner_.pop(); }
  const Data* get(const std::string& name) const override {
    const Data* d = inner_.get(name);
    if (d != nullptr || !checking_) return d;
    if (absl::StartsWith(name, kAttributes) && name.size() > sizeof(kAttributes) - 1) {
      return &sample_attribute_;
    }
    unknown_names.insert(name);
    return nullptr;
  }
  const Data* get_partial(const std::string& name) const override {
    auto it = partials_.find(name);
    if (it == partials_.end()) {
      if (checking_) unknown_partials.insert(name);
      return nullptr;
    }
    if (++expansions > kMaxPartialExpansions) {
      too_deep = true;
      return nullptr;
    }
    return &it->second;
  }

  mutable std::set<std::string> unknown_names;
  mutable std::set<std::string> unknown_partials;
  mutable int expansions = 0;
  mutable bool too_deep = false;

 private:
  mu::context<std::string> inner_;
  const std::map<std::string, Data>& partials_;
  const bool checking_;
  const Data sample_attribute_{std::string("attribute")};
};

struct Rendered {
  std::string text;
  std::string error;  // kainjow's message, its position an offset into the source
};

Rendered RenderWith(const std::string& source, TemplateContext& ctx) {
  mu::mustache m{source};
  if (!m.is_valid()) return {"", m.error_message()};
  m.set_custom_escape([](const std::string& s) { return s; });  // the data is escaped
  std::string text = m.render(ctx);
  return {std::move(text), m.is_valid() ? "" : m.error_message()};
}

// "line L, column C" of a byte offset (columns count characters).
std::string Where(const std::string& source, std::size_t offset) {
  int line = 1, column = 1;
  for (std::size_t i = 0; i < offset && i < source.size(); ++i) {
    const unsigned char c = static_cast<unsigned char>(source[i]);
    if (c == '\n') {
      ++line;
      column = 1;
    } else if ((c & 0xC0) != 0x80) {
      ++column;
    }
  }
  return absl::StrCat("line ", line, ", column ", column);
}

// kainjow's "Unclosed tag at 12" as "unclosed tag (line 1, column 13)".
std::string SyntaxError(const std::string& source, const std::string& message) {
  std::string what = message;
  const std::size_t at = message.rfind(" at ");
  std::size_t offset = 0;
  if (at != std::string::npos && absl::SimpleAtoi(message.substr(at + 4), &offset)) {
    what = absl::StrCat(message.substr(0, at), " (", Where(source, offset), ")");
  }
  if (!what.empty()) what[0] = absl::ascii_tolower(static_cast<unsigned char>(what[0]));
  return what;
}

// Where the first tag naming `name` starts (default delimiters), or npos.
std::size_t TagOffset(const std::string& source, const std::string& name, bool partial) {
  for (std::size_t at = source.find("{{"); at != std::string::npos;
       at = source.find("{{", at + 2)) {
    std::size_t i = at + 2;
    bool is_partial = false;
    while (i < source.size() &&
           (source[i] == '{' || source[i] == '&' || source[i] == '#' || source[i] == '^' ||
            source[i] == '/' || source[i] == '>' || source[i] == ' ' || source[i] == '\t')) {
      if (source[i] == '>') is_partial = true;
      ++i;
    }
    if (is_partial != partial || source.compare(i, name.size(), name) != 0) continue;
    const std::size_t end = i + name.size();
    if (end < source.size() && (source[end] == '}' || source[end] == ' ' || source[end] == '\t')) {
      return at;
    }
  }
  return std::string::npos;
}

std::string NameError(const std::string& source, const std::string& name, bool partial) {
  const std::size_t at = TagOffset(source, name, partial);
  return absl::StrCat(partial ? "unknown partial \"" : "unknown name \"", name, "\"",
                      at == std::string::npos ? "" : absl::StrCat(" (", Where(source, at), ")"),
                      partial ? ": define it in partials"
                              : ": see the template data in docs/api.md, \"Message templates\"");
}

absl::Status Refused(const std::string& field, const std::string& where, const std::string& what) {
  return common::InvalidField(field, absl::StrCat(where, ": ", what));
}

std::map<std::string, Data> PartialData(const std::map<std::string, std::string>& partials) {
  std::map<std::string, Data> out;
  for (const auto& [name, source] : partials) out.emplace(name, Data{source});
  return out;
}

// Checks one part against the sample data and the emptied sample (so names
// in sections and in inverted sections are both looked up).
absl::Status CheckPart(const std::string& field, const std::string& where,
                       const std::string& source, Escape escape,
                       const std::map<std::string, Data>& partials) {
  for (const nlohmann::json& data : {TemplateSample(), Emptied(TemplateSample())}) {
    const Data root = ToData(data, escape);
    TemplateContext seen(&root, partials, true);
    Rendered r = RenderWith(source, seen);
    if (!r.error.empty()) return Refused(field, where, SyntaxError(source, r.error));
    if (seen.too_deep) {
      return Refused(field, where, "partials nest more than 100 deep (a partial includes itself?)");
    }
    if (!seen.unknown_partials.empty()) {
      return Refused(field, where, NameError(source, *seen.unknown_partials.begin(), true));
    }
    if (!seen.unknown_names.empty()) {
      return Refused(field, where, NameError(source, *seen.unknown_names.begin(), false));
    }
    if (escape == Escape::kJson && !nlohmann::json::accept(r.text)) {
      return Refused(field, where,
                     "the rendered body is not JSON (put each value inside a JSON string)");
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> NormalizeLocale(const std::string& tag) {
  std::vector<std::string> parts = absl::StrSplit(tag, absl::ByAnyChar("-_"));
  if (parts.empty() || parts[0].size() < 2 || parts[0].size() > 3 || parts.size() > 4) {
    return absl::InvalidArgumentError("");
  }
  for (std::size_t i = 0; i < parts.size(); ++i) {
    std::string& p = parts[i];
    if (p.empty() || p.size() > 8) return absl::InvalidArgumentError("");
    for (char c : p) {
      if (!absl::ascii_isalnum(static_cast<unsigned char>(c)))
        return absl::InvalidArgumentError("");
    }
    absl::AsciiStrToLower(&p);
    if (i == 0) {
      for (char c : p) {
        if (!absl::ascii_isalpha(static_cast<unsigned char>(c))) {
          return absl::InvalidArgumentError("");
        }
      }
    } else if (p.size() == 2) {
      absl::AsciiStrToUpper(&p);  // region
    } else if (p.size() == 4) {
      p[0] = absl::ascii_toupper(static_cast<unsigned char>(p[0]));  // script
    }
  }
  return absl::StrJoin(parts, "-");
}

bool IsPartialName(const std::string& name) {
  if (name.empty() || name.size() > 64) return false;
  for (char c : name) {
    if (!(absl::ascii_islower(static_cast<unsigned char>(c)) ||
          absl::ascii_isdigit(static_cast<unsigned char>(c)) || c == '_' || c == '-')) {
      return false;
    }
  }
  return true;
}

std::string Language(const std::string& locale) {
  return std::string(locale.substr(0, locale.find('-')));
}

}  // namespace

const std::vector<TemplatePart>& PartsOf(TemplateChannel c) {
  static const auto* email = new std::vector<TemplatePart>{{"subject", true, Escape::kLine},
                                                           {"html", false, Escape::kHtml},
                                                           {"text", false, Escape::kText}};
  static const auto* sms = new std::vector<TemplatePart>{{"text", true, Escape::kText}};
  static const auto* push =
      new std::vector<TemplatePart>{{"title", true, Escape::kLine}, {"body", true, Escape::kText}};
  static const auto* webhook = new std::vector<TemplatePart>{{"json", true, Escape::kJson}};
  switch (c) {
    case TemplateChannel::kEmail:
      return *email;
    case TemplateChannel::kSms:
      return *sms;
    case TemplateChannel::kPush:
      return *push;
    case TemplateChannel::kWebhook:
      return *webhook;
  }
  return *email;
}

const nlohmann::json& TemplateSample() {
  static const auto* sample = new nlohmann::json(nlohmann::json::parse(R"({
    "customer": {
      "id": "00000000-0000-4000-8000-000000000000",
      "given_name": "Ada", "family_name": "Lovelace", "display_name": "Ada Lovelace",
      "email": "ada@example.com", "phone": "+41790000000",
      "locale": "en-GB", "time_zone": "Europe/London",
      "city": "London", "country": "GB", "lifecycle_stage": "customer",
      "attributes": {}
    },
    "birthday": {"today": true, "month": "12", "day": "10"},
    "recommendations": [
      {"sku": "SKU-1", "category": "Home/Kitchen", "reason": "bought", "because_sku": "SKU-0"}
    ],
    "offers": [
      {"offer_id": "welcome", "display_name": "Welcome", "kind": "discount", "content": "10 % off",
       "discount_percent": "10", "decision_id": "00000000-0000-4000-8000-000000000001"}
    ],
    "interests": [{"topic": "Home/Kitchen", "score": "0.8"}],
    "now": {"date": "2026-12-10", "year": "2026"},
    "message": {"unsubscribe_url": "https://crm.example.com/t/u/sample"}
  })"));
  return *sample;
}

std::string EscapeFor(Escape e, const std::string& value) {
  std::string out;
  out.reserve(value.size());
  for (char ch : value) {
    const unsigned char c = static_cast<unsigned char>(ch);
    switch (e) {
      case Escape::kHtml:
        switch (ch) {
          case '&':
            out += "&amp;";
            break;
          case '<':
            out += "&lt;";
            break;
          case '>':
            out += "&gt;";
            break;
          case '"':
            out += "&quot;";
            break;
          case '\'':
            out += "&#39;";
            break;
          case '`':
            out += "&#96;";
            break;
          case '=':
            out += "&#61;";
            break;
          default:
            out += ch;
        }
        break;
      case Escape::kLine:
        if (ch == '\r' || ch == '\n' || ch == '\t') {
          out += ' ';
        } else if (c >= 0x20 && c != 0x7f) {
          out += ch;
        }
        break;
      case Escape::kText:
        if (ch == '\n' || ch == '\t' || (c >= 0x20 && c != 0x7f)) out += ch;
        break;
      case Escape::kJson:
        if (ch == '"' || ch == '\\') {
          out += '\\';
          out += ch;
        } else if (c < 0x20 || ch == '<' || ch == '>' || ch == '&' || c == 0x7f) {
          static const char* hex = "0123456789abcdef";
          out += "\\u00";
          out += hex[c >> 4];
          out += hex[c & 0xf];
        } else {
          out += ch;
        }
        break;
    }
  }
  return out;
}

absl::Status NormalizeTemplate(MessageTemplate& t) {
  if (!IsSlotId(t.template_id)) {
    return common::InvalidField("template_id", "template_id must match [a-z0-9][a-z0-9_-]{0,63}");
  }
  if (absl::Status s = common::CheckStorableText("display_name", t.display_name); !s.ok()) return s;
  t.display_name = std::string(absl::StripAsciiWhitespace(t.display_name));
  if (t.display_name.empty() || t.display_name.size() > 200) {
    return common::InvalidField("display_name", "display_name is 1..200 characters");
  }
  if (t.locales.empty() || t.locales.size() > kMaxTemplateLocales) {
    return common::InvalidField("locales", "a template has 1..20 locales");
  }
  if (t.partials.size() > kMaxTemplatePartials) {
    return common::InvalidField("partials", "a template has at most 20 partials");
  }
  for (const auto& [name, source] : t.partials) {
    if (!IsPartialName(name)) {
      return common::InvalidField(
          "partials", absl::StrCat("partial name \"", name, "\" must match [a-z0-9_-]{1,64}"));
    }
    if (absl::Status s = common::CheckStorableText("partials", source); !s.ok()) return s;
    if (source.size() > kMaxTemplateSourceBytes) {
      return common::InvalidField("partials",
                                  absl::StrCat("partial \"", name, "\" is over 65536 bytes"));
    }
    mu::mustache m{source};
    if (!m.is_valid()) {
      return Refused("partials", absl::StrCat("partial \"", name, "\""),
                     SyntaxError(source, m.error_message()));
    }
  }
  const std::map<std::string, Data> partials = PartialData(t.partials);
  const std::vector<TemplatePart>& spec = PartsOf(t.channel);
  std::set<std::string> seen;
  for (TemplateLocale& l : t.locales) {
    absl::StatusOr<std::string> tag = NormalizeLocale(l.locale);
    if (!tag.ok()) {
      return common::InvalidField(
          "locales.locale",
          absl::StrCat("locale \"", l.locale, "\" is not a BCP 47 tag such as de or de-CH"));
    }
    l.locale = *tag;
    if (!seen.insert(l.locale).second) {
      return common::InvalidField("locales.locale",
                                  absl::StrCat("locale ", l.locale, " is given twice"));
    }
    for (const auto& [name, source] : l.parts) {
      const bool known = std::any_of(spec.begin(), spec.end(),
                                     [&](const TemplatePart& p) { return name == p.name; });
      if (!known) {
        std::vector<std::string> names;
        for (const TemplatePart& p : spec) names.push_back(p.name);
        return common::InvalidField(
            "locales.parts", absl::StrCat(l.locale, ": this channel's parts are ",
                                          absl::StrJoin(names, ", "), ", not \"", name, "\""));
      }
    }
    for (const TemplatePart& p : spec) {
      auto it = l.parts.find(p.name);
      if (it != l.parts.end() && it->second.empty()) {
        l.parts.erase(it);
        it = l.parts.end();
      }
      if (it == l.parts.end()) {
        if (p.required) {
          return common::InvalidField("locales.parts",
                                      absl::StrCat(l.locale, ": the ", p.name, " is required"));
        }
        continue;
      }
      const std::string where = absl::StrCat(l.locale, " ", p.name);
      if (absl::Status s = common::CheckStorableText("locales.parts", it->second); !s.ok()) {
        return s;
      }
      if (it->second.size() > kMaxTemplateSourceBytes) {
        return Refused("locales.parts", where, "over 65536 bytes");
      }
      if (absl::Status s = CheckPart("locales.parts", where, it->second, p.escape, partials);
          !s.ok()) {
        return s;
      }
    }
    if (t.channel == TemplateChannel::kEmail && !l.parts.count("html") && !l.parts.count("text")) {
      return common::InvalidField(
          "locales.parts", absl::StrCat(l.locale, ": an email needs an html or a text part"));
    }
  }
  if (t.default_locale.empty()) {
    t.default_locale = t.locales.front().locale;
  } else {
    absl::StatusOr<std::string> tag = NormalizeLocale(t.default_locale);
    if (!tag.ok() || !seen.count(*tag)) {
      return common::InvalidField("default_locale",
                                  "default_locale must be one of the template's locales");
    }
    t.default_locale = *tag;
  }
  return absl::OkStatus();
}

const TemplateLocale& PickLocale(const MessageTemplate& t, const std::string& wanted) {
  absl::StatusOr<std::string> tag = NormalizeLocale(wanted);
  const TemplateLocale* fallback = &t.locales.front();
  for (const TemplateLocale& l : t.locales) {
    if (l.locale == t.default_locale) fallback = &l;
  }
  if (!tag.ok()) return *fallback;
  for (const TemplateLocale& l : t.locales) {
    if (l.locale == *tag) return l;
  }
  const std::string language = Language(*tag);
  for (const TemplateLocale& l : t.locales) {
    if (l.locale == language) return l;
  }
  for (const TemplateLocale& l : t.locales) {
    if (Language(l.locale) == language) return l;
  }
  return *fallback;
}

absl::StatusOr<std::map<std::string, std::string>> RenderTemplate(const MessageTemplate& t,
                                                                  const TemplateLocale& locale,
                                                                  const nlohmann::json& data) {
  const std::map<std::string, Data> partials = PartialData(t.partials);
  std::map<std::string, std::string> out;
  for (const TemplatePart& p : PartsOf(t.channel)) {
    auto it = locale.parts.find(p.name);
    if (it == locale.parts.end()) continue;
    const Data root = ToData(data, p.escape);
    TemplateContext ctx(&root, partials, false);
    Rendered r = RenderWith(it->second, ctx);
    if (!r.error.empty() || ctx.too_deep) {
      return absl::FailedPreconditionError(absl::StrCat(
          locale.locale, " ", p.name, ": ", r.error.empty() ? "partials nest too deep" : r.error));
    }
    if (p.escape == Escape::kJson && !nlohmann::json::accept(r.text)) {
      return absl::FailedPreconditionError(
          absl::StrCat(locale.locale, " json: the rendered body is not JSON"));
    }
    out.emplace(p.name, std::move(r.text));
  }
  return out;
}

bool Mentions(const MessageTemplate& t, absl::string_view name) {
  for (const TemplateLocale& l : t.locales) {
    for (const auto& [part, source] : l.parts) {
      if (absl::StrContains(source, name)) return true;
    }
  }
  for (const auto& [partial, source] : t.partials) {
    if (absl::StrContains(source, name)) return true;
  }
  return false;
}

bool IsBirthday(int month, int day, absl::TimeZone zone, absl::Time now) {
  const absl::CivilDay today = absl::ToCivilDay(now, zone);
  if (month == 2 && day == 29) {
    const absl::CivilDay feb29(today.year(), 2, 29);
    const bool leap = feb29.month() == 2;  // normalizes to 1 March otherwise
    return today.month() == 2 && today.day() == (leap ? 29 : 28);
  }
  return today.month() == month && today.day() == day;
}

}  // namespace crm::personalization::domain
