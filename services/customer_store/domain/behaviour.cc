#include "services/customer_store/domain/behaviour.h"

#include <arpa/inet.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <set>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "libs/common/errors.h"
#include "libs/common/id.h"
#include "services/customer_store/domain/rules.h"

namespace crm::customer_store::domain {
namespace {

absl::Status Refuse(const char* reason, absl::string_view field, absl::string_view message) {
  return common::WithField(common::WithReason(absl::InvalidArgumentError(message), reason), field);
}

absl::Status TooLarge(absl::string_view field, size_t limit) {
  return Refuse("EVENT_TOO_LARGE", field, absl::StrCat(field, " is longer than ", limit, " bytes"));
}

bool ValidCustomSuffix(absl::string_view s) {
  if (s.empty() || s.size() > 62) return false;
  return std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '.' || c == '-';
  });
}

bool ValidCustomKey(absl::string_view k) {
  if (k.empty() || k.size() > 64 || !(k[0] >= 'a' && k[0] <= 'z')) return false;
  return std::all_of(k.begin(), k.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
  });
}

// A text field: valid UTF-8, no NUL, at most `limit` bytes.
absl::Status CheckText(absl::string_view field, absl::string_view value, size_t limit) {
  if (!IsValidUtf8(value)) {
    return Refuse("INVALID_UTF8", field, absl::StrCat(field, " is not valid UTF-8"));
  }
  if (value.find('\0') != absl::string_view::npos) {
    return Refuse("INVALID_FIELD", field, absl::StrCat(field, " must not contain NUL characters"));
  }
  if (value.size() > limit) return TooLarge(field, limit);
  return absl::OkStatus();
}

constexpr const char* kKnownTypes[] = {"page.viewed",     "product.viewed",    "search.performed",
                                       "cart.item_added", "cart.item_removed", "checkout.started"};

}  // namespace

bool IsKnownEventType(absl::string_view type) {
  for (const char* t : kKnownTypes) {
    if (type == t) return true;
  }
  if (type == kIdentifyType) return true;
  return absl::StartsWith(type, "x.") && ValidCustomSuffix(type.substr(2));
}

