#pragma once
// Behaviour events (page and product views, searches, carts, custom x.*):
// validation of one event as it arrives, the privacy reductions (truncated
// IP, device class instead of the user agent) and the grouping of a
// subject's events into sessions. Pure: std + Abseil only.
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace crm::customer_store::domain {

// Limits (docs/api.md, "Behaviour events").
inline constexpr int kMaxTrackBatch = 500;
inline constexpr absl::Duration kMaxFutureSkew = absl::Minutes(5);
inline constexpr absl::Duration kMaxEventAge = absl::Hours(24 * 90);
inline constexpr size_t kMaxUrlBytes = 2048;  // url, referrer
inline constexpr size_t kMaxPathBytes = 1024;
inline constexpr size_t kMaxTitleBytes = 512;
inline constexpr size_t kMaxSkuBytes = 128;
inline constexpr size_t kMaxCategoryLevels = 10;
inline constexpr size_t kMaxCategoryBytes = 128;  // per level
inline constexpr size_t kMaxSearchQueryBytes = 512;
inline constexpr size_t kMaxUtmBytes = 256;
inline constexpr size_t kMaxCustomProperties = 20;
inline constexpr size_t kMaxCustomValueBytes = 512;
inline constexpr size_t kMaxPropertiesBytes = 8192;  // all text properties together
inline constexpr size_t kMaxUserAgentBytes = 1024;
inline constexpr int64_t kMaxQuantity = 1000000;
// The type of an identify event in a TrackEvents batch: links its visitor id
// to the customer it names (as IdentifyCustomer); never stored.
inline constexpr char kIdentifyType[] = "identify";
// Sessions: a gap of inactivity longer than this starts a new one.
inline constexpr absl::Duration kSessionGap = absl::Minutes(30);

// Numeric values match crm.customer_store.v1.DeviceClass.
enum class DeviceClass : int { kUnknown = 0, kDesktop = 1, kMobile = 2, kTablet = 3, kBot = 4 };

struct BehaviourProperties {
  std::string url;
  std::string path;
  std::string referrer;
  std::string title;
  std::string sku;
  std::vector<std::string> category_path;
  std::string search_query;
  std::string utm_source;
  std::string utm_medium;
  std::string utm_campaign;
  std::string utm_term;
  std::string utm_content;
  double value = 0;
  std::string currency_code;
  int64_t quantity = 0;
  std::map<std::string, std::string> custom;
};

// An event as sent (raw: nothing normalized or checked yet).
struct BehaviourInput {
  std::string type;
  absl::Time occur_time = absl::InfinitePast();  // InfinitePast: now
  std::string customer_id;
  std::string email;
  std::string external_id_source;
  std::string external_id;
  std::string visitor_id;
  BehaviourProperties properties;
  std::string ip;          // never stored: only its prefix
  std::string user_agent;  // never stored: only its device class
};

// How the subject of an event is named.
enum class SubjectKind : int { kCustomerId = 1, kEmail = 2, kExternalId = 3, kVisitor = 4 };

// An event after validation, as stored.
struct BehaviourEvent {
  std::string id;
  std::string type;
  absl::Time occur_time = absl::InfinitePast();
  absl::Time receive_time = absl::InfinitePast();
  SubjectKind subject = SubjectKind::kVisitor;
  // kCustomerId: the id as sent; kEmail: the normalized email; kExternalId:
  // the value (source in subject_source); kVisitor: unused.
  std::string subject_key;
  std::string subject_source;
  std::string customer_id;  // the resolved customer ("" when anonymous)
  std::string visitor_id;   // "" when none
  BehaviourProperties properties;
  std::string ip_prefix;  // "" when none was sent
  DeviceClass device_class = DeviceClass::kUnknown;
};

// Whether `type` is a known type (identify included) or a custom one (x.
// then 1..62 of [a-z0-9_.-]).
bool IsKnownEventType(absl::string_view type);
bool IsValidUtf8(absl::string_view s);

// IPv4 to its /24 ("192.0.2.0"), IPv6 to its /48 ("2001:db8:1::"), an
// IPv4-mapped IPv6 address as IPv4; "" for "". INVALID_ARGUMENT for what is
// not an address.
absl::StatusOr<std::string> TruncateIp(absl::string_view ip);
// The device class a User-Agent header names (bot, tablet, mobile,
// desktop; unknown when it says none of these).
DeviceClass DeviceClassOf(absl::string_view user_agent);

// Validates one event at `now` (receive time) and reduces it to what is
// stored (no id, no customer yet). Refusals: INVALID_ARGUMENT with reason
// UNKNOWN_EVENT_TYPE, EVENT_TOO_LARGE, EVENT_TIME_OUT_OF_RANGE, INVALID_UTF8
// or INVALID_FIELD, naming the field (e.g. "properties.url").
absl::StatusOr<BehaviourEvent> ValidateBehaviour(const BehaviourInput& in, absl::Time now);

// A visit: consecutive events of a customer with no gap above kSessionGap.
struct BehaviourSession {
  std::string first_event_id;  // its first event (time, then id order)
  absl::Time start = absl::InfinitePast();
  absl::Time end = absl::InfinitePast();
  int64_t event_count = 0;
  int64_t page_views = 0;
  int64_t product_views = 0;
  int64_t searches = 0;
  int64_t cart_adds = 0;
  bool checkout_started = false;
  std::string landing_path;
  std::string visitor_id;
  DeviceClass device_class = DeviceClass::kUnknown;
  std::string utm_campaign;
};

// Groups events (any order) into sessions split by `gap`; the newest
// `max_sessions`, newest first.
std::vector<BehaviourSession> GroupSessions(std::vector<BehaviourEvent> events, absl::Duration gap,
                                            size_t max_sessions);

// The visit running at an instant (GetVisit, the service desk's ticket
// context): the session holding the subject's newest event at or before
// at + kMaxFutureSkew (a client clock a little ahead), when that event is
// at most kSessionGap before `at`; not found otherwise (the subject was
// not on the site then).
inline constexpr int kDefaultVisitEvents = 100;
inline constexpr int kMaxVisitEvents = 500;
struct Visit {
  bool found = false;
  BehaviourSession session;  // counted over the events read
  // The newest `event_limit` of the visit's events, oldest first.
  std::vector<BehaviourEvent> events;
  // The visit began before or went on after what was read: the session's
  // counts are of the events read.
  bool partial = false;
};
// `before`: the subject's events at or before at + kMaxFutureSkew, newest
// first, `before_full` when that read stopped at its limit (older ones
// exist); `after`: those after it, oldest first, likewise. event_limit > 0.
Visit VisitAt(const std::vector<BehaviourEvent>& before, bool before_full,
              const std::vector<BehaviourEvent>& after, bool after_full, absl::Time at,
              absl::Duration gap, size_t event_limit);

// Retention (per tenant, GET/PATCH /v1/behaviour/settings): events that
// occurred longer than retention_days ago are purged in the background.
inline constexpr int64_t kMaxRetentionDays = 3650;
struct BehaviourSettings {
  int64_t retention_days = 0;  // 0: kept until erased (the default)
  int64_t version = 0;         // +1 per change; 0: never written
  absl::Time update_time = absl::InfinitePast();
};
std::string EtagOf(const BehaviourSettings& s);  // the version
// 0 (keep) or 1..kMaxRetentionDays, else INVALID_ARGUMENT INVALID_FIELD
// naming settings.retention_days.
absl::Status ValidateRetentionDays(int64_t days);
// Sets retention_days; false (and `s` untouched) when it is the same.
bool ApplyRetention(BehaviourSettings& s, int64_t retention_days, absl::Time now);
// The oldest occurred time kept at `now`: events before it are purged
// (InfinitePast when the tenant keeps everything).
absl::Time RetentionCutoff(const BehaviourSettings& s, absl::Time now);

}  // namespace crm::customer_store::domain
