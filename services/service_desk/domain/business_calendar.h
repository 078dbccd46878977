#pragma once
// Business hours of the service desk (docs/service-desk.md, "SLA"): when a
// team is open, in the local time of its IANA zone, so SLA clocks
// (sla.h) count only open time. A calendar is either 24/7 or a week of
// local opening intervals (several a day: lunch breaks, split shifts) with
// whole local days closed for holidays.
//
// Business time is always real elapsed time inside open intervals
// (absolute durations), never a difference of wall-clock readings. An
// interval is local civil time on each day; its ends become instants the
// way absl::TimeZone::At maps a civil time:
//   - UNIQUE: that instant;
//   - SKIPPED (the spring-forward gap): the instant the gap ends, so an
//     interval 01:00-03:00 on a day whose 02:00-03:00 does not exist is
//     open 1 real hour;
//   - REPEATED (the fall-back overlap): the first occurrence, so an
//     interval 01:00-03:00 on a day that repeats 02:00-03:00 is open 3 real
//     hours (both passes of the repeated hour, since 03:00 comes only after
//     the second).
// A week of 00:00-24:00 every day therefore counts exactly the real time
// elapsed, like a 24/7 calendar, across DST too.
//
// Holidays close whole local days. Intervals end at most at 24:00 (the
// next midnight), so an overnight shift is two intervals: 22:00-24:00 and
// the next day's 00:00-06:00.
#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"

namespace crm::service_desk::domain {

// Minutes after local midnight: 0 <= start_minute < end_minute <= 1440.
struct LocalInterval {
  int start_minute = 0;
  int end_minute = 0;
};

// "HH:MM" of a minute in 0..1440 ("24:00" for 1440), and back (nullopt for
// anything else).
std::string LocalClockText(int minute);
std::optional<int> ParseLocalClock(absl::string_view text);

struct BusinessCalendarSpec {
  std::string time_zone;  // IANA, e.g. "Europe/Berlin", "Asia/Seoul"
  // 24/7: every instant is open. The week and the holidays are then
  // ignored and the zone may be empty (it is still checked when given).
  bool always_open = false;
  // Index 0 = Monday ... 6 = Sunday; the intervals of a day in any order
  // (they are sorted), at most 10, not overlapping (touching is fine).
  std::array<std::vector<LocalInterval>, 7> week;
  std::vector<absl::CivilDay> holidays;  // local days closed; at most 1000
};

class BusinessCalendar {
 public:
  // 24/7 (what always_open creates).
  BusinessCalendar() = default;

  // INVALID_ARGUMENT, naming the field, for an unknown zone, an interval
  // out of 00:00-24:00 or ending before it starts, overlapping intervals,
  // more than 10 intervals a day or 1000 holidays, and a week with no open
  // interval at all (a calendar that is never open).
  static absl::StatusOr<BusinessCalendar> Create(const BusinessCalendarSpec& spec);

  // The instant at which `business` of open time has elapsed counting from
  // `start`; counting begins at the next opening when `start` is closed.
  // When the target is reached exactly at the end of an interval, that end
  // (not the next opening). `start` itself when business <= 0 or `start`
  // is infinite; absl::InfiniteFuture() when the target is not reached
  // within 10 years of local days after `start` (holidays closing years).
  absl::Time Add(absl::Time start, absl::Duration business) const;

  // The open time within [from, to); zero when to <= from, infinite when an
  // end is infinite. Linear in the days spanned.
  absl::Duration Between(absl::Time from, absl::Time to) const;

  bool IsOpen(absl::Time t) const;
  // `t` when open (or infinite), else the start of the next open interval
  // (absl::InfiniteFuture() when none within 10 years).
  absl::Time NextOpening(absl::Time t) const;

  bool always_open() const { return always_open_; }
  const absl::TimeZone& time_zone() const { return zone_; }

 private:
  // Calls visit(open, close) for the open intervals, as instants, of the
  // local days first..last in time order, until visit returns false.
  template <typename Visit>
  void ForEachInterval(absl::CivilDay first, absl::CivilDay last, Visit visit) const;
  // The instant of a local time `minute` minutes after the day's midnight
  // (by the DST rules above), by a zone lookup.
  absl::Time Instant(absl::CivilDay day, int minute) const;

  // Local days that one UTC offset maps to instants, so a walk converts
  // their intervals by arithmetic instead of a zone lookup per end: days
  // whose midnight, in local seconds since 1970-01-01 00:00, is at least
  // `first_midnight` and that end before local time `end`.
  struct Stretch {
    int64_t first_midnight;
    int64_t end;
    int64_t offset;  // seconds east of UTC: instant = local - offset
  };
  static std::vector<Stretch> Stretches(const absl::TimeZone& zone);

  bool always_open_ = true;
  absl::TimeZone zone_ = absl::UTCTimeZone();
  std::array<std::vector<LocalInterval>, 7> week_;  // sorted, not overlapping
  std::vector<absl::CivilDay> holidays_;            // sorted, distinct
  std::vector<Stretch> stretches_;                  // by first_midnight, 1970-2100
};

}  // namespace crm::service_desk::domain