bool IsValidUtf8(absl::string_view s) {
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  const size_t n = s.size();
  size_t i = 0;
  while (i < n) {
    const unsigned char c = p[i];
    if (c < 0x80) {
      ++i;
      continue;
    }
    size_t len = 0;
    uint32_t cp = 0;
    if ((c & 0xE0) == 0xC0) {
      len = 2;
      cp = c & 0x1F;
    } else if ((c & 0xF0) == 0xE0) {
      len = 3;
      cp = c & 0x0F;
    } else if ((c & 0xF8) == 0xF0) {
      len = 4;
      cp = c & 0x07;
    } else {
      return false;
    }
    if (i + len > n) return false;
    for (size_t k = 1; k < len; ++k) {
      if ((p[i + k] & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (p[i + k] & 0x3F);
    }
    // Overlong forms, surrogates, beyond U+10FFFF.
    if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
        (cp >= 0xD800 && cp <= 0xDFFF) || cp > 0x10FFFF) {
      return false;
    }
    i += len;
  }
  return true;
}

absl::StatusOr<std::string> TruncateIp(absl::string_view ip) {
  if (ip.empty()) return std::string();
  if (ip.size() > 64) return absl::InvalidArgumentError("not an IP address");
  const std::string text(ip);
  unsigned char buf[16];
  char out[INET6_ADDRSTRLEN];
  if (inet_pton(AF_INET, text.c_str(), buf) == 1) {
    buf[3] = 0;
    if (inet_ntop(AF_INET, buf, out, sizeof(out)) == nullptr) {
      return absl::InvalidArgumentError("not an IP address");
    }
    return std::string(out);
  }
  if (inet_pton(AF_INET6, text.c_str(), buf) == 1) {
    static constexpr unsigned char kMapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    if (std::memcmp(buf, kMapped, sizeof(kMapped)) == 0) {  // ::ffff:a.b.c.d
      unsigned char v4[4] = {buf[12], buf[13], buf[14], 0};
      if (inet_ntop(AF_INET, v4, out, sizeof(out)) == nullptr) {
        return absl::InvalidArgumentError("not an IP address");
      }
      return std::string(out);
    }
    std::memset(buf + 6, 0, 10);
    if (inet_ntop(AF_INET6, buf, out, sizeof(out)) == nullptr) {
      return absl::InvalidArgumentError("not an IP address");
    }
    return std::string(out);
  }
  return absl::InvalidArgumentError("not an IP address");
}

DeviceClass DeviceClassOf(absl::string_view user_agent) {
  const std::string ua = absl::AsciiStrToLower(user_agent);
  auto has = [&](const char* s) { return ua.find(s) != std::string::npos; };
  if (ua.empty()) return DeviceClass::kUnknown;
  if (has("bot") || has("crawler") || has("spider") || has("slurp") || has("curl/") ||
      has("wget/") || has("python-requests") || has("headlesschrome") ||
      has("facebookexternalhit")) {
    return DeviceClass::kBot;
  }
  if (has("ipad") || has("tablet") || has("kindle") || has("silk/") || has("playbook") ||
      (has("android") && !has("mobile"))) {
    return DeviceClass::kTablet;
  }
  if (has("mobi") || has("iphone") || has("ipod") || has("android") || has("windows phone") ||
      has("blackberry") || has("opera mini")) {
    return DeviceClass::kMobile;
  }
  if (has("windows nt") || has("macintosh") || has("mac os x") || has("x11") || has("linux") ||
      has("cros")) {
    return DeviceClass::kDesktop;
  }
  return DeviceClass::kUnknown;
}

absl::StatusOr<BehaviourEvent> ValidateBehaviour(const BehaviourInput& in, absl::Time now) {
  if (!IsValidUtf8(in.type)) return Refuse("INVALID_UTF8", "type", "type is not valid UTF-8");
  if (!IsKnownEventType(in.type)) {
    return Refuse("UNKNOWN_EVENT_TYPE", "type",
                  "type must be page.viewed, product.viewed, search.performed, cart.item_added, "
                  "cart.item_removed, checkout.started, identify or x.<name> ([a-z0-9_.-], at "
                  "most 62)");
  }
  BehaviourEvent e;
  e.type = in.type;
  e.receive_time = now;
  e.occur_time = in.occur_time == absl::InfinitePast() ? now : in.occur_time;
  if (e.occur_time > now + kMaxFutureSkew) {
    return Refuse("EVENT_TIME_OUT_OF_RANGE", "occur_time",
                  "occur_time is more than 5 minutes in the future");
  }
  if (e.occur_time < now - kMaxEventAge) {
    return Refuse("EVENT_TIME_OUT_OF_RANGE", "occur_time",
                  "occur_time is more than 90 days in the past");
  }

  // The subject: one customer reference at most, and a visitor id.
  const int refs = (in.customer_id.empty() ? 0 : 1) + (in.email.empty() ? 0 : 1) +
                   (in.external_id.empty() && in.external_id_source.empty() ? 0 : 1);
  if (refs > 1) {
    return Refuse("INVALID_FIELD", "customer_id",
                  "give one of customer_id, email or external_id (with a visitor_id or not)");
  }
  if (!in.visitor_id.empty()) {
    if (!IsValidUtf8(in.visitor_id)) {
      return Refuse("INVALID_UTF8", "visitor_id", "visitor_id is not valid UTF-8");
    }
    if (!common::IsVisitorId(in.visitor_id)) {
      return Refuse("INVALID_FIELD", "visitor_id",
                    "visitor_id must be 1..128 characters of [A-Za-z0-9._:-]");
    }
    e.visitor_id = in.visitor_id;
  }
  if (!in.customer_id.empty()) {
    if (!common::IsUuid(in.customer_id)) {
      return Refuse("INVALID_FIELD", "customer_id", "customer_id must be a UUID");
    }
    e.subject = SubjectKind::kCustomerId;
    e.subject_key = absl::AsciiStrToLower(in.customer_id);
  } else if (!in.email.empty()) {
    if (!IsValidUtf8(in.email)) return Refuse("INVALID_UTF8", "email", "email is not valid UTF-8");
    absl::StatusOr<std::string> email = NormalizeEmail(in.email);
    if (!email.ok()) return Refuse("INVALID_FIELD", "email", email.status().message());
    e.subject = SubjectKind::kEmail;
    e.subject_key = *email;
  } else if (refs == 1) {
    for (const auto& [field, value] :
         {std::pair<const char*, const std::string&>{"external_id_source", in.external_id_source},
          {"external_id", in.external_id}}) {
      if (!IsValidUtf8(value)) {
        return Refuse("INVALID_UTF8", field, absl::StrCat(field, " is not valid UTF-8"));
      }
    }
    absl::Status s = ValidateExternalId({in.external_id_source, in.external_id});
    if (!s.ok()) return Refuse("INVALID_FIELD", "external_id", s.message());
    e.subject = SubjectKind::kExternalId;
    e.subject_key = in.external_id;
    e.subject_source = in.external_id_source;
  } else if (e.visitor_id.empty()) {
    return Refuse("INVALID_FIELD", "visitor_id",
                  "an event needs a subject: customer_id, email, external_id or visitor_id");
  } else {
    e.subject = SubjectKind::kVisitor;
  }
  if (e.type == kIdentifyType && (e.subject == SubjectKind::kVisitor || e.visitor_id.empty())) {
    return Refuse("INVALID_FIELD", e.visitor_id.empty() ? "visitor_id" : "customer_id",
                  "an identify event names a customer (customer_id, email or external_id) and "
                  "the visitor_id to link to it");
  }

  // Properties.
  const BehaviourProperties& p = in.properties;
  size_t total = 0;
  auto text = [&](const char* field, const std::string& v, size_t limit) -> absl::Status {
    total += v.size();
    return CheckText(field, v, limit);
  };
  for (const absl::Status& s :
       {text("properties.url", p.url, kMaxUrlBytes), text("properties.path", p.path, kMaxPathBytes),
        text("properties.referrer", p.referrer, kMaxUrlBytes),
        text("properties.title", p.title, kMaxTitleBytes),
        text("properties.sku", p.sku, kMaxSkuBytes),
        text("properties.search_query", p.search_query, kMaxSearchQueryBytes),
        text("properties.utm_source", p.utm_source, kMaxUtmBytes),
        text("properties.utm_medium", p.utm_medium, kMaxUtmBytes),
        text("properties.utm_campaign", p.utm_campaign, kMaxUtmBytes),
        text("properties.utm_term", p.utm_term, kMaxUtmBytes),
        text("properties.utm_content", p.utm_content, kMaxUtmBytes),
        text("properties.currency_code", p.currency_code, 3)}) {
    if (!s.ok()) return s;
  }
  if (p.category_path.size() > kMaxCategoryLevels) {
    return Refuse(
        "EVENT_TOO_LARGE", "properties.category_path",
        absl::StrCat("properties.category_path has more than ", kMaxCategoryLevels, " levels"));
  }
  for (const std::string& level : p.category_path) {
    if (absl::Status s = text("properties.category_path", level, kMaxCategoryBytes); !s.ok()) {
      return s;
    }
  }
  if (p.custom.size() > kMaxCustomProperties) {
    return Refuse(
        "EVENT_TOO_LARGE", "properties.custom",
        absl::StrCat("properties.custom has more than ", kMaxCustomProperties, " entries"));
  }
  for (const auto& [k, v] : p.custom) {
    const std::string field = absl::StrCat("properties.custom.", IsValidUtf8(k) ? k : "?");
    if (!ValidCustomKey(k)) {
      return Refuse(IsValidUtf8(k) ? "INVALID_FIELD" : "INVALID_UTF8", "properties.custom",
                    "custom property keys must match [a-z][a-z0-9_]{0,63}");
    }
    total += k.size();
    if (absl::Status s = text(field.c_str(), v, kMaxCustomValueBytes); !s.ok()) return s;
  }
  if (total > kMaxPropertiesBytes) {
    return Refuse("EVENT_TOO_LARGE", "properties",
                  absl::StrCat("the properties take more than ", kMaxPropertiesBytes, " bytes"));
  }
  if (!std::isfinite(p.value)) {
    return Refuse("INVALID_FIELD", "properties.value", "properties.value must be a finite number");
  }
  if (!p.currency_code.empty() &&
      (p.currency_code.size() != 3 || !std::all_of(p.currency_code.begin(), p.currency_code.end(),
                                                   [](char c) { return c >= 'A' && c <= 'Z'; }))) {
    return Refuse("INVALID_FIELD", "properties.currency_code",
                  "properties.currency_code must be 3 upper-case letters (ISO 4217)");
  }
  if (p.quantity < 0 || p.quantity > kMaxQuantity) {
    return Refuse("INVALID_FIELD", "properties.quantity", "properties.quantity must be 0..1000000");
  }
  e.properties = p;

  // Context: reduced, never stored as sent.
  if (!in.ip.empty()) {
    absl::StatusOr<std::string> prefix = TruncateIp(in.ip);
    if (!prefix.ok()) {
      return Refuse("INVALID_FIELD", "context.ip", "context.ip is not an IPv4 or IPv6 address");
    }
    e.ip_prefix = *prefix;
  }
  if (in.user_agent.size() > kMaxUserAgentBytes) {
    return TooLarge("context.user_agent", kMaxUserAgentBytes);
  }
  if (!IsValidUtf8(in.user_agent)) {
    return Refuse("INVALID_UTF8", "context.user_agent", "context.user_agent is not valid UTF-8");
  }
  e.device_class = DeviceClassOf(in.user_agent);
  return e;
}

std::vector<BehaviourSession> GroupSessions(std::vector<BehaviourEvent> events, absl::Duration gap,
                                            size_t max_sessions) {
  std::sort(events.begin(), events.end(), [](const BehaviourEvent& a, const BehaviourEvent& b) {
    return a.occur_time != b.occur_time ? a.occur_time < b.occur_time : a.id < b.id;
  });
  std::vector<BehaviourSession> sessions;
  for (const BehaviourEvent& e : events) {
    if (sessions.empty() || e.occur_time - sessions.back().end > gap) {
      BehaviourSession s;
      s.first_event_id = e.id;
      s.start = e.occur_time;
      s.visitor_id = e.visitor_id;
      s.device_class = e.device_class;
      sessions.push_back(std::move(s));
    }
    BehaviourSession& s = sessions.back();
    s.end = e.occur_time;
    ++s.event_count;
    if (e.type == "page.viewed") ++s.page_views;
    if (e.type == "product.viewed") ++s.product_views;
    if (e.type == "search.performed") ++s.searches;
    if (e.type == "cart.item_added") ++s.cart_adds;
    if (e.type == "checkout.started") s.checkout_started = true;
    if (s.landing_path.empty()) {
      s.landing_path = !e.properties.path.empty() ? e.properties.path : e.properties.url;
    }
    if (s.utm_campaign.empty()) s.utm_campaign = e.properties.utm_campaign;
  }
  std::reverse(sessions.begin(), sessions.end());
  if (sessions.size() > max_sessions) sessions.resize(max_sessions);
  return sessions;
}

Visit VisitAt(const std::vector<BehaviourEvent>& before, bool before_full,
              const std::vector<BehaviourEvent>& after, bool after_full, absl::Time at,
              absl::Duration gap, size_t event_limit) {
  Visit v;
  if (before.empty() || at - before.front().occur_time > gap) return v;
  v.found = true;
  // Back from the newest event at or before the instant, then on after it,
  // each up to the first gap that ends a visit.
  std::vector<BehaviourEvent> events{before.front()};
  size_t i = 1;
  for (; i < before.size() && events.back().occur_time - before[i].occur_time <= gap; ++i) {
    events.push_back(before[i]);
  }
  if (i == before.size() && before_full) v.partial = true;
  std::reverse(events.begin(), events.end());
  size_t j = 0;
  for (; j < after.size() && after[j].occur_time - events.back().occur_time <= gap; ++j) {
    events.push_back(after[j]);
  }
  if (j == after.size() && after_full) v.partial = true;
  v.session = GroupSessions(events, gap, 1).front();
  if (events.size() > event_limit) events.erase(events.begin(), events.end() - event_limit);
  v.events = std::move(events);
  return v;
}

std::string EtagOf(const BehaviourSettings& s) { return absl::StrCat(s.version); }

absl::Status ValidateRetentionDays(int64_t days) {
  if (days == 0 || (days >= 1 && days <= kMaxRetentionDays)) return absl::OkStatus();
  return common::InvalidField("settings.retention_days",
                              absl::StrCat("is ", days, ": 1..", kMaxRetentionDays,
                                           " days, or 0 to keep events until erased"));
}

bool ApplyRetention(BehaviourSettings& s, int64_t retention_days, absl::Time now) {
  if (s.retention_days == retention_days) return false;
  s.retention_days = retention_days;
  ++s.version;
  s.update_time = now;
  return true;
}

absl::Time RetentionCutoff(const BehaviourSettings& s, absl::Time now) {
  if (s.retention_days <= 0) return absl::InfinitePast();
  return now - absl::Hours(24) * s.retention_days;
}

}  // namespace crm::customer_store::domain
