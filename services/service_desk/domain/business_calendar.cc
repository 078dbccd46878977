#include "services/service_desk/domain/business_calendar.h"

#include <algorithm>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "libs/common/time_zone.h"

namespace crm::service_desk::domain {
namespace {

constexpr int kMinutesPerDay = 24 * 60;
constexpr int64_t kSecondsPerDay = 24 * 3600;
// Where the table of fixed-offset stretches ends: 2100-01-01 UTC.
constexpr int64_t kStretchesEnd = 4102444800;
constexpr size_t kMaxIntervalsPerDay = 10;
constexpr size_t kMaxHolidays = 1000;
// How far Add and NextOpening look for open time: 10 years of local days.
constexpr int kSearchDays = 10 * 366;

constexpr const char* kDayNames[7] = {"Monday", "Tuesday",  "Wednesday", "Thursday",
                                      "Friday", "Saturday", "Sunday"};

}  // namespace

std::string LocalClockText(int minute) {
  const int h = minute / 60;
  const int m = minute % 60;
  return absl::StrCat(h < 10 ? "0" : "", h, ":", m < 10 ? "0" : "", m);
}

std::optional<int> ParseLocalClock(absl::string_view text) {
  int h = 0;
  int m = 0;
  if (text.size() != 5 || text[2] != ':' || !absl::SimpleAtoi(text.substr(0, 2), &h) ||
      !absl::SimpleAtoi(text.substr(3, 2), &m) || h < 0 || m < 0 || m > 59 ||
      h * 60 + m > kMinutesPerDay) {
    return std::nullopt;
  }
  return h * 60 + m;
}

// From 1970 to 2100, the zone's UTC offset between consecutive transitions.
// A stretch's days start once the local time is past both sides of the
// transition that opened it: after a fall-back, only when the repeated
// hours are over (they map to their first pass, the previous offset). They
// end before the local time of the next transition. The first stretch
// starts two days into 1970, clear of any earlier transition.
std::vector<BusinessCalendar::Stretch> BusinessCalendar::Stretches(const absl::TimeZone& zone) {
  std::vector<Stretch> out;
  absl::Time at = absl::UnixEpoch();
  int64_t offset = zone.At(at).offset;
  int64_t first_midnight = offset + 2 * kSecondsPerDay;
  while (true) {
    int64_t next = kStretchesEnd;
    absl::TimeZone::CivilTransition transition;
    if (zone.NextTransition(at, &transition)) {
      const absl::Time change = zone.At(transition.to).trans;
      if (change > at) {
        at = change;
        next = std::min(absl::ToUnixSeconds(change), kStretchesEnd);
      }
    }
    out.push_back({first_midnight, next + offset, offset});
    if (next == kStretchesEnd) return out;
    const int64_t after = zone.At(at).offset;
    // Never earlier than the previous stretch's (a later start only sends
    // more days to the zone lookups).
    first_midnight = std::max(first_midnight, next + std::max(offset, after));
    offset = after;
  }
}

absl::StatusOr<BusinessCalendar> BusinessCalendar::Create(const BusinessCalendarSpec& spec) {
  BusinessCalendar out;
  if (!spec.time_zone.empty()) {
    if (!common::LoadZone(spec.time_zone, &out.zone_)) {
      return absl::InvalidArgumentError(
          absl::StrCat("calendar.time_zone: unknown IANA time zone \"", spec.time_zone,
                       "\" (expected a name such as \"Europe/Berlin\")"));
    }
  } else if (!spec.always_open) {
    return absl::InvalidArgumentError(
        "calendar.time_zone: empty; business hours need an IANA time zone such as "
        "\"Europe/Berlin\"");
  }
  if (spec.always_open) return out;

  out.always_open_ = false;
  bool ever_open = false;
  for (int d = 0; d < 7; ++d) {
    std::vector<LocalInterval> day = spec.week[d];
    const std::string field = absl::StrCat("calendar.week[", d, "]");
    if (day.size() > kMaxIntervalsPerDay) {
      return absl::InvalidArgumentError(absl::StrCat(field, " (", kDayNames[d], "): ", day.size(),
                                                     " intervals, at most ", kMaxIntervalsPerDay));
    }
    for (size_t i = 0; i < day.size(); ++i) {
      const LocalInterval& interval = day[i];
      const std::string where = absl::StrCat(field, "[", i, "] (", kDayNames[d], "): ");
      for (const int minute : {interval.start_minute, interval.end_minute}) {
        if (minute < 0 || minute > kMinutesPerDay) {
          return absl::InvalidArgumentError(
              absl::StrCat(where, "minute ", minute,
                           " is outside 0..1440 (00:00-24:00, minutes after midnight)"));
        }
      }
      if (interval.end_minute <= interval.start_minute) {
        return absl::InvalidArgumentError(
            absl::StrCat(where, "interval ", LocalClockText(interval.start_minute), "-",
                         LocalClockText(interval.end_minute), " ends before it starts",
                         " (an overnight shift is two intervals, up to 24:00 and from 00:00)"));
      }
    }
    std::sort(day.begin(), day.end(), [](const LocalInterval& a, const LocalInterval& b) {
      return a.start_minute < b.start_minute;
    });
    for (size_t i = 1; i < day.size(); ++i) {
      if (day[i].start_minute < day[i - 1].end_minute) {
        return absl::InvalidArgumentError(absl::StrCat(
            field, " (", kDayNames[d], "): intervals ", LocalClockText(day[i - 1].start_minute),
            "-", LocalClockText(day[i - 1].end_minute), " and ",
            LocalClockText(day[i].start_minute), "-", LocalClockText(day[i].end_minute),
            " overlap"));
      }
    }
    ever_open = ever_open || !day.empty();
    out.week_[d] = std::move(day);
  }
  if (!ever_open) {
    return absl::InvalidArgumentError(
        "calendar.week: no open interval on any day, so no deadline could ever be reached "
        "(set always_open for 24/7)");
  }
  if (spec.holidays.size() > kMaxHolidays) {
    return absl::InvalidArgumentError(absl::StrCat("calendar.holidays: ", spec.holidays.size(),
                                                   " holidays, at most ", kMaxHolidays));
  }
  out.holidays_ = spec.holidays;
  std::sort(out.holidays_.begin(), out.holidays_.end());
  out.holidays_.erase(std::unique(out.holidays_.begin(), out.holidays_.end()), out.holidays_.end());
  out.stretches_ = Stretches(out.zone_);
  return out;
}

absl::Time BusinessCalendar::Instant(absl::CivilDay day, int minute) const {
  const absl::TimeZone::TimeInfo info = zone_.At(absl::CivilSecond(day) + minute * 60);
  return info.kind == absl::TimeZone::TimeInfo::SKIPPED ? info.trans : info.pre;
}

// Days closed by the week or a holiday cost no zone conversion, so long
// closed runs are skipped quickly; days inside a fixed-offset stretch cost
// arithmetic only. The intervals come out in time order and never overlap:
// the civil-to-instant mapping above is non-decreasing.
template <typename Visit>
void BusinessCalendar::ForEachInterval(absl::CivilDay first, absl::CivilDay last,
                                       Visit visit) const {
  auto holiday = std::lower_bound(holidays_.begin(), holidays_.end(), first);
  int weekday = static_cast<int>(absl::GetWeekday(first));
  // The day's local midnight in seconds since 1970-01-01 00:00 local, and
  // the first stretch starting after it (the one before may hold the day).
  int64_t midnight = (first - absl::CivilDay(1970, 1, 1)) * kSecondsPerDay;
  auto stretch =
      std::upper_bound(stretches_.begin(), stretches_.end(), midnight,
                       [](int64_t local, const Stretch& s) { return local < s.first_midnight; });
  for (absl::CivilDay day = first; day <= last;
       ++day, weekday = (weekday + 1) % 7, midnight += kSecondsPerDay) {
    const std::vector<LocalInterval>& hours = week_[weekday];
    if (hours.empty()) continue;
    while (holiday != holidays_.end() && *holiday < day) ++holiday;
    if (holiday != holidays_.end() && *holiday == day) continue;
    while (stretch != stretches_.end() && stretch->first_midnight <= midnight) ++stretch;
    const Stretch* fixed = stretch == stretches_.begin() ? nullptr : &*(stretch - 1);
    if (fixed != nullptr && midnight + kSecondsPerDay >= fixed->end) fixed = nullptr;
    const auto instant = [&](int minute) {
      return fixed != nullptr ? absl::FromUnixSeconds(midnight + minute * 60 - fixed->offset)
                              : Instant(day, minute);
    };
    for (const LocalInterval& interval : hours) {
      const absl::Time open = instant(interval.start_minute);
      const absl::Time close = instant(interval.end_minute);
      // Empty when the whole interval falls in a spring-forward gap.
      if (open < close && !visit(open, close)) return;
    }
  }
}

// The walks below start at the local day of their instant: the first
// instant showing a local time at or after a civil time is that civil
// time's Instant (its first pass, or the end of its gap), so an instant of
// local day D is never before the end of an interval of an earlier day. It
// can be inside the next day's first interval, though: during a fall-back
// that repeats the hours before midnight, the second pass of D 23:30 comes
// after D+1 00:00 began (its first pass).

absl::Time BusinessCalendar::Add(absl::Time start, absl::Duration business) const {
  if (business <= absl::ZeroDuration() || start == absl::InfiniteFuture() ||
      start == absl::InfinitePast()) {
    return start;
  }
  if (business == absl::InfiniteDuration()) return absl::InfiniteFuture();
  if (always_open_) return start + business;
  absl::Duration left = business;
  absl::Time reached = absl::InfiniteFuture();
  const absl::CivilDay first = absl::ToCivilDay(start, zone_);
  ForEachInterval(first, first + kSearchDays, [&](absl::Time open, absl::Time close) {
    if (close <= start) return true;
    const absl::Time from = std::max(open, start);
    const absl::Duration span = close - from;
    if (left <= span) {
      reached = from + left;
      return false;
    }
    left -= span;
    return true;
  });
  return reached;
}

absl::Duration BusinessCalendar::Between(absl::Time from, absl::Time to) const {
  if (to <= from) return absl::ZeroDuration();
  if (from == absl::InfinitePast() || to == absl::InfiniteFuture()) {
    return absl::InfiniteDuration();
  }
  if (always_open_) return to - from;
  absl::Duration open_time;
  ForEachInterval(absl::ToCivilDay(from, zone_), absl::ToCivilDay(to, zone_) + 1,
                  [&](absl::Time open, absl::Time close) {
                    if (open >= to) return false;
                    if (close > from) open_time += std::min(close, to) - std::max(open, from);
                    return true;
                  });
  return open_time;
}

bool BusinessCalendar::IsOpen(absl::Time t) const {
  if (always_open_) return true;
  if (t == absl::InfiniteFuture() || t == absl::InfinitePast()) return false;
  const absl::CivilDay day = absl::ToCivilDay(t, zone_);
  bool open = false;
  ForEachInterval(day, day + 1, [&](absl::Time from, absl::Time to) {
    if (from > t) return false;
    open = t < to;
    return !open;
  });
  return open;
}

absl::Time BusinessCalendar::NextOpening(absl::Time t) const {
  if (always_open_ || t == absl::InfiniteFuture() || t == absl::InfinitePast()) return t;
  absl::Time next = absl::InfiniteFuture();
  const absl::CivilDay first = absl::ToCivilDay(t, zone_);
  ForEachInterval(first, first + kSearchDays, [&](absl::Time open, absl::Time close) {
    if (close <= t) return true;
    next = std::max(open, t);
    return false;
  });
  return next;
}

}  // namespace crm::service_desk::domain
