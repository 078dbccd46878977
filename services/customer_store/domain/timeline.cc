#include "services/customer_store/domain/timeline.h"

#include <algorithm>
#include <nlohmann/json.hpp>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "libs/common/errors.h"
#include "libs/common/id.h"

namespace crm::customer_store::domain {
namespace {

bool Newer(const Interaction& a, const Interaction& b) {
  return a.occur_time != b.occur_time ? a.occur_time > b.occur_time : a.id > b.id;
}

std::string Counted(int64_t n, const char* one, const char* many) {
  return absl::StrCat(n, " ", n == 1 ? one : many);
}

}  // namespace

absl::StatusOr<TimelineCursor> ParseTimelineCursor(const std::string& text) {
  TimelineCursor c;
  if (text.empty()) return c;
  std::vector<std::string> parts = absl::StrSplit(text, '|');
  int64_t micros = 0;
  if (parts.size() != 2 || !absl::SimpleAtoi(parts[0], &micros) || !common::IsUuid(parts[1])) {
    return common::WithReason(absl::InvalidArgumentError("page_token is invalid"),
                              "INVALID_PAGE_TOKEN");
  }
  c.time = absl::FromUnixMicros(micros);
  c.id = parts[1];
  return c;
}

std::string TimelineCursorOf(const Interaction& entry) {
  return absl::StrCat(absl::ToUnixMicros(entry.occur_time), "|", entry.id);
}

bool IsBefore(absl::Time time, const std::string& id, const TimelineCursor& cursor) {
  return time != cursor.time ? time < cursor.time : id < cursor.id;
}

Interaction VisitEntry(const BehaviourSession& s) {
  Interaction i;
  i.id = s.first_event_id;
  i.kind = InteractionKind::kWebVisit;
  i.channel = "web";
  i.occur_time = s.start;
  i.source = kVisitSource;
  std::vector<std::string> parts;
  if (s.page_views > 0) parts.push_back(Counted(s.page_views, "page view", "page views"));
  if (s.product_views > 0) {
    parts.push_back(Counted(s.product_views, "product view", "product views"));
  }
  if (s.searches > 0) parts.push_back(Counted(s.searches, "search", "searches"));
  if (s.cart_adds > 0) parts.push_back(Counted(s.cart_adds, "cart add", "cart adds"));
  if (s.checkout_started) parts.push_back("checkout started");
  if (parts.empty()) parts.push_back(Counted(s.event_count, "event", "events"));
  const int64_t minutes = absl::ToInt64Minutes(s.end - s.start);
  i.summary = absl::StrCat("Visit (", minutes, " min): ", absl::StrJoin(parts, ", "));
  if (!s.landing_path.empty()) absl::StrAppend(&i.summary, "; landed on ", s.landing_path);
  nlohmann::json p{{"start_time_us", absl::ToUnixMicros(s.start)},
                   {"end_time_us", absl::ToUnixMicros(s.end)},
                   {"event_count", s.event_count},
                   {"page_views", s.page_views},
                   {"product_views", s.product_views},
                   {"searches", s.searches},
                   {"cart_adds", s.cart_adds},
                   {"checkout_started", s.checkout_started},
                   {"device_class", static_cast<int>(s.device_class)}};
  if (!s.landing_path.empty()) p["landing_path"] = s.landing_path;
  if (!s.visitor_id.empty()) p["visitor_id"] = s.visitor_id;
  if (!s.utm_campaign.empty()) p["utm_campaign"] = s.utm_campaign;
  i.payload_json = p.dump();
  return i;
}

std::vector<BehaviourSession> SessionsBefore(std::vector<BehaviourEvent> events,
                                             const TimelineCursor& cursor, absl::Duration gap) {
  std::vector<BehaviourSession> all = GroupSessions(std::move(events), gap, SIZE_MAX);
  std::vector<BehaviourSession> out;
  for (BehaviourSession& s : all) {
    if (IsBefore(s.start, s.first_event_id, cursor)) out.push_back(std::move(s));
  }
  return out;
}

TimelinePage MergeTimeline(std::vector<Interaction> stored, bool stored_more,
                           std::vector<Interaction> visits, bool visits_more, int limit) {
  TimelinePage page;
  page.items = std::move(stored);
  page.items.insert(page.items.end(), std::make_move_iterator(visits.begin()),
                    std::make_move_iterator(visits.end()));
  std::sort(page.items.begin(), page.items.end(), Newer);
  const bool more = stored_more || visits_more || page.items.size() > static_cast<size_t>(limit);
  if (page.items.size() > static_cast<size_t>(limit)) page.items.resize(limit);
  if (more && !page.items.empty()) page.next_cursor = TimelineCursorOf(page.items.back());
  return page;
}

}  // namespace crm::customer_store::domain
