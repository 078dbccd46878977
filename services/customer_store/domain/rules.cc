#include "services/customer_store/domain/rules.h"

#include <algorithm>
#include <optional>
#include <set>
#include <tuple>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/civil_time.h"
#include "libs/common/errors.h"
#include "libs/common/status_macros.h"
#include "libs/common/text.h"
#include "libs/common/time_zone.h"

namespace crm::customer_store::domain {

using common::InvalidField;

std::string EtagOf(const Customer& c) { return absl::StrCat(c.version); }

absl::StatusOr<std::string> NormalizeEmail(absl::string_view raw) {
  std::string e = absl::AsciiStrToLower(absl::StripAsciiWhitespace(raw));
  if (e.empty()) return absl::InvalidArgumentError("email is empty");
  if (e.size() > 254) return absl::InvalidArgumentError("email is longer than 254 characters");
  size_t at = e.find('@');
  if (at == std::string::npos || at == 0 || e.find('@', at + 1) != std::string::npos) {
    return absl::InvalidArgumentError("email must look like name@example.com");
  }
  absl::string_view local = absl::string_view(e).substr(0, at);
  absl::string_view domain = absl::string_view(e).substr(at + 1);
  if (local.size() > 64) return absl::InvalidArgumentError("email local part exceeds 64 characters");
  if (domain.empty() || domain.find('.') == absl::string_view::npos || domain.front() == '.' ||
      domain.back() == '.' || absl::StrContains(domain, "..")) {
    return absl::InvalidArgumentError("email domain must be a dotted host name");
  }
  for (char c : e) {
    unsigned char u = static_cast<unsigned char>(c);
    if (u <= 0x20 || c == '(' || c == ')' || c == ',' || c == ';' || c == ':' || c == '<' ||
        c == '>' || c == '[' || c == ']' || c == '\\' || c == '"') {
      return absl::InvalidArgumentError("email contains a character that is not allowed");
    }
  }
  for (char c : domain) {
    if (!(absl::ascii_isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '.' ||
          static_cast<unsigned char>(c) >= 0x80)) {
      return absl::InvalidArgumentError("email domain contains a character that is not allowed");
    }
  }
  return e;
}

absl::StatusOr<std::string> NormalizePhone(absl::string_view raw) {
  absl::string_view s = absl::StripAsciiWhitespace(raw);
  if (s.empty()) return absl::InvalidArgumentError("phone is empty");
  std::string digits;
  bool international = false;
  size_t i = 0;
  if (s[0] == '+') {
    international = true;
    i = 1;
  } else if (absl::StartsWith(s, "00")) {
    international = true;
    i = 2;
  }
  for (; i < s.size(); ++i) {
    char c = s[i];
    if (absl::ascii_isdigit(static_cast<unsigned char>(c))) {
      digits.push_back(c);
    } else if (c == ' ' || c == '-' || c == '.' || c == '(' || c == ')' || c == '/') {
      continue;
    } else {
      return absl::InvalidArgumentError("phone may contain only digits, spaces, - . ( ) / and a leading +");
    }
  }
  if (!international) {
    return absl::InvalidArgumentError(
        "phone must be in international format with a country code, e.g. +41 44 668 18 00");
  }
  if (digits.size() < 8 || digits.size() > 15 || digits[0] == '0') {
    return absl::InvalidArgumentError("phone must have 8 to 15 digits after + and no leading 0");
  }
  return absl::StrCat("+", digits);
}

absl::Status ValidateExternalId(const ExternalId& id) {
  if (id.source.empty() || id.source.size() > 64) {
    return absl::InvalidArgumentError("external id source must be 1..64 characters");
  }
  for (char c : id.source) {
    if (!(absl::ascii_islower(static_cast<unsigned char>(c)) ||
          absl::ascii_isdigit(static_cast<unsigned char>(c)) || c == '_' || c == '-' || c == '.')) {
      return absl::InvalidArgumentError("external id source may contain only a-z 0-9 _ - .");
    }
  }
  if (id.value.empty() || id.value.size() > 128) {
    return absl::InvalidArgumentError("external id value must be 1..128 characters");
  }
  return absl::OkStatus();
}

absl::Status ValidateDate(const Date& d, absl::string_view field) {
  if (d.year != 0 && (d.year < 1900 || d.year > 2200)) {
    return InvalidField(field, absl::StrCat(field, ".year must be 0 (unknown) or 1900..2200"));
  }
  if (d.month < 1 || d.month > 12) {
    return InvalidField(field, absl::StrCat(field, ".month must be 1..12"));
  }
  // Leap year 2000 when the year is unknown, so 29 February is accepted.
  absl::CivilDay day(d.year == 0 ? 2000 : d.year, d.month, d.day);
  if (d.day < 1 || day.day() != d.day || day.month() != d.month) {
    return InvalidField(field, absl::StrCat(field, " is not a calendar date"));
  }
  return absl::OkStatus();
}

bool IsValidAttributeKey(absl::string_view key) {
  if (key.empty() || key.size() > 64 || !absl::ascii_islower(static_cast<unsigned char>(key[0]))) {
    return false;
  }
  for (char c : key) {
    if (!(absl::ascii_islower(static_cast<unsigned char>(c)) ||
          absl::ascii_isdigit(static_cast<unsigned char>(c)) || c == '_')) {
      return false;
    }
  }
  return true;
}

bool IsValidLocale(absl::string_view locale) {
  if (locale.empty() || locale.size() > 35) return false;
  std::vector<absl::string_view> parts = absl::StrSplit(locale, absl::ByAnyChar("-_"));
  if (parts[0].size() < 2 || parts[0].size() > 3) return false;
  for (absl::string_view p : parts) {
    if (p.empty() || p.size() > 8) return false;
    for (char c : p) {
      if (!absl::ascii_isalnum(static_cast<unsigned char>(c))) return false;
    }
  }
  for (char c : parts[0]) {
    if (!absl::ascii_isalpha(static_cast<unsigned char>(c))) return false;
  }
  return true;
}

namespace {
absl::Status CheckLength(const std::string& v, absl::string_view field, size_t max) {
  if (v.size() > max) {
    return InvalidField(field, absl::StrCat(field, " is longer than ", max, " characters"));
  }
  return absl::OkStatus();
}

template <typename T, typename Key>
void DedupeKeepOrder(std::vector<T>& v, Key key) {
  std::set<decltype(key(v[0]))> seen;
  std::vector<T> out;
  for (auto& x : v) {
    if (seen.insert(key(x)).second) out.push_back(std::move(x));
  }
  v = std::move(out);
}
}  // namespace

// Every free text of a customer must be storable as given (no NUL bytes).
static absl::Status CheckTexts(const Customer& c) {
  using common::CheckStorableText;
  for (auto [v, f] : {std::pair{&c.given_name, "given_name"}, {&c.family_name, "family_name"},
                      {&c.display_name, "display_name"}, {&c.owner, "owner"},
                      {&c.locale, "locale"}, {&c.time_zone, "time_zone"}}) {
    CRM_RETURN_IF_ERROR(CheckStorableText(f, *v));
  }
  for (const auto& e : c.emails) CRM_RETURN_IF_ERROR(CheckStorableText("emails", e));
  for (const auto& p : c.phones) CRM_RETURN_IF_ERROR(CheckStorableText("phones", p));
  for (const auto& x : c.external_ids) {
    CRM_RETURN_IF_ERROR(CheckStorableText("external_ids", x.source));
    CRM_RETURN_IF_ERROR(CheckStorableText("external_ids", x.value));
  }
  if (c.postal_address) {
    for (const auto& l : c.postal_address->lines) {
      CRM_RETURN_IF_ERROR(CheckStorableText("postal_address.lines", l));
    }
    for (auto [v, f] : {std::pair{&c.postal_address->locality, "postal_address.locality"},
                        {&c.postal_address->region, "postal_address.region"},
                        {&c.postal_address->postal_code, "postal_address.postal_code"},
                        {&c.postal_address->country_code, "postal_address.country_code"}}) {
      CRM_RETURN_IF_ERROR(CheckStorableText(f, *v));
    }
  }
  for (const auto& a : c.anniversaries) {
    CRM_RETURN_IF_ERROR(CheckStorableText("anniversaries.label", a.label));
  }
  for (const auto& [k, v] : c.attributes) {
    std::string field = absl::StrCat("attributes.", k);
    CRM_RETURN_IF_ERROR(CheckStorableText(field, k));
    if (const auto* s = std::get_if<std::string>(&v)) {
      CRM_RETURN_IF_ERROR(CheckStorableText(field, *s));
    }
  }
  return absl::OkStatus();
}

absl::Status NormalizeAndValidate(Customer& c) {
  CRM_RETURN_IF_ERROR(CheckTexts(c));
  for (auto [v, f] : {std::pair{&c.given_name, "given_name"}, {&c.family_name, "family_name"},
                      {&c.display_name, "display_name"}, {&c.owner, "owner"}}) {
    *v = std::string(absl::StripAsciiWhitespace(*v));
    if (absl::Status s = CheckLength(*v, f, kMaxNameLength); !s.ok()) return s;
  }
  for (size_t i = 0; i < c.emails.size(); ++i) {
    auto e = NormalizeEmail(c.emails[i]);
    std::string f = absl::StrCat("emails[", i, "]");
    if (!e.ok()) return InvalidField(f, absl::StrCat(f, ": ", e.status().message()));
    c.emails[i] = *e;
  }
  for (size_t i = 0; i < c.phones.size(); ++i) {
    auto p = NormalizePhone(c.phones[i]);
    std::string f = absl::StrCat("phones[", i, "]");
    if (!p.ok()) return InvalidField(f, absl::StrCat(f, ": ", p.status().message()));
    c.phones[i] = *p;
  }
  for (size_t i = 0; i < c.external_ids.size(); ++i) {
    std::string f = absl::StrCat("external_ids[", i, "]");
    if (absl::Status s = ValidateExternalId(c.external_ids[i]); !s.ok()) {
      return InvalidField(f, absl::StrCat(f, ": ", s.message()));
    }
  }
  if (!c.emails.empty()) DedupeKeepOrder(c.emails, [](const std::string& s) { return s; });
  if (!c.phones.empty()) DedupeKeepOrder(c.phones, [](const std::string& s) { return s; });
  if (!c.external_ids.empty()) {
    DedupeKeepOrder(c.external_ids,
                    [](const ExternalId& e) { return std::make_pair(e.source, e.value); });
  }
  for (auto [count, field] : {std::pair{c.emails.size(), "emails"}, {c.phones.size(), "phones"},
                              {c.external_ids.size(), "external_ids"}}) {
    if (count > static_cast<size_t>(kMaxIdentitiesPerKind)) {
      return InvalidField(field, absl::StrCat("at most ", kMaxIdentitiesPerKind, " ", field,
                                              " per customer"));
    }
  }
  if (c.postal_address) {
    PostalAddress& a = *c.postal_address;
    if (a.lines.size() > 5) return InvalidField("postal_address.lines", "at most 5 address lines");
    for (auto& l : a.lines) {
      if (absl::Status s = CheckLength(l, "postal_address.lines", kMaxNameLength); !s.ok()) return s;
    }
    if (!a.country_code.empty()) {
      a.country_code = absl::AsciiStrToUpper(a.country_code);
      if (a.country_code.size() != 2 || !absl::ascii_isalpha(static_cast<unsigned char>(a.country_code[0])) ||
          !absl::ascii_isalpha(static_cast<unsigned char>(a.country_code[1]))) {
        return InvalidField("postal_address.country_code",
                            "postal_address.country_code must be ISO 3166-1 alpha-2, e.g. CH");
      }
    }
    for (auto [v, f] : {std::pair{&a.locality, "postal_address.locality"},
                        {&a.region, "postal_address.region"},
                        {&a.postal_code, "postal_address.postal_code"}}) {
      if (absl::Status s = CheckLength(*v, f, kMaxNameLength); !s.ok()) return s;
    }
    if (a.empty()) c.postal_address.reset();
  }
  if (c.birthday) {
    if (absl::Status s = ValidateDate(*c.birthday, "birthday"); !s.ok()) return s;
  }
  for (size_t i = 0; i < c.anniversaries.size(); ++i) {
    std::string f = absl::StrCat("anniversaries[", i, "]");
    if (c.anniversaries[i].label.empty() || c.anniversaries[i].label.size() > 64) {
      return InvalidField(f, absl::StrCat(f, ".label must be 1..64 characters"));
    }
    if (absl::Status s = ValidateDate(c.anniversaries[i].date, f); !s.ok()) return s;
  }
  if (!c.locale.empty() && !IsValidLocale(c.locale)) {
    return InvalidField("locale", "locale must be a BCP 47 tag such as en or de-CH");
  }
  if (!c.time_zone.empty()) {
    absl::TimeZone tz;
    if (!common::LoadZone(c.time_zone, &tz)) {
      return InvalidField("time_zone", "time_zone must be an IANA zone such as Europe/Zurich");
    }
  }
  int stage = static_cast<int>(c.lifecycle_stage);
  if (stage < 0 || stage > 6) return InvalidField("lifecycle_stage", "unknown lifecycle_stage");
  if (c.attributes.size() > kMaxAttributes) {
    return InvalidField("attributes", absl::StrCat("at most ", kMaxAttributes, " attributes"));
  }
  for (const auto& [k, v] : c.attributes) {
    if (!IsValidAttributeKey(k)) {
      return InvalidField(absl::StrCat("attributes.", k),
                          "attribute keys must match [a-z][a-z0-9_]{0,63}");
    }
    if (const auto* s = std::get_if<std::string>(&v); s && s->size() > kMaxAttributeStringLength) {
      return InvalidField(absl::StrCat("attributes.", k),
                          absl::StrCat("attribute strings are at most ", kMaxAttributeStringLength,
                                       " characters"));
    }
    if (const auto* d = std::get_if<double>(&v); d && !(*d == *d && *d - *d == 0)) {
      return InvalidField(absl::StrCat("attributes.", k), "attribute numbers must be finite");
    }
  }
  return absl::OkStatus();
}

absl::Status ApplyUpdateMask(const Customer& patch, const std::vector<std::string>& paths,
                             Customer& target) {
  auto bad = [](const std::string& p, absl::string_view why) {
    return common::WithField(
        common::WithReason(absl::InvalidArgumentError(absl::StrCat("update_mask path \"", p, "\" ", why)),
                           "INVALID_UPDATE_MASK"),
        "update_mask");
  };
  if (paths.empty()) return bad("", "is empty: name at least one field");
  for (const std::string& p : paths) {
    if (p == "given_name") {
      target.given_name = patch.given_name;
    } else if (p == "family_name") {
      target.family_name = patch.family_name;
    } else if (p == "display_name") {
      target.display_name = patch.display_name;
    } else if (p == "emails") {
      target.emails = patch.emails;
    } else if (p == "phones") {
      target.phones = patch.phones;
    } else if (p == "external_ids") {
      target.external_ids = patch.external_ids;
    } else if (p == "postal_address") {
      target.postal_address = patch.postal_address;
    } else if (p == "birthday") {
      target.birthday = patch.birthday;
    } else if (p == "anniversaries") {
      target.anniversaries = patch.anniversaries;
    } else if (p == "locale") {
      target.locale = patch.locale;
    } else if (p == "time_zone") {
      target.time_zone = patch.time_zone;
    } else if (p == "lifecycle_stage") {
      target.lifecycle_stage = patch.lifecycle_stage;
    } else if (p == "owner") {
      target.owner = patch.owner;
    } else if (p == "attributes") {
      target.attributes = patch.attributes;
    } else if (absl::StartsWith(p, "attributes.")) {
      std::string key = p.substr(strlen("attributes."));
      if (!IsValidAttributeKey(key)) return bad(p, "names an invalid attribute key");
      auto it = patch.attributes.find(key);
      if (it == patch.attributes.end()) {
        target.attributes.erase(key);
      } else {
        target.attributes[key] = it->second;
      }
    } else if (p == "id" || p == "etag" || p == "create_time" || p == "update_time") {
      return bad(p, "is output only");
    } else {
      return bad(p, "is not a field of Customer");
    }
  }
  return absl::OkStatus();
}

std::vector<Consent> CurrentConsents(const std::vector<Consent>& history) {
  std::map<std::pair<int, int>, Consent> latest;
  for (const Consent& c : history) {
    auto key = std::make_pair(static_cast<int>(c.channel), static_cast<int>(c.purpose));
    auto it = latest.find(key);
    if (it == latest.end() || c.record_time >= it->second.record_time) latest[key] = c;
  }
  std::vector<Consent> out;
  for (auto& [k, c] : latest) out.push_back(c);
  return out;
}

absl::Status ValidateConsent(const Consent& c) {
  CRM_RETURN_IF_ERROR(common::CheckStorableText("consent.source", c.source));
  CRM_RETURN_IF_ERROR(common::CheckStorableText("consent.policy_version", c.policy_version));
  int ch = static_cast<int>(c.channel), pu = static_cast<int>(c.purpose),
      st = static_cast<int>(c.status);
  if (ch < 1 || ch > 5) return InvalidField("consent.channel", "consent.channel is required");
  if (pu < 1 || pu > 3) return InvalidField("consent.purpose", "consent.purpose is required");
  if (st < 1 || st > 3) return InvalidField("consent.status", "consent.status is required");
  if (c.source.size() > 128) return InvalidField("consent.source", "consent.source is at most 128 characters");
  if (c.policy_version.size() > 64) {
    return InvalidField("consent.policy_version", "consent.policy_version is at most 64 characters");
  }
  return absl::OkStatus();
}

absl::Status ValidateInteraction(const Interaction& i) {
  for (auto [v, f] : {std::pair{&i.channel, "interaction.channel"}, {&i.actor, "interaction.actor"},
                      {&i.summary, "interaction.summary"}, {&i.source, "interaction.source"}}) {
    CRM_RETURN_IF_ERROR(common::CheckStorableText(f, *v));
  }
  CRM_RETURN_IF_ERROR(common::CheckStorableJson("interaction.payload", i.payload_json));
  int k = static_cast<int>(i.kind);
  if (k < 1 || k > static_cast<int>(InteractionKind::kPush))
    return InvalidField("interaction.kind", "interaction.kind is required");
  if (i.summary.size() > 4000) {
    return InvalidField("interaction.summary", "interaction.summary is at most 4000 characters");
  }
  if (i.payload_json.size() > 64 * 1024) {
    return InvalidField("interaction.payload", "interaction.payload is at most 64 KiB");
  }
  for (auto [v, f] : {std::pair{&i.channel, "interaction.channel"}, {&i.actor, "interaction.actor"},
                      {&i.source, "interaction.source"}}) {
    if (v->size() > 128) return InvalidField(f, absl::StrCat(f, " is at most 128 characters"));
  }
  return absl::OkStatus();
}

std::vector<Identity> IdentitiesOf(const Customer& c) {
  std::vector<Identity> out;
  for (const auto& e : c.emails) out.push_back({IdentityKind::kEmail, e, "", absl::InfinitePast()});
  for (const auto& p : c.phones) out.push_back({IdentityKind::kPhone, p, "", absl::InfinitePast()});
  for (const auto& x : c.external_ids) {
    out.push_back({IdentityKind::kExternalId, x.value, x.source, absl::InfinitePast()});
  }
  return out;
}

namespace {
// Attributes as stored: times at microseconds.
bool SameAttributes(const std::map<std::string, AttributeValue>& a,
                    const std::map<std::string, AttributeValue>& b) {
  if (a.size() != b.size()) return false;
  for (auto i = a.begin(), j = b.begin(); i != a.end(); ++i, ++j) {
    if (i->first != j->first || i->second.index() != j->second.index()) return false;
    const auto* ta = std::get_if<absl::Time>(&i->second);
    if (ta != nullptr
            ? absl::ToUnixMicros(*ta) != absl::ToUnixMicros(std::get<absl::Time>(j->second))
            : i->second != j->second) {
      return false;
    }
  }
  return true;
}
}  // namespace

bool SameContent(const Customer& a, const Customer& b) {
  auto address = [](const std::optional<PostalAddress>& p) {
    return p ? std::make_tuple(true, p->lines, p->locality, p->region, p->postal_code,
                               p->country_code)
             : std::make_tuple(false, std::vector<std::string>{}, std::string(), std::string(),
                               std::string(), std::string());
  };
  auto anniversaries = [](const std::vector<Anniversary>& v) {
    std::vector<std::tuple<std::string, int, int, int>> out;
    for (const auto& x : v) out.emplace_back(x.label, x.date.year, x.date.month, x.date.day);
    return out;
  };
  return a.given_name == b.given_name && a.family_name == b.family_name &&
         a.display_name == b.display_name && a.emails == b.emails && a.phones == b.phones &&
         a.external_ids == b.external_ids &&
         address(a.postal_address) == address(b.postal_address) && a.birthday == b.birthday &&
         anniversaries(a.anniversaries) == anniversaries(b.anniversaries) && a.locale == b.locale &&
         a.time_zone == b.time_zone && a.lifecycle_stage == b.lifecycle_stage &&
         a.owner == b.owner && SameAttributes(a.attributes, b.attributes);
}

absl::Status CheckIfMatch(const Customer& c, const std::string& if_match) {
  if (if_match.empty() || if_match == EtagOf(c)) return absl::OkStatus();
  return common::WithReason(absl::AbortedError("etag does not match: the customer changed since "
                                               "you read it; read it again and retry"),
                            "ETAG_MISMATCH");
}

absl::Status CheckErasureIfMatch(const Customer& c, const std::string& if_match) {
  if (if_match.empty() || if_match == EtagOf(c)) return absl::OkStatus();
  return common::WithReason(absl::AbortedError("etag does not match: read again and retry"),
                            "ETAG_MISMATCH");
}

}  // namespace crm::customer_store::domain
