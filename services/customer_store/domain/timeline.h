#pragma once
// The customer's timeline (ListInteractions): the stored interactions and
// the visits (sessions of behaviour events) merged newest first under one
// cursor, (time, id) of the last entry of a page. A visit is an entry of
// kind WEB_VISIT whose id is its first event's id, whose time is its start
// and whose source is "behaviour". Pure: std, Abseil and nlohmann/json
// (the payload).
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "services/customer_store/domain/behaviour.h"
#include "services/customer_store/domain/customer.h"

namespace crm::customer_store::domain {

inline constexpr char kVisitSource[] = "behaviour";

// Entries strictly before (time, id) in newest-first order.
struct TimelineCursor {
  absl::Time time = absl::InfiniteFuture();
  std::string id = "ffffffff-ffff-ffff-ffff-ffffffffffff";
};
// "<micros>|<uuid>"; "" is the start. INVALID_ARGUMENT INVALID_PAGE_TOKEN.
absl::StatusOr<TimelineCursor> ParseTimelineCursor(const std::string& text);
std::string TimelineCursorOf(const Interaction& entry);
// Whether (time, id) comes after the cursor in newest-first order.
bool IsBefore(absl::Time time, const std::string& id, const TimelineCursor& cursor);

// The entry of a visit.
Interaction VisitEntry(const BehaviourSession& s);

// The sessions of `events` (any order; they must hold every event of the
// sessions concerned) that start before the cursor, newest first.
std::vector<BehaviourSession> SessionsBefore(std::vector<BehaviourEvent> events,
                                             const TimelineCursor& cursor, absl::Duration gap);

// One page: the newest `limit` of `stored` (newest first, `stored_more`:
// the store has more after them) and `visits` (newest first, `visits_more`
// likewise); next_cursor set when anything is left.
struct TimelinePage {
  std::vector<Interaction> items;
  std::string next_cursor;
};
TimelinePage MergeTimeline(std::vector<Interaction> stored, bool stored_more,
                           std::vector<Interaction> visits, bool visits_more, int limit);

}  // namespace crm::customer_store::domain
