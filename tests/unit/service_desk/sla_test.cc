// The service desk's SLA engine: business calendars (opening hours in an
// IANA zone, lunch breaks, holidays, DST gaps and overlaps, 24/7), their
// properties on random calendars in awkward zones, and the SLA clock of a
// ticket (first reply, next reply, periodic update, resolution; pauses,
// reopens, priority changes, warnings, escalations), with regression cases
// for SLA bugs reported against other help desks.
// Optionals (deadlines, fulfilment instants) print their instant on failure.
#define CATCH_CONFIG_ENABLE_OPTIONAL_STRINGMAKER
#include "services/service_desk/domain/sla.h"

#include <algorithm>
#include <catch2/catch.hpp>
#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "services/service_desk/domain/business_calendar.h"

namespace {

namespace sd = crm::service_desk::domain;
using Kind = sd::TicketEvent::Kind;

absl::TimeZone Zone(const std::string& name) {
  absl::TimeZone tz;
  INFO("zone " << name);
  REQUIRE(absl::LoadTimeZone(name, &tz));
  return tz;
}

// A local wall-clock time (its first occurrence when the fall-back repeats it).
absl::Time At(const absl::TimeZone& tz, int y, int mo, int d, int h, int mi = 0, int s = 0) {
  return absl::FromCivil(absl::CivilSecond(y, mo, d, h, mi, s), tz);
}

// Berlin local time in 2026, the zone of most cases below.
absl::Time Berlin(int mo, int d, int h, int mi = 0) {
  static const absl::TimeZone tz = Zone("Europe/Berlin");
  return At(tz, 2026, mo, d, h, mi);
}

sd::LocalInterval Hours(int from_hour, int to_hour) { return {from_hour * 60, to_hour * 60}; }

sd::BusinessCalendarSpec Weekdays(const std::string& zone, std::vector<sd::LocalInterval> day) {
  sd::BusinessCalendarSpec spec;
  spec.time_zone = zone;
  for (int d = 0; d < 5; ++d) spec.week[d] = day;
  return spec;
}

sd::BusinessCalendarSpec EveryDay(const std::string& zone, std::vector<sd::LocalInterval> day) {
  sd::BusinessCalendarSpec spec;
  spec.time_zone = zone;
  for (auto& d : spec.week) d = day;
  return spec;
}

sd::BusinessCalendar Make(const sd::BusinessCalendarSpec& spec) {
  absl::StatusOr<sd::BusinessCalendar> calendar = sd::BusinessCalendar::Create(spec);
  INFO(calendar.status().ToString());
  REQUIRE(calendar.ok());
  return *std::move(calendar);
}

// The INVALID_ARGUMENT message Create gives ("" when it accepts the spec).
std::string Refusal(const sd::BusinessCalendarSpec& spec) {
  absl::StatusOr<sd::BusinessCalendar> calendar = sd::BusinessCalendar::Create(spec);
  if (calendar.ok()) return "";
  CHECK(calendar.status().code() == absl::StatusCode::kInvalidArgument);
  return std::string(calendar.status().message());
}

// Mon-Fri 09:00-17:00 in Berlin; normal: first reply 4h, next reply 8h,
// periodic update 16h, resolution 24h; urgent: 1h, 2h, 4h, 8h; low: first
// reply 16h and resolution 40h only.
sd::SlaPolicy OfficePolicy() {
  sd::SlaPolicy p;
  p.id = "office";
  p.calendar = Make(Weekdays("Europe/Berlin", {Hours(9, 17)}));
  p.targets_by_priority["normal"] = {absl::Hours(4), absl::Hours(8), absl::Hours(16),
                                     absl::Hours(24)};
  p.targets_by_priority["urgent"] = {absl::Hours(1), absl::Hours(2), absl::Hours(4),
                                     absl::Hours(8)};
  p.targets_by_priority["low"] = {absl::Hours(16), std::nullopt, std::nullopt, absl::Hours(40)};
  p.paused_statuses = {"pending_customer", "on_hold"};
  return p;
}

sd::TicketTimeline Ticket(absl::Time created, const std::string& priority = "normal") {
  sd::TicketTimeline t;
  t.created_at = created;
  t.priority = priority;
  return t;
}
sd::TicketEvent Reply(absl::Time at) { return {at, Kind::kAgentReply, ""}; }
sd::TicketEvent Message(absl::Time at) { return {at, Kind::kCustomerMessage, ""}; }
sd::TicketEvent Status(absl::Time at, const std::string& s) { return {at, Kind::kStatus, s}; }
sd::TicketEvent Priority(absl::Time at, const std::string& p) { return {at, Kind::kPriority, p}; }

sd::MetricState Metric(const std::vector<sd::MetricState>& states, sd::SlaMetric metric) {
  const auto it = std::find_if(states.begin(), states.end(),
                               [&](const sd::MetricState& s) { return s.metric == metric; });
  REQUIRE(it != states.end());
  return *it;
}

sd::MetricState FirstReply(const sd::SlaPolicy& p, const sd::TicketTimeline& t, absl::Time now) {
  return Metric(sd::Evaluate(p, t, now), sd::SlaMetric::kFirstReply);
}

bool Same(const sd::MetricState& a, const sd::MetricState& b) {
  return a.metric == b.metric && a.active == b.active && a.paused == b.paused &&
         a.deadline == b.deadline && a.warn_at == b.warn_at && a.fulfilled_at == b.fulfilled_at &&
         a.breached_at == b.breached_at && a.escalation_level == b.escalation_level &&
         a.next_escalation_at == b.next_escalation_at && a.elapsed == b.elapsed &&
         a.target == b.target;
}

}  // namespace

// ---------------------------------------------------------------------------
// Business calendars
// ---------------------------------------------------------------------------

TEST_CASE("an 8h target from Friday 16:00 in Mon-Fri 09:00-17:00 lands on Monday 16:00",
          "[sla][calendar]") {
  const sd::BusinessCalendar cal = Make(Weekdays("Europe/Berlin", {Hours(9, 17)}));
  CHECK(cal.Add(Berlin(1, 16, 16), absl::Hours(8)) == Berlin(1, 19, 16));
  CHECK(cal.Between(Berlin(1, 16, 16), Berlin(1, 19, 16)) == absl::Hours(8));
  // Reached exactly at closing time: that instant, not the next opening.
  CHECK(cal.Add(Berlin(1, 16, 9), absl::Hours(8)) == Berlin(1, 16, 17));
  CHECK(cal.Between(Berlin(1, 19, 0), Berlin(1, 26, 0)) == absl::Hours(40));
  CHECK(cal.Between(Berlin(1, 19, 16), Berlin(1, 16, 16)) == absl::ZeroDuration());
}

TEST_CASE("a start on Saturday is counted from Monday 09:00", "[sla][calendar]") {
  const sd::BusinessCalendar cal = Make(Weekdays("Europe/Berlin", {Hours(9, 17)}));
  CHECK(cal.Add(Berlin(1, 17, 10), absl::Hours(2)) == Berlin(1, 19, 11));
  CHECK(cal.NextOpening(Berlin(1, 17, 10)) == Berlin(1, 19, 9));
  CHECK(cal.NextOpening(Berlin(1, 19, 10)) == Berlin(1, 19, 10));
  CHECK(cal.NextOpening(Berlin(1, 19, 17)) == Berlin(1, 20, 9));
  CHECK_FALSE(cal.IsOpen(Berlin(1, 19, 9) - absl::Nanoseconds(1)));
  CHECK(cal.IsOpen(Berlin(1, 19, 9)));
  CHECK(cal.IsOpen(Berlin(1, 19, 17) - absl::Nanoseconds(1)));
  CHECK_FALSE(cal.IsOpen(Berlin(1, 19, 17)));
  // No business time to add: the start itself, even when closed.
  CHECK(cal.Add(Berlin(1, 17, 10), absl::ZeroDuration()) == Berlin(1, 17, 10));
  CHECK(cal.Add(Berlin(1, 17, 10), -absl::Hours(1)) == Berlin(1, 17, 10));
}

TEST_CASE("a lunch break splits the day and its time does not count", "[sla][calendar]") {
  // Given in any order: Create sorts a day's intervals.
  const sd::BusinessCalendar cal = Make(Weekdays("Europe/Berlin", {Hours(13, 17), Hours(9, 12)}));
  CHECK(cal.Add(Berlin(1, 19, 11), absl::Hours(2)) == Berlin(1, 19, 14));
  CHECK(cal.Add(Berlin(1, 19, 11), absl::Hours(1)) == Berlin(1, 19, 12));
  CHECK(cal.Between(Berlin(1, 19, 11, 30), Berlin(1, 19, 13, 30)) == absl::Hours(1));
  CHECK(cal.Between(Berlin(1, 19, 0), Berlin(1, 20, 0)) == absl::Hours(7));
  CHECK_FALSE(cal.IsOpen(Berlin(1, 19, 12, 30)));
  CHECK(cal.NextOpening(Berlin(1, 19, 12, 30)) == Berlin(1, 19, 13));
}

TEST_CASE("a split shift with a late evening interval", "[sla][calendar]") {
  const sd::BusinessCalendar cal =
      Make(Weekdays("Europe/Berlin", {{6 * 60, 10 * 60}, {18 * 60, 1440}}));
  CHECK(cal.Between(Berlin(1, 19, 0), Berlin(1, 20, 0)) == absl::Hours(10));
  // 23:00 Monday + 2h: one hour to midnight, then Tuesday 06:00-07:00.
  CHECK(cal.Add(Berlin(1, 19, 23), absl::Hours(2)) == Berlin(1, 20, 7));
  CHECK(cal.IsOpen(Berlin(1, 19, 23, 59)));
  CHECK_FALSE(cal.IsOpen(Berlin(1, 20, 0)));
}

TEST_CASE("a holiday closes the whole local day", "[sla][calendar]") {
  sd::BusinessCalendarSpec spec = Weekdays("Europe/Berlin", {Hours(9, 17)});
  spec.holidays = {absl::CivilDay(2026, 1, 19), absl::CivilDay(2026, 1, 19)};  // twice is fine
  const sd::BusinessCalendar cal = Make(spec);
  CHECK(cal.Add(Berlin(1, 16, 16), absl::Hours(8)) == Berlin(1, 20, 16));
  CHECK_FALSE(cal.IsOpen(Berlin(1, 19, 10)));
  CHECK(cal.NextOpening(Berlin(1, 17, 10)) == Berlin(1, 20, 9));
  CHECK(cal.Between(Berlin(1, 16, 0), Berlin(1, 21, 0)) == absl::Hours(16));
}

TEST_CASE("Between agrees with Add from open and closed starts", "[sla][calendar]") {
  sd::BusinessCalendarSpec spec = Weekdays("Europe/Berlin", {Hours(9, 12), Hours(13, 17)});
  spec.holidays = {absl::CivilDay(2026, 1, 21)};
  const sd::BusinessCalendar cal = Make(spec);
  for (const absl::Time start : {Berlin(1, 19, 9), Berlin(1, 19, 12, 30), Berlin(1, 17, 3),
                                 Berlin(1, 20, 16, 59), Berlin(1, 23, 17)}) {
    for (const absl::Duration d :
         {absl::Seconds(1), absl::Minutes(59), absl::Hours(7),
          absl::Hours(7) + absl::Nanoseconds(1), absl::Hours(40), absl::Hours(200)}) {
      INFO("start " << start << " + " << d);
      const absl::Time end = cal.Add(start, d);
      CHECK(cal.Between(start, end) == d);
      CHECK(end > start);
    }
  }
}

TEST_CASE("24/7 and a default calendar add plain real time", "[sla][calendar]") {
  sd::BusinessCalendarSpec spec;
  spec.always_open = true;  // no zone needed
  const sd::BusinessCalendar cal = Make(spec);
  const absl::Time t = Berlin(3, 28, 12);
  CHECK(cal.Add(t, absl::Hours(30)) == t + absl::Hours(30));
  CHECK(cal.Between(t, t + absl::Hours(30)) == absl::Hours(30));
  CHECK(cal.IsOpen(t));
  CHECK(cal.NextOpening(t) == t);
  const sd::BusinessCalendar default_calendar;
  CHECK(default_calendar.always_open());
  CHECK(default_calendar.Add(t, absl::Minutes(1)) == t + absl::Minutes(1));
}

TEST_CASE("calendar specs are checked with messages naming the field", "[sla][calendar]") {
  SECTION("unknown zone") {
    const std::string why = Refusal(Weekdays("Europe/Berlinn", {Hours(9, 17)}));
    CHECK_THAT(why, Catch::Contains("calendar.time_zone") && Catch::Contains("Europe/Berlinn"));
  }
  SECTION("business hours without a zone") {
    CHECK_THAT(Refusal(Weekdays("", {Hours(9, 17)})), Catch::Contains("calendar.time_zone"));
  }
  SECTION("an interval ending before it starts") {
    sd::BusinessCalendarSpec spec = Weekdays("Europe/Berlin", {Hours(9, 17)});
    spec.week[2] = {Hours(18, 9)};
    CHECK(Refusal(spec) ==
          "calendar.week[2][0] (Wednesday): interval 18:00-09:00 ends before it starts (an "
          "overnight shift is two intervals, up to 24:00 and from 00:00)");
    spec.week[2] = {Hours(9, 9)};
    CHECK_THAT(Refusal(spec), Catch::Contains("09:00-09:00 ends before it starts"));
  }
  SECTION("minutes outside the day") {
    sd::BusinessCalendarSpec spec = Weekdays("Europe/Berlin", {Hours(9, 17)});
    spec.week[0].push_back({1400, 1500});
    CHECK_THAT(Refusal(spec), Catch::Contains("calendar.week[0][1] (Monday): minute 1500"));
    spec.week[0] = {{-30, 60}};
    CHECK_THAT(Refusal(spec), Catch::Contains("minute -30"));
  }
  SECTION("overlapping intervals") {
    sd::BusinessCalendarSpec spec = Weekdays("Europe/Berlin", {Hours(12, 17), Hours(9, 13)});
    CHECK(Refusal(spec) ==
          "calendar.week[0] (Monday): intervals 09:00-13:00 and 12:00-17:00 overlap");
    // Touching is not overlapping.
    CHECK(Refusal(Weekdays("Europe/Berlin", {Hours(9, 12), Hours(12, 17)})).empty());
  }
  SECTION("too many intervals or holidays") {
    sd::BusinessCalendarSpec spec = EveryDay("UTC", {});
    for (int h = 0; h < 11; ++h) spec.week[4].push_back({h * 60, h * 60 + 30});
    CHECK_THAT(Refusal(spec),
               Catch::Contains("calendar.week[4] (Friday): 11 intervals, at most 10"));
    spec.week[4].pop_back();
    CHECK(Refusal(spec).empty());
    for (int i = 0; i < 1001; ++i) spec.holidays.push_back(absl::CivilDay(2026, 1, 1) + i);
    CHECK(Refusal(spec) == "calendar.holidays: 1001 holidays, at most 1000");
  }
  SECTION("a calendar that is never open") {
    CHECK_THAT(Refusal(EveryDay("Europe/Berlin", {})),
               Catch::Contains("calendar.week: no open interval"));
    sd::BusinessCalendarSpec spec = EveryDay("", {});
    spec.always_open = true;
    CHECK(Refusal(spec).empty());
    spec.time_zone = "Mars/Olympus_Mons";
    CHECK_THAT(Refusal(spec), Catch::Contains("Mars/Olympus_Mons"));
  }
}

// ---------------------------------------------------------------------------
// DST: intervals are local civil time, business time is real time
// ---------------------------------------------------------------------------

TEST_CASE("Europe/Berlin spring forward: 01:00-03:00 lasts 1 real hour on 2026-03-29",
          "[sla][calendar][dst]") {
  const absl::TimeZone tz = Zone("Europe/Berlin");
  const sd::BusinessCalendar cal = Make(EveryDay("Europe/Berlin", {Hours(1, 3), Hours(9, 17)}));
  const absl::Time one = At(tz, 2026, 3, 29, 1);
  const absl::Time three = At(tz, 2026, 3, 29, 3);
  REQUIRE(three - one == absl::Hours(1));  // 02:00 CET became 03:00 CEST
  CHECK(cal.Between(one, three) == absl::Hours(1));
  CHECK(cal.Add(one, absl::Hours(1)) == three);
  CHECK(cal.Add(one, absl::Minutes(90)) == At(tz, 2026, 3, 29, 9, 30));
  CHECK(cal.Between(At(tz, 2026, 3, 29, 0), At(tz, 2026, 3, 30, 0)) == absl::Hours(9));
  CHECK(cal.Between(At(tz, 2026, 3, 28, 0), At(tz, 2026, 3, 29, 0)) == absl::Hours(10));
}

TEST_CASE("Europe/Berlin fall back: 01:00-03:00 lasts 3 real hours on 2026-10-25",
          "[sla][calendar][dst]") {
  const absl::TimeZone tz = Zone("Europe/Berlin");
  const sd::BusinessCalendar cal = Make(EveryDay("Europe/Berlin", {Hours(1, 3), Hours(9, 17)}));
  const absl::Time one = At(tz, 2026, 10, 25, 1);
  const absl::Time three = At(tz, 2026, 10, 25, 3);
  REQUIRE(three - one == absl::Hours(3));  // 02:00-03:00 happens twice
  CHECK(cal.Between(one, three) == absl::Hours(3));
  CHECK(cal.Add(one, absl::Hours(3)) == three);
  // The second pass of 02:30 is open as well.
  CHECK(cal.IsOpen(At(tz, 2026, 10, 25, 2, 30) + absl::Hours(1)));
  CHECK(cal.Between(At(tz, 2026, 10, 25, 0), At(tz, 2026, 10, 26, 0)) == absl::Hours(11));
}

TEST_CASE("America/New_York: 01:00-03:00 lasts 1h on 2026-03-08 and 3h on 2026-11-01",
          "[sla][calendar][dst]") {
  const absl::TimeZone tz = Zone("America/New_York");
  const sd::BusinessCalendar cal = Make(EveryDay("America/New_York", {Hours(1, 3)}));
  CHECK(cal.Between(At(tz, 2026, 3, 8, 0), At(tz, 2026, 3, 9, 0)) == absl::Hours(1));
  CHECK(cal.Between(At(tz, 2026, 11, 1, 0), At(tz, 2026, 11, 2, 0)) == absl::Hours(3));
  CHECK(cal.Between(At(tz, 2026, 11, 2, 0), At(tz, 2026, 11, 3, 0)) == absl::Hours(2));
  CHECK(cal.Add(At(tz, 2026, 3, 8, 1), absl::Hours(2)) == At(tz, 2026, 3, 9, 2));
  CHECK(cal.Add(At(tz, 2026, 11, 1, 1), absl::Hours(3)) == At(tz, 2026, 11, 1, 3));
  // New York repeats 01:00-02:00: 01:00 maps to its first pass, 02:00 is
  // unique, so 01:00-02:00 lasts 2 real hours that day.
  const sd::BusinessCalendar repeated = Make(EveryDay("America/New_York", {Hours(1, 2)}));
  CHECK(repeated.Between(At(tz, 2026, 11, 1, 0), At(tz, 2026, 11, 2, 0)) == absl::Hours(2));
}

TEST_CASE(
    "an interval inside the spring-forward gap is empty, one inside the repeated hour opens "
    "on its first pass",
    "[sla][calendar][dst]") {
  const absl::TimeZone tz = Zone("Europe/Berlin");
  sd::BusinessCalendarSpec spec = EveryDay("Europe/Berlin", {{2 * 60 + 15, 2 * 60 + 45}});
  spec.week[0] = {Hours(9, 10)};  // Mondays are open whatever happens on Sundays
  const sd::BusinessCalendar gap = Make(spec);
  CHECK(gap.Between(At(tz, 2026, 3, 29, 0), At(tz, 2026, 3, 30, 0)) == absl::ZeroDuration());
  CHECK(gap.NextOpening(At(tz, 2026, 3, 29, 0)) == At(tz, 2026, 3, 30, 9));
  // 02:30-04:00 starts in the gap: it opens when the gap ends, 03:00 CEST.
  spec.week[6] = {{2 * 60 + 30, 4 * 60}};
  const sd::BusinessCalendar late = Make(spec);
  CHECK(late.NextOpening(At(tz, 2026, 3, 29, 0)) == At(tz, 2026, 3, 29, 3));
  CHECK(late.Between(At(tz, 2026, 3, 29, 0), At(tz, 2026, 3, 30, 0)) == absl::Hours(1));

  const sd::BusinessCalendar overlap = Make(EveryDay("Europe/Berlin", {{2 * 60, 2 * 60 + 30}}));
  const absl::Time first_pass = At(tz, 2026, 10, 25, 2, 15);  // CEST
  CHECK(overlap.IsOpen(first_pass));
  CHECK_FALSE(overlap.IsOpen(first_pass + absl::Hours(1)));  // 02:15 CET
  CHECK(overlap.Between(At(tz, 2026, 10, 25, 0), At(tz, 2026, 10, 26, 0)) == absl::Minutes(30));
}

TEST_CASE("a fall-back across midnight: an instant of one local day opens the next day's interval",
          "[sla][calendar][dst]") {
  // Until 2011 St. John's fell back at 00:01 to 23:01 the day before, so
  // Saturday 23:01-Sunday 00:01 happened twice in 2010-11-06/07.
  const absl::TimeZone tz = Zone("America/St_Johns");
  const sd::BusinessCalendar cal = Make(EveryDay("America/St_Johns", {{0, 30}}));
  const absl::Time sunday = At(tz, 2010, 11, 7, 0);      // first pass, NDT
  const absl::Time closes = At(tz, 2010, 11, 7, 0, 30);  // only after the second pass
  REQUIRE(closes - sunday == absl::Minutes(90));
  const absl::Time second_saturday = At(tz, 2010, 11, 6, 23, 30) + absl::Hours(1);
  REQUIRE(absl::ToCivilDay(second_saturday, tz) == absl::CivilDay(2010, 11, 6));
  CHECK(cal.IsOpen(second_saturday));
  CHECK(cal.NextOpening(second_saturday) == second_saturday);
  CHECK(cal.Between(second_saturday, closes) == absl::Hours(1));
  CHECK(cal.Add(second_saturday, absl::Hours(1)) == closes);
  CHECK(cal.Between(At(tz, 2010, 11, 7, 0) - absl::Hours(2), At(tz, 2010, 11, 8, 0)) ==
        absl::Minutes(90));
}

TEST_CASE("a 24/7 calendar in a zone crossing DST adds plain real time", "[sla][calendar][dst]") {
  sd::BusinessCalendarSpec spec;
  spec.time_zone = "Europe/Berlin";
  spec.always_open = true;
  spec.holidays = {absl::CivilDay(2026, 3, 29)};  // ignored when always open
  const sd::BusinessCalendar cal = Make(spec);
  const absl::TimeZone tz = Zone("Europe/Berlin");
  // Saturday 12:00 CET + 24 real hours is Sunday 13:00 CEST.
  CHECK(cal.Add(At(tz, 2026, 3, 28, 12), absl::Hours(24)) == At(tz, 2026, 3, 29, 13));
  CHECK(cal.Add(At(tz, 2026, 10, 24, 12), absl::Hours(24)) == At(tz, 2026, 10, 25, 11));
}

TEST_CASE("a 00:00-24:00 every-day calendar equals 24/7 across DST in every zone",
          "[sla][calendar][dst]") {
  sd::BusinessCalendarSpec always;
  always.always_open = true;
  const sd::BusinessCalendar open = Make(always);
  // Santiago and Havana switch at midnight, Lord Howe by 30 minutes.
  for (const char* zone : {"Europe/Berlin", "America/New_York", "Australia/Lord_Howe",
                           "Pacific/Chatham", "America/Santiago", "America/Havana", "UTC"}) {
    const sd::BusinessCalendar full = Make(EveryDay(zone, {{0, 1440}}));
    const absl::Time from =
        absl::FromCivil(absl::CivilSecond(2026, 1, 1, 0, 0, 0), absl::UTCTimeZone());
    for (absl::Time t = from; t < from + absl::Hours(24 * 366); t += absl::Minutes(433)) {
      INFO(zone << " at " << t);
      for (const absl::Duration d : {absl::Seconds(1), absl::Hours(1), absl::Hours(25)}) {
        REQUIRE(full.Add(t, d) == open.Add(t, d));
        REQUIRE(full.Between(t, t + d) == d);
      }
      REQUIRE(full.IsOpen(t));
    }
  }
}

TEST_CASE("deadlines are UTC instants: a Seoul calendar read by an agent in Los Angeles",
          "[sla][calendar]") {
  const absl::TimeZone seoul = Zone("Asia/Seoul");
  const absl::TimeZone la = Zone("America/Los_Angeles");
  const sd::BusinessCalendar cal = Make(Weekdays("Asia/Seoul", {Hours(9, 18)}));
  // Sunday 17:00 in Los Angeles is Monday 10:00 in Seoul: open.
  const absl::Time agent = At(la, 2026, 1, 18, 17);
  REQUIRE(agent == At(seoul, 2026, 1, 19, 10));
  CHECK(cal.IsOpen(agent));
  // 10h: Monday 10:00-18:00 and Tuesday 09:00-11:00 in Seoul, which is
  // Monday 18:00 in Los Angeles: the same instant however it is written.
  CHECK(cal.Add(agent, absl::Hours(10)) == At(seoul, 2026, 1, 20, 11));
  CHECK(cal.Add(agent, absl::Hours(10)) == At(la, 2026, 1, 19, 18));
  // Friday 17:00 in Los Angeles is Saturday in Seoul: closed until Monday.
  CHECK_FALSE(cal.IsOpen(At(la, 2026, 1, 16, 17)));
  CHECK(cal.NextOpening(At(la, 2026, 1, 16, 17)) == At(la, 2026, 1, 18, 16));

  sd::SlaPolicy policy = OfficePolicy();
  policy.calendar = cal;
  const sd::MetricState fr = FirstReply(policy, Ticket(agent), agent + absl::Minutes(5));
  REQUIRE(fr.deadline);
  CHECK(*fr.deadline == At(seoul, 2026, 1, 19, 14));
}

TEST_CASE("24/7 crosses midnight exactly: 23:59:59.5 plus 1s is 00:00:00.5", "[sla][calendar]") {
  const absl::TimeZone utc = absl::UTCTimeZone();
  const absl::Time start = At(utc, 2026, 1, 23, 23, 59, 59) + absl::Milliseconds(500);
  const absl::Time next = At(utc, 2026, 1, 24, 0, 0, 0) + absl::Milliseconds(500);
  sd::BusinessCalendarSpec spec;
  spec.always_open = true;
  CHECK(Make(spec).Add(start, absl::Seconds(1)) == next);
  CHECK(Make(EveryDay("UTC", {{0, 1440}})).Add(start, absl::Seconds(1)) == next);
  // Friday 23:59:59.5 in a Mon-Fri 00:00-24:00 calendar: Monday 00:00:00.5.
  const sd::BusinessCalendar weekdays = Make(Weekdays("UTC", {{0, 1440}}));
  CHECK(weekdays.Add(start, absl::Seconds(1)) == At(utc, 2026, 1, 26, 0) + absl::Milliseconds(500));
  CHECK(weekdays.Add(start, absl::Milliseconds(500)) == At(utc, 2026, 1, 24, 0));
}

// ---------------------------------------------------------------------------
// Properties on random calendars in awkward zones
// ---------------------------------------------------------------------------

namespace {

struct RandomCalendar {
  std::string description;
  absl::TimeZone zone;
  sd::BusinessCalendarSpec spec;
  sd::BusinessCalendar calendar;
  absl::Duration weekly;  // open time of a week without holidays (civil)
};

// 1-3 intervals on most days (weekends often closed), boundaries on
// quarter hours or any minute, up to 40 holidays in 2024-2031.
RandomCalendar MakeRandomCalendar(std::mt19937& rng, const std::string& zone) {
  RandomCalendar out;
  out.zone = Zone(zone);
  out.spec.time_zone = zone;
  out.description = zone;
  auto uniform = [&](int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng); };
  int weekly_minutes = 0;
  for (int d = 0; d < 7; ++d) {
    const int n = d >= 5 && uniform(0, 1) == 0 ? 0 : uniform(d >= 5 ? 0 : 1, 3);
    std::vector<int> bounds;
    while (static_cast<int>(bounds.size()) < 2 * n) {
      const int minute = uniform(0, 2) == 0 ? uniform(0, 1440) : uniform(0, 96) * 15;
      if (std::find(bounds.begin(), bounds.end(), minute) == bounds.end()) bounds.push_back(minute);
    }
    std::sort(bounds.begin(), bounds.end());
    absl::StrAppend(&out.description, " ", d, ":");
    for (int i = 0; i < n; ++i) {
      out.spec.week[d].push_back({bounds[2 * i], bounds[2 * i + 1]});
      weekly_minutes += bounds[2 * i + 1] - bounds[2 * i];
      absl::StrAppend(&out.description, "[", bounds[2 * i], ",", bounds[2 * i + 1], ")");
    }
  }
  const int holidays = uniform(0, 40);
  for (int i = 0; i < holidays; ++i) {
    out.spec.holidays.push_back(absl::CivilDay(2024, 1, 1) + uniform(0, 8 * 365));
  }
  absl::StrAppend(&out.description, " holidays:", holidays);
  out.calendar = Make(out.spec);
  out.weekly = absl::Minutes(weekly_minutes);
  return out;
}

// An instant in 2024-2030 with nanoseconds, half of them within 3 days of a
// DST transition of the zone.
absl::Time RandomInstant(std::mt19937& rng, const absl::TimeZone& zone) {
  const absl::Time from = absl::FromCivil(absl::CivilSecond(2024, 1, 1, 0, 0, 0), zone);
  const int64_t span = int64_t{7} * 365 * 24 * 3600;
  absl::Time t = from + absl::Seconds(std::uniform_int_distribution<int64_t>(0, span)(rng)) +
                 absl::Nanoseconds(std::uniform_int_distribution<int64_t>(0, 999999999)(rng));
  absl::TimeZone::CivilTransition transition;
  if (std::uniform_int_distribution<int>(0, 1)(rng) == 0 && zone.NextTransition(t, &transition)) {
    t = absl::FromCivil(transition.to, zone) +
        absl::Seconds(std::uniform_int_distribution<int64_t>(-3 * 86400, 3 * 86400)(rng)) +
        absl::Nanoseconds(std::uniform_int_distribution<int64_t>(0, 999999999)(rng));
  }
  return t;
}

// Up to 20 weeks of the calendar's open time (so far below the 10-year
// search horizon, holidays included), at least 1ns.
absl::Duration RandomBusiness(std::mt19937& rng, const RandomCalendar& c) {
  const int64_t max_ns = absl::ToInt64Nanoseconds(std::min(absl::Hours(300), c.weekly * 20));
  const int64_t ns =
      std::uniform_int_distribution<int>(0, 3)(rng) == 0
          ? std::uniform_int_distribution<int64_t>(1, 3600 * int64_t{1000000000})(rng)
          : std::uniform_int_distribution<int64_t>(1, max_ns)(rng);
  return absl::Nanoseconds(ns);
}

const char* const kPropertyZones[] = {
    "Europe/Berlin",   "America/New_York", "Australia/Lord_Howe", "Asia/Kathmandu",
    "Pacific/Chatham", "Pacific/Apia",     "America/Santiago",    "UTC"};

// `calendars_per_zone` random calendars per zone, `per_calendar` cases each.
template <typename Check>
void ForRandomCases(uint32_t seed, int calendars_per_zone, int per_calendar, Check check) {
  std::mt19937 rng(seed);
  for (const char* zone : kPropertyZones) {
    for (int i = 0; i < calendars_per_zone; ++i) {
      const RandomCalendar c = MakeRandomCalendar(rng, zone);
      INFO("calendar " << c.description);
      for (int k = 0; k < per_calendar; ++k) check(rng, c);
    }
  }
}

}  // namespace

TEST_CASE("property: Between(s, Add(s, d)) == d and Add ends open time",
          "[sla][calendar][property]") {
  ForRandomCases(20260101, 50, 10, [](std::mt19937& rng, const RandomCalendar& c) {
    const absl::Time s = RandomInstant(rng, c.zone);
    const absl::Duration d = RandomBusiness(rng, c);
    INFO("start " << s << " business " << d);
    const absl::Time end = c.calendar.Add(s, d);
    REQUIRE(end != absl::InfiniteFuture());
    REQUIRE(end > s);
    REQUIRE(c.calendar.Between(s, end) == d);
    // The result is open time or the end of an open interval.
    REQUIRE(c.calendar.IsOpen(end - absl::Nanoseconds(1)));
  });
}

TEST_CASE("property: Add is monotonic in the duration and in the start",
          "[sla][calendar][property]") {
  ForRandomCases(7, 50, 10, [](std::mt19937& rng, const RandomCalendar& c) {
    const absl::Time s1 = RandomInstant(rng, c.zone);
    const absl::Time s2 = s1 + absl::Nanoseconds(std::uniform_int_distribution<int64_t>(
                                   0, int64_t{3} * 86400 * 1000000000)(rng));
    absl::Duration d1 = RandomBusiness(rng, c);
    absl::Duration d2 = RandomBusiness(rng, c);
    if (d2 < d1) std::swap(d1, d2);
    INFO("starts " << s1 << " " << s2 << " business " << d1 << " " << d2);
    REQUIRE(c.calendar.Add(s1, d1) <= c.calendar.Add(s1, d2));
    REQUIRE(c.calendar.Add(s1, d1) <= c.calendar.Add(s2, d1));
  });
}

TEST_CASE("property: Between is additive", "[sla][calendar][property]") {
  ForRandomCases(42, 50, 10, [](std::mt19937& rng, const RandomCalendar& c) {
    std::vector<absl::Time> t = {RandomInstant(rng, c.zone)};
    for (int i = 0; i < 2; ++i) {
      t.push_back(t.back() + absl::Nanoseconds(std::uniform_int_distribution<int64_t>(
                                 0, int64_t{15} * 86400 * 1000000000)(rng)));
    }
    INFO("a " << t[0] << " b " << t[1] << " c " << t[2]);
    REQUIRE(c.calendar.Between(t[0], t[2]) ==
            c.calendar.Between(t[0], t[1]) + c.calendar.Between(t[1], t[2]));
    REQUIRE(c.calendar.Between(t[2], t[0]) == absl::ZeroDuration());
  });
}

TEST_CASE("property: Add(s, d1 + d2) == Add(Add(s, d1), d2)", "[sla][calendar][property]") {
  ForRandomCases(99, 50, 10, [](std::mt19937& rng, const RandomCalendar& c) {
    const absl::Time s = RandomInstant(rng, c.zone);
    const absl::Duration d1 = RandomBusiness(rng, c) / 2;
    const absl::Duration d2 = RandomBusiness(rng, c) / 2;
    INFO("start " << s << " business " << d1 << " + " << d2);
    REQUIRE(c.calendar.Add(s, d1 + d2) == c.calendar.Add(c.calendar.Add(s, d1), d2));
  });
}

TEST_CASE("property: IsOpen and NextOpening agree with Between", "[sla][calendar][property]") {
  ForRandomCases(5, 50, 10, [](std::mt19937& rng, const RandomCalendar& c) {
    const absl::Time t = RandomInstant(rng, c.zone);
    INFO("at " << t);
    REQUIRE(c.calendar.IsOpen(t) ==
            (c.calendar.Between(t, t + absl::Nanoseconds(1)) > absl::ZeroDuration()));
    const absl::Time next = c.calendar.NextOpening(t);
    REQUIRE(next >= t);
    REQUIRE(c.calendar.IsOpen(next));
    REQUIRE(c.calendar.Between(t, next) == absl::ZeroDuration());
  });
}

TEST_CASE("property: away from DST transitions, open means a local time inside a weekday interval",
          "[sla][calendar][property]") {
  ForRandomCases(11, 50, 20, [](std::mt19937& rng, const RandomCalendar& c) {
    const absl::Time t = RandomInstant(rng, c.zone);
    const absl::TimeZone::CivilInfo local = c.zone.At(t);
    // Only where the UTC offset is the same a day and a half around.
    if (c.zone.At(t - absl::Hours(36)).offset != local.offset ||
        c.zone.At(t + absl::Hours(36)).offset != local.offset) {
      return;
    }
    const absl::CivilDay day(local.cs);
    const bool holiday =
        std::find(c.spec.holidays.begin(), c.spec.holidays.end(), day) != c.spec.holidays.end();
    const int64_t minute_ns = (local.cs - absl::CivilSecond(day)) * int64_t{1000000000} +
                              absl::ToInt64Nanoseconds(local.subsecond);
    bool expected = false;
    for (const sd::LocalInterval& i : c.spec.week[static_cast<int>(absl::GetWeekday(day))]) {
      expected = expected || (!holiday && minute_ns >= int64_t{i.start_minute} * 60000000000 &&
                              minute_ns < int64_t{i.end_minute} * 60000000000);
    }
    INFO("at " << t << " local " << local.cs);
    REQUIRE(c.calendar.IsOpen(t) == expected);
  });
}

TEST_CASE("property: each local day is open for its intervals mapped by TimeZone::At",
          "[sla][calendar][property]") {
  ForRandomCases(2024, 50, 20, [](std::mt19937& rng, const RandomCalendar& c) {
    const absl::CivilDay day = absl::ToCivilDay(RandomInstant(rng, c.zone), c.zone);
    // The header's mapping, written out: gaps map to their end, repeats to
    // their first pass.
    const auto map = [&](absl::CivilDay d, int minute) {
      const absl::TimeZone::TimeInfo info =
          c.zone.At(absl::CivilSecond(d.year(), d.month(), d.day(), minute / 60, minute % 60, 0));
      return info.kind == absl::TimeZone::TimeInfo::SKIPPED ? info.trans : info.pre;
    };
    const bool holiday =
        std::find(c.spec.holidays.begin(), c.spec.holidays.end(), day) != c.spec.holidays.end();
    absl::Duration expected;
    INFO("day " << day);
    for (const sd::LocalInterval& i : c.spec.week[static_cast<int>(absl::GetWeekday(day))]) {
      const absl::Time open = map(day, i.start_minute);
      const absl::Time close = map(day, i.end_minute);
      if (holiday || close <= open) continue;
      expected += close - open;
      REQUIRE(c.calendar.IsOpen(open));
      REQUIRE(c.calendar.IsOpen(close - absl::Nanoseconds(1)));
    }
    REQUIRE(c.calendar.Between(map(day, 0), map(day + 1, 0)) == expected);
  });
}

TEST_CASE("calendars work before 1970 and after 2100 as well", "[sla][calendar]") {
  const absl::TimeZone tz = Zone("Europe/Berlin");
  const sd::BusinessCalendar cal = Make(Weekdays("Europe/Berlin", {Hours(9, 17)}));
  CHECK(cal.Between(At(tz, 1969, 12, 29, 0), At(tz, 1970, 1, 5, 0)) == absl::Hours(40));
  CHECK(cal.Add(At(tz, 1969, 12, 31, 16), absl::Hours(2)) == At(tz, 1970, 1, 1, 10));
  CHECK(cal.Add(At(tz, 2099, 12, 31, 16), absl::Hours(10)) == At(tz, 2100, 1, 4, 10));
  CHECK(cal.IsOpen(At(tz, 2100, 7, 1, 12)));
  CHECK(cal.Between(At(tz, 2100, 3, 22, 0), At(tz, 2100, 3, 29, 0)) == absl::Hours(40));
}

TEST_CASE("a long business target with many holidays stays fast and bounded", "[sla][calendar]") {
  sd::BusinessCalendarSpec spec = Weekdays("Europe/Berlin", {Hours(9, 12), Hours(13, 17)});
  for (int i = 0; i < 1000; i += 3) spec.holidays.push_back(absl::CivilDay(2026, 1, 1) + i);
  const sd::BusinessCalendar cal = Make(spec);
  const absl::Time start = Berlin(1, 5, 9);
  // 365 days of business time: about 5 years of 7h days.
  const absl::Time end = cal.Add(start, absl::Hours(24 * 365));
  REQUIRE(end != absl::InfiniteFuture());
  CHECK(cal.Between(start, end) == absl::Hours(24 * 365));
  CHECK(end < start + absl::Hours(24 * 365 * 8));
}

// ---------------------------------------------------------------------------
// The SLA clock
// ---------------------------------------------------------------------------

TEST_CASE("first reply: running with a deadline, met, breached", "[sla][clock]") {
  const sd::SlaPolicy p = OfficePolicy();
  sd::TicketTimeline t = Ticket(Berlin(1, 19, 10));
  SECTION("running") {
    const sd::MetricState fr = FirstReply(p, t, Berlin(1, 19, 11));
    CHECK(fr.active);
    CHECK_FALSE(fr.paused);
    REQUIRE(fr.deadline);
    CHECK(*fr.deadline == Berlin(1, 19, 14));
    CHECK(fr.elapsed == absl::Hours(1));
    CHECK(fr.target == absl::Hours(4));
    CHECK_FALSE(fr.breached_at);
    CHECK_FALSE(fr.warn_at);  // warn_before is 0
  }
  SECTION("met") {
    t.events = {Reply(Berlin(1, 19, 12))};
    const sd::MetricState fr = FirstReply(p, t, Berlin(1, 19, 15));
    CHECK_FALSE(fr.active);
    CHECK(fr.fulfilled_at == Berlin(1, 19, 12));
    CHECK(fr.elapsed == absl::Hours(2));
    CHECK_FALSE(fr.breached_at);
    CHECK_FALSE(fr.deadline);
  }
  SECTION("breached while still running") {
    const sd::MetricState fr = FirstReply(p, t, Berlin(1, 19, 15));
    CHECK(fr.active);
    CHECK(fr.breached_at == Berlin(1, 19, 14));
    CHECK(fr.deadline == Berlin(1, 19, 14));
  }
  SECTION("breached and fulfilled late") {
    t.events = {Reply(Berlin(1, 20, 10))};
    const sd::MetricState fr = FirstReply(p, t, Berlin(1, 20, 11));
    CHECK_FALSE(fr.active);
    CHECK(fr.breached_at == Berlin(1, 19, 14));
    CHECK(fr.fulfilled_at == Berlin(1, 20, 10));
    CHECK(fr.elapsed == absl::Hours(8));
  }
}

TEST_CASE("a reply at the exact deadline meets the target, one nanosecond later breaches it",
          "[sla][clock]") {
  const sd::SlaPolicy p = OfficePolicy();
  sd::TicketTimeline t = Ticket(Berlin(1, 19, 10));
  t.events = {Reply(Berlin(1, 19, 14))};
  CHECK_FALSE(FirstReply(p, t, Berlin(1, 19, 16)).breached_at);
  t.events = {Reply(Berlin(1, 19, 14) + absl::Nanoseconds(1))};
  CHECK(FirstReply(p, t, Berlin(1, 19, 16)).breached_at == Berlin(1, 19, 14));
  // With nothing at the deadline instant, `now` at the deadline is a breach.
  t.events.clear();
  CHECK(FirstReply(p, t, Berlin(1, 19, 14)).breached_at == Berlin(1, 19, 14));
}

TEST_CASE("next reply: a cycle per customer message after an agent reply", "[sla][clock]") {
  const sd::SlaPolicy p = OfficePolicy();
  sd::TicketTimeline t = Ticket(Berlin(1, 19, 9));
  t.events = {Message(Berlin(1, 19, 9, 30)),  // still the first reply's
              Reply(Berlin(1, 19, 10))};
  SECTION("no customer message since the reply: nothing running") {
    const sd::MetricState nr =
        Metric(sd::Evaluate(p, t, Berlin(1, 19, 11)), sd::SlaMetric::kNextReply);
    CHECK_FALSE(nr.active);
    CHECK_FALSE(nr.fulfilled_at);
    CHECK(nr.elapsed == absl::ZeroDuration());
  }
  SECTION("the oldest unanswered message starts the cycle") {
    t.events.push_back(Message(Berlin(1, 19, 11)));
    t.events.push_back(Message(Berlin(1, 19, 12)));
    t.events.push_back(Reply(Berlin(1, 19, 13)));
    t.events.push_back(Message(Berlin(1, 19, 14)));
    const sd::MetricState closed =
        Metric(sd::Evaluate(p, t, Berlin(1, 19, 13, 30)), sd::SlaMetric::kNextReply);
    CHECK_FALSE(closed.active);
    CHECK(closed.fulfilled_at == Berlin(1, 19, 13));
    CHECK(closed.elapsed == absl::Hours(2));
    const sd::MetricState nr =
        Metric(sd::Evaluate(p, t, Berlin(1, 19, 15)), sd::SlaMetric::kNextReply);
    CHECK(nr.active);
    CHECK(nr.elapsed == absl::Hours(1));
    CHECK(nr.deadline == Berlin(1, 20, 14));
    CHECK_FALSE(nr.breached_at);
  }
  SECTION("an earlier breached cycle stays recorded while the current one runs") {
    t.events.push_back(Message(Berlin(1, 19, 11)));
    t.events.push_back(Reply(Berlin(1, 20, 12)));  // 9h later: breached at Tuesday 11:00
    t.events.push_back(Message(Berlin(1, 20, 13)));
    const sd::MetricState nr =
        Metric(sd::Evaluate(p, t, Berlin(1, 20, 14)), sd::SlaMetric::kNextReply);
    CHECK(nr.active);
    CHECK(nr.elapsed == absl::Hours(1));
    CHECK(nr.breached_at == Berlin(1, 20, 11));
    CHECK(nr.escalation_level == 0);  // the current cycle is not breached
    // The reported cycle is the one opened at 13:00, with no breach of its own.
    CHECK(nr.cycle_start == Berlin(1, 20, 13));
    CHECK_FALSE(nr.cycle_breached_at);
    CHECK(nr.escalated_at.empty());
  }
}

TEST_CASE("periodic update: an agent reply is due every target since the last one",
          "[sla][clock]") {
  const sd::SlaPolicy p = OfficePolicy();  // urgent: every 4h
  sd::TicketTimeline t = Ticket(Berlin(1, 19, 9), "urgent");
  t.events = {Reply(Berlin(1, 19, 10))};
  auto periodic = [&](absl::Time now) {
    return Metric(sd::Evaluate(p, t, now), sd::SlaMetric::kPeriodicUpdate);
  };
  CHECK(periodic(Berlin(1, 19, 13)).deadline == Berlin(1, 19, 14));
  CHECK(periodic(Berlin(1, 19, 13)).elapsed == absl::Hours(3));
  CHECK(periodic(Berlin(1, 19, 15)).breached_at == Berlin(1, 19, 14));
  t.events.push_back(Reply(Berlin(1, 19, 13, 30)));
  const sd::MetricState renewed = periodic(Berlin(1, 19, 15));
  CHECK_FALSE(renewed.breached_at);
  CHECK(renewed.elapsed == absl::Minutes(90));
  CHECK(renewed.deadline == Berlin(1, 20, 9, 30));  // 3h30 to 17:00, 30m on Tuesday
  t.events.push_back(Status(Berlin(1, 19, 15, 30), "solved"));
  const sd::MetricState solved = periodic(Berlin(1, 19, 16));
  CHECK(solved.active);
  CHECK(solved.paused);
  CHECK_FALSE(solved.deadline);
  CHECK(solved.elapsed == absl::Hours(2));
}

TEST_CASE("reopening a solved ticket does not restart the resolution clock from zero",
          "[sla][clock][regression]") {
  const sd::SlaPolicy p = OfficePolicy();  // normal: resolution 24h
  sd::TicketTimeline t = Ticket(Berlin(1, 19, 9));
  t.events = {Status(Berlin(1, 19, 14), "solved")};
  const sd::MetricState solved =
      Metric(sd::Evaluate(p, t, Berlin(1, 20, 10)), sd::SlaMetric::kResolution);
  CHECK_FALSE(solved.active);
  CHECK(solved.fulfilled_at == Berlin(1, 19, 14));
  CHECK(solved.elapsed == absl::Hours(5));
  // Reopened a week later: 5h already used (the week while solved does not
  // count), 19h left.
  t.events.push_back(Status(Berlin(1, 26, 9), "open"));
  const sd::MetricState reopened =
      Metric(sd::Evaluate(p, t, Berlin(1, 26, 10)), sd::SlaMetric::kResolution);
  CHECK(reopened.active);
  CHECK_FALSE(reopened.fulfilled_at);
  CHECK(reopened.elapsed == absl::Hours(6));
  CHECK(reopened.deadline == Berlin(1, 28, 12));
  // Solved and closed again: fulfilled at the last solve.
  t.events.push_back(Status(Berlin(1, 26, 11), "solved"));
  t.events.push_back(Status(Berlin(1, 27, 11), "closed"));
  const sd::MetricState closed =
      Metric(sd::Evaluate(p, t, Berlin(1, 28, 10)), sd::SlaMetric::kResolution);
  CHECK(closed.fulfilled_at == Berlin(1, 26, 11));
  CHECK(closed.elapsed == absl::Hours(7));
}

TEST_CASE(
    "a pending status pauses the clock and resumes with the time already used "
    "(frappe/helpdesk issue 1554)",
    "[sla][clock][regression]") {
  const sd::SlaPolicy p = OfficePolicy();
  sd::TicketTimeline t = Ticket(Berlin(1, 19, 9));
  t.events = {Status(Berlin(1, 19, 10), "pending_customer")};
  const sd::MetricState paused = FirstReply(p, t, Berlin(1, 19, 12));
  CHECK(paused.active);
  CHECK(paused.paused);
  CHECK_FALSE(paused.deadline);
  CHECK(paused.elapsed == absl::Hours(1));
  CHECK_FALSE(sd::NextDue(sd::Evaluate(p, t, Berlin(1, 19, 12)), Berlin(1, 19, 12)));
  // Back to open at 15:00: the deadline moved by the 5h of paused open time.
  t.events.push_back(Status(Berlin(1, 19, 15), "open"));
  const sd::MetricState resumed = FirstReply(p, t, Berlin(1, 19, 15, 30));
  CHECK_FALSE(resumed.paused);
  CHECK(resumed.elapsed == absl::Minutes(90));
  CHECK(resumed.deadline == Berlin(1, 20, 10));
  CHECK(*resumed.deadline == p.calendar.Add(Berlin(1, 19, 13), absl::Hours(5)));
}

TEST_CASE(
    "pending over a weekend moves the deadline by the paused open time only "
    "(GLPI issue 10594)",
    "[sla][clock][regression]") {
  const sd::SlaPolicy p = OfficePolicy();
  sd::TicketTimeline t = Ticket(Berlin(1, 23, 9));
  const absl::Time unpaused = p.calendar.Add(Berlin(1, 23, 9), absl::Hours(24));
  REQUIRE(unpaused == Berlin(1, 27, 17));
  t.events = {Status(Berlin(1, 23, 15), "pending_customer"), Status(Berlin(1, 26, 11), "open")};
  const sd::MetricState res =
      Metric(sd::Evaluate(p, t, Berlin(1, 26, 12)), sd::SlaMetric::kResolution);
  // Paused Friday 15:00-17:00 and Monday 09:00-11:00: 4h, not the 68h of
  // the weekend in between.
  CHECK(res.elapsed == absl::Hours(7));
  CHECK(res.deadline == p.calendar.Add(unpaused, absl::Hours(4)));
  CHECK(res.deadline == Berlin(1, 28, 13));
}

TEST_CASE("a priority change while pending does not count the paused time (GLPI issue 6902)",
          "[sla][clock][regression]") {
  const sd::SlaPolicy p = OfficePolicy();
  sd::TicketTimeline t = Ticket(Berlin(1, 19, 9));
  t.events = {Status(Berlin(1, 19, 9, 30), "pending_customer"),
              Priority(Berlin(1, 19, 14), "urgent"), Status(Berlin(1, 19, 15), "open")};
  const sd::MetricState fr = FirstReply(p, t, Berlin(1, 19, 15, 10));
  CHECK(fr.target == absl::Hours(1));
  CHECK(fr.elapsed == absl::Minutes(40));
  CHECK_FALSE(fr.breached_at);
  CHECK(fr.deadline == Berlin(1, 19, 15, 30));
}

TEST_CASE(
    "raising the priority after the new target has passed breaches at the change, never "
    "back-dated",
    "[sla][clock][regression]") {
  sd::SlaPolicy p = OfficePolicy();
  p.escalations = {absl::Hours(1)};
  sd::TicketTimeline t = Ticket(Berlin(1, 19, 9));
  t.events = {Priority(Berlin(1, 19, 12), "urgent")};
  const sd::MetricState fr = FirstReply(p, t, Berlin(1, 19, 12, 30));
  CHECK(fr.target == absl::Hours(1));
  CHECK(fr.breached_at == Berlin(1, 19, 12));  // not 10:00, when 1h was used
  CHECK(fr.deadline == Berlin(1, 19, 10));     // as computed for the new target
  CHECK(fr.elapsed == absl::Minutes(210));
  // Escalations count from the breach as recorded.
  CHECK(fr.escalation_level == 0);
  CHECK(fr.next_escalation_at == Berlin(1, 19, 13));
  SECTION("raised in time: the deadline simply moves") {
    t.events = {Priority(Berlin(1, 19, 9, 30), "urgent")};
    CHECK(FirstReply(p, t, Berlin(1, 19, 9, 45)).deadline == Berlin(1, 19, 10));
    CHECK_FALSE(FirstReply(p, t, Berlin(1, 19, 9, 45)).breached_at);
    CHECK(FirstReply(p, t, Berlin(1, 19, 10, 30)).breached_at == Berlin(1, 19, 10));
  }
  SECTION("lowered again: the breach stays, the deadline follows the new target") {
    t = Ticket(Berlin(1, 19, 9), "urgent");
    t.events = {Priority(Berlin(1, 19, 11), "normal")};
    const sd::MetricState lowered = FirstReply(p, t, Berlin(1, 19, 11, 30));
    CHECK(lowered.breached_at == Berlin(1, 19, 10));
    CHECK(lowered.deadline == Berlin(1, 19, 13));
    CHECK(lowered.target == absl::Hours(4));
  }
  SECTION("a reply at the instant of the change still meets the target") {
    t.events.push_back(Reply(Berlin(1, 19, 12)));
    CHECK_FALSE(FirstReply(p, t, Berlin(1, 19, 13)).breached_at);
  }
}

TEST_CASE("escalation levels are reached in business time after the breach", "[sla][clock]") {
  sd::SlaPolicy p = OfficePolicy();
  p.escalations = {absl::Hours(1), absl::Hours(3)};
  sd::TicketTimeline t = Ticket(Berlin(1, 23, 15), "urgent");  // Friday: breach at 16:00
  auto fr = [&](absl::Time now) { return FirstReply(p, t, now); };
  CHECK(fr(Berlin(1, 23, 15, 30)).escalation_level == 0);
  CHECK_FALSE(fr(Berlin(1, 23, 15, 30)).next_escalation_at);  // not breached yet
  CHECK(fr(Berlin(1, 23, 16, 30)).breached_at == Berlin(1, 23, 16));
  CHECK(fr(Berlin(1, 23, 16, 30)).escalation_level == 0);
  CHECK(fr(Berlin(1, 23, 16, 30)).next_escalation_at == Berlin(1, 23, 17));
  CHECK(fr(Berlin(1, 26, 8)).escalation_level == 1);
  CHECK(fr(Berlin(1, 26, 8)).next_escalation_at == Berlin(1, 26, 11));
  CHECK(*fr(Berlin(1, 26, 8)).next_escalation_at ==
        p.calendar.Add(Berlin(1, 23, 16), absl::Hours(3)));
  CHECK(fr(Berlin(1, 26, 11)).escalation_level == 2);
  CHECK_FALSE(fr(Berlin(1, 26, 11)).next_escalation_at);
  // The instants each level was reached (what the sweeper tells).
  CHECK(fr(Berlin(1, 26, 11)).escalated_at ==
        std::vector<absl::Time>{Berlin(1, 23, 17), Berlin(1, 26, 11)});
  CHECK(fr(Berlin(1, 26, 11)).cycle_start == Berlin(1, 23, 15));
  CHECK(fr(Berlin(1, 26, 11)).cycle_breached_at == Berlin(1, 23, 16));
  CHECK(fr(Berlin(1, 26, 8)).escalated_at == std::vector<absl::Time>{Berlin(1, 23, 17)});
  SECTION("escalation pauses with the clock and stops at the reply") {
    t.events = {Status(Berlin(1, 26, 9, 30), "on_hold")};
    const sd::MetricState held = fr(Berlin(1, 26, 12));
    CHECK(held.escalation_level == 1);
    CHECK(held.paused);
    CHECK_FALSE(held.next_escalation_at);
    t.events = {Reply(Berlin(1, 26, 10))};
    const sd::MetricState replied = fr(Berlin(1, 26, 12));
    CHECK(replied.escalation_level == 1);
    CHECK(replied.breached_at == Berlin(1, 23, 16));
    CHECK_FALSE(replied.next_escalation_at);
    CHECK(replied.escalated_at == std::vector<absl::Time>{Berlin(1, 23, 17)});
    CHECK(held.escalated_at == std::vector<absl::Time>{Berlin(1, 23, 17)});
  }
}

TEST_CASE("warn_at leaves warn_before of business time, not of wall-clock time", "[sla][clock]") {
  sd::SlaPolicy p = OfficePolicy();
  p.targets_by_priority["normal"] = {absl::Hours(8), std::nullopt, std::nullopt, std::nullopt};
  p.warn_before = absl::Hours(4);
  const sd::TicketTimeline t = Ticket(Berlin(1, 23, 12));  // Friday noon
  const std::vector<sd::MetricState> states = sd::Evaluate(p, t, Berlin(1, 23, 13));
  REQUIRE(states.size() == 1);
  CHECK(states[0].deadline == Berlin(1, 26, 12));
  CHECK(states[0].warn_at == Berlin(1, 23, 16));  // 4h used; deadline - 4h would be Monday 08:00
  CHECK(sd::NextDue(states, Berlin(1, 23, 13)) == Berlin(1, 23, 16));
  const std::vector<sd::MetricState> later = sd::Evaluate(p, t, Berlin(1, 23, 16, 30));
  CHECK(later[0].warn_at == Berlin(1, 23, 16));
  CHECK(sd::NextDue(later, Berlin(1, 23, 16, 30)) == Berlin(1, 26, 12));
}

TEST_CASE("NextDue is the earliest warning, deadline or escalation still ahead", "[sla][clock]") {
  sd::SlaPolicy p = OfficePolicy();
  p.escalations = {absl::Hours(2)};
  sd::TicketTimeline t = Ticket(Berlin(1, 19, 9), "urgent");
  // First reply due 10:00, periodic 13:00, resolution 17:00.
  CHECK(sd::NextDue(sd::Evaluate(p, t, Berlin(1, 19, 9, 10)), Berlin(1, 19, 9, 10)) ==
        Berlin(1, 19, 10));
  // After the first reply's breach: its escalation at 12:00 comes before
  // the periodic update's deadline at 13:00.
  CHECK(sd::NextDue(sd::Evaluate(p, t, Berlin(1, 19, 10, 30)), Berlin(1, 19, 10, 30)) ==
        Berlin(1, 19, 12));
  t.events = {Reply(Berlin(1, 19, 9, 30)), Status(Berlin(1, 19, 9, 45), "solved")};
  // Solved: every clock is stopped or fulfilled.
  CHECK_FALSE(sd::NextDue(sd::Evaluate(p, t, Berlin(1, 19, 10)), Berlin(1, 19, 10)));
  CHECK_FALSE(sd::NextDue({}, Berlin(1, 19, 10)));
}

TEST_CASE("events are taken in time order, input order breaking ties", "[sla][clock]") {
  const sd::SlaPolicy p = OfficePolicy();
  sd::TicketTimeline sorted = Ticket(Berlin(1, 19, 9));
  sorted.events = {Message(Berlin(1, 19, 9, 10)),     Reply(Berlin(1, 19, 10)),
                   Message(Berlin(1, 19, 11)),        Status(Berlin(1, 19, 12), "pending_customer"),
                   Status(Berlin(1, 19, 14), "open"), Priority(Berlin(1, 19, 15), "urgent")};
  sd::TicketTimeline shuffled = sorted;
  std::reverse(shuffled.events.begin(), shuffled.events.end());
  const absl::Time now = Berlin(1, 20, 10);
  const std::vector<sd::MetricState> a = sd::Evaluate(p, sorted, now);
  const std::vector<sd::MetricState> b = sd::Evaluate(p, shuffled, now);
  REQUIRE(a.size() == 4);
  REQUIRE(b.size() == 4);
  for (size_t i = 0; i < a.size(); ++i) CHECK(Same(a[i], b[i]));

  SECTION("ties keep the input order") {
    sd::TicketTimeline t = Ticket(Berlin(1, 19, 9));
    t.events = {Status(Berlin(1, 19, 10), "solved"), Status(Berlin(1, 19, 10), "open")};
    CHECK(Metric(sd::Evaluate(p, t, Berlin(1, 19, 11)), sd::SlaMetric::kResolution).active);
    std::swap(t.events[0], t.events[1]);
    CHECK_FALSE(Metric(sd::Evaluate(p, t, Berlin(1, 19, 11)), sd::SlaMetric::kResolution).active);
  }
  SECTION("an event before creation counts at creation, one after now is not known yet") {
    sd::TicketTimeline t = Ticket(Berlin(1, 19, 10));
    t.events = {Reply(Berlin(1, 19, 9))};
    const sd::MetricState early = FirstReply(p, t, Berlin(1, 19, 11));
    CHECK(early.fulfilled_at == Berlin(1, 19, 10));
    CHECK(early.elapsed == absl::ZeroDuration());
    t.events = {Reply(Berlin(1, 19, 12))};
    CHECK(FirstReply(p, t, Berlin(1, 19, 11)).active);
    // A `now` before creation is the creation.
    CHECK(FirstReply(p, t, Berlin(1, 19, 8)).deadline == Berlin(1, 19, 14));
  }
}

TEST_CASE("only the metrics the current priority has targets for are reported", "[sla][clock]") {
  const sd::SlaPolicy p = OfficePolicy();
  const std::vector<sd::MetricState> low =
      sd::Evaluate(p, Ticket(Berlin(1, 19, 9), "low"), Berlin(1, 19, 10));
  REQUIRE(low.size() == 2);
  CHECK(low[0].metric == sd::SlaMetric::kFirstReply);
  CHECK(low[1].metric == sd::SlaMetric::kResolution);
  CHECK(sd::Evaluate(p, Ticket(Berlin(1, 19, 9), "someday"), Berlin(1, 19, 10)).empty());
  // A priority without targets stops nothing: the cycle's time still counts
  // once a priority with targets applies again.
  sd::TicketTimeline t = Ticket(Berlin(1, 19, 9), "someday");
  t.events = {Priority(Berlin(1, 19, 12), "normal")};
  CHECK(FirstReply(p, t, Berlin(1, 19, 12, 30)).elapsed == absl::Minutes(210));
}

TEST_CASE("policies are checked with messages naming the field", "[sla][clock]") {
  sd::SlaPolicy p = OfficePolicy();
  p.escalations = {absl::Hours(1), absl::Hours(4)};
  p.warn_before = absl::Minutes(30);
  CHECK(sd::ValidateSlaPolicy(p).ok());
  p.targets_by_priority["high"].next_reply = absl::ZeroDuration();
  CHECK(sd::ValidateSlaPolicy(p).message() ==
        "policy.targets_by_priority[\"high\"].next_reply: 0; it must be a positive, finite "
        "business duration");
  p.targets_by_priority["high"].next_reply = absl::Hours(2);
  p.escalations = {absl::Hours(4), absl::Hours(1)};
  CHECK(sd::ValidateSlaPolicy(p).message() ==
        "policy.escalations[1]: 1h is not after level 1 (4h); levels are business time after "
        "the breach, increasing");
  p.escalations = {};
  p.warn_before = -absl::Minutes(5);
  CHECK(sd::ValidateSlaPolicy(p).code() == absl::StatusCode::kInvalidArgument);
}

// ---------------------------------------------------------------------------
// Regressions of SLA bugs reported against other help desks
// ---------------------------------------------------------------------------

TEST_CASE(
    "a ticket created outside business hours starts its clock at the next opening, not at "
    "creation (osTicket issue 1168)",
    "[sla][clock][regression]") {
  const sd::SlaPolicy p = OfficePolicy();
  const sd::TicketTimeline t = Ticket(Berlin(1, 24, 10));  // Saturday
  const sd::MetricState sunday = FirstReply(p, t, Berlin(1, 25, 20));
  CHECK(sunday.elapsed == absl::ZeroDuration());
  CHECK_FALSE(sunday.breached_at);
  CHECK(sunday.deadline == Berlin(1, 26, 13));
}

TEST_CASE("lunch break time does not count (osTicket issue 6847)", "[sla][clock][regression]") {
  sd::SlaPolicy p = OfficePolicy();
  p.calendar = Make(Weekdays("Europe/Berlin", {Hours(9, 13), Hours(14, 18)}));
  const sd::MetricState fr = FirstReply(p, Ticket(Berlin(1, 19, 12)), Berlin(1, 19, 13, 30));
  CHECK(fr.elapsed == absl::Hours(1));
  CHECK(fr.deadline == Berlin(1, 19, 17));
}

TEST_CASE("a holiday on a Monday pushes a Friday-afternoon deadline to Tuesday",
          "[sla][clock][regression]") {
  sd::SlaPolicy p = OfficePolicy();
  sd::BusinessCalendarSpec spec = Weekdays("Europe/Berlin", {Hours(9, 17)});
  spec.holidays = {absl::CivilDay(2026, 1, 26)};
  p.calendar = Make(spec);
  const sd::MetricState fr = FirstReply(p, Ticket(Berlin(1, 23, 16)), Berlin(1, 23, 16, 30));
  CHECK(fr.deadline == Berlin(1, 27, 12));
}

TEST_CASE("a calendar open only on Tuesdays counts Tuesdays (osTicket issue 6739)",
          "[sla][calendar][regression]") {
  sd::BusinessCalendarSpec spec;
  spec.time_zone = "Europe/Berlin";
  spec.week[1] = {Hours(8, 17)};
  const sd::BusinessCalendar cal = Make(spec);
  CHECK(cal.Add(Berlin(1, 19, 10), absl::Hours(10)) == Berlin(1, 27, 9));
  CHECK(cal.Between(Berlin(1, 1, 0), Berlin(2, 1, 0)) == absl::Hours(9 * 4));
}

TEST_CASE(
    "a calendar that is never open is refused instead of looping forever (OCA/project "
    "issue 73)",
    "[sla][calendar][regression]") {
  CHECK_FALSE(sd::BusinessCalendar::Create(EveryDay("Europe/Berlin", {})).ok());
  // Holidays closing every open day for years: no deadline within the
  // 10-year search, reported as the infinite future.
  sd::BusinessCalendarSpec spec;
  spec.time_zone = "Europe/Berlin";
  spec.week[1] = {Hours(8, 17)};
  for (int i = 0; i < 1000; ++i) spec.holidays.push_back(absl::CivilDay(2026, 1, 20) + 7 * i);
  const sd::BusinessCalendar cal = Make(spec);
  CHECK(cal.Add(Berlin(1, 19, 10), absl::Hours(1)) == absl::InfiniteFuture());
  CHECK(cal.NextOpening(Berlin(1, 19, 10)) == absl::InfiniteFuture());
  CHECK(cal.Between(Berlin(1, 19, 10), Berlin(1, 19, 10) + absl::Hours(24 * 365 * 5)) ==
        absl::ZeroDuration());
}

TEST_CASE("business time follows the DST offset of each day, not today's (dbt_zendesk issue 25)",
          "[sla][clock][regression]") {
  const absl::TimeZone ny = Zone("America/New_York");
  sd::SlaPolicy p = OfficePolicy();
  p.calendar = Make(Weekdays("America/New_York", {Hours(9, 17)}));
  // Friday 16:00 EST, first reply 4h: 1h on Friday, 3h on Monday, which is
  // already EDT: 12:00 local.
  const sd::MetricState fr =
      FirstReply(p, Ticket(At(ny, 2026, 3, 6, 16)), At(ny, 2026, 3, 6, 16, 30));
  CHECK(fr.deadline == At(ny, 2026, 3, 9, 12));
  CHECK(*fr.deadline - At(ny, 2026, 3, 6, 16) == absl::Hours(24 * 3 - 5));
}

TEST_CASE("a 24/7 SLA counts real hours across the spring-forward night",
          "[sla][clock][regression]") {
  sd::SlaPolicy p = OfficePolicy();
  sd::BusinessCalendarSpec spec;
  spec.time_zone = "Europe/Berlin";
  spec.always_open = true;
  p.calendar = Make(spec);
  const sd::MetricState res = Metric(sd::Evaluate(p, Ticket(Berlin(3, 28, 12)), Berlin(3, 28, 13)),
                                     sd::SlaMetric::kResolution);
  CHECK(res.deadline == Berlin(3, 29, 13));  // 24 real hours, 25 on the wall clock
}

// ---------------------------------------------------------------------------
// Several policies: a switch carries the time used over
// ---------------------------------------------------------------------------

namespace {

sd::SlaPolicy AlwaysPolicy(absl::Duration first_reply) {
  sd::SlaPolicy p;
  p.id = "always";
  p.targets_by_priority["normal"] = {first_reply, std::nullopt, std::nullopt, absl::Hours(48)};
  p.paused_statuses = {"pending_customer"};
  return p;
}

sd::SlaPolicy HoursPolicy(absl::Duration first_reply) {
  sd::SlaPolicy p;
  p.id = "hours";
  p.calendar = Make(Weekdays("Europe/Berlin", {Hours(9, 17)}));
  p.targets_by_priority["normal"] = {first_reply, std::nullopt, std::nullopt, absl::Hours(16)};
  p.warn_before = absl::Minutes(30);
  p.escalations = {absl::Hours(1)};
  return p;
}

sd::TicketEvent Switch(absl::Time at, const std::string& id) { return {at, Kind::kPolicy, id}; }

}  // namespace

TEST_CASE("a policy switch carries the business time used over to the new calendar",
          "[sla][policies]") {
  const sd::SlaPolicy a = AlwaysPolicy(absl::Hours(4));
  const sd::SlaPolicy b = HoursPolicy(absl::Hours(3));
  sd::TicketTimeline t = Ticket(Berlin(1, 19, 8));  // Monday 08:00, under A (24/7)
  t.policy = "always";
  t.events = {Switch(Berlin(1, 19, 10), "hours")};
  const std::vector<const sd::SlaPolicy*> both = {&a, &b};
  sd::MetricState s =
      Metric(sd::Evaluate(both, t, Berlin(1, 19, 10, 30)), sd::SlaMetric::kFirstReply);
  // 2 h under A (08:00-10:00, 24/7), then B's hours: 1 h left at 10:00.
  CHECK(s.elapsed == absl::Minutes(150));
  CHECK(s.target == absl::Hours(3));
  CHECK(s.deadline == Berlin(1, 19, 11));
  CHECK(s.warn_at == Berlin(1, 19, 10, 30));  // B's warning lead
  CHECK_FALSE(s.breached_at);
  // Without the switch, B alone would have started at 09:00: due 12:00.
  sd::TicketTimeline only_b = Ticket(Berlin(1, 19, 8));
  CHECK(FirstReply(b, only_b, Berlin(1, 19, 10, 30)).deadline == Berlin(1, 19, 12));
  // One policy: the switch event changes nothing.
  CHECK(Same(FirstReply(a, t, Berlin(1, 19, 10, 30)),
             FirstReply(a, Ticket(Berlin(1, 19, 8)), Berlin(1, 19, 10, 30))));
}

TEST_CASE("a switch to a policy whose target is used up breaches at the switch, not before",
          "[sla][policies]") {
  const sd::SlaPolicy a = AlwaysPolicy(absl::Hours(4));
  const sd::SlaPolicy b = HoursPolicy(absl::Hours(1));
  sd::TicketTimeline t = Ticket(Berlin(1, 19, 8));
  t.policy = "always";
  t.events = {Switch(Berlin(1, 19, 10), "hours")};
  const std::vector<const sd::SlaPolicy*> both = {&a, &b};
  sd::MetricState s =
      Metric(sd::Evaluate(both, t, Berlin(1, 19, 10, 30)), sd::SlaMetric::kFirstReply);
  REQUIRE(s.breached_at);
  CHECK(*s.breached_at == Berlin(1, 19, 10));  // 2 h used > 1 h: at the switch
  // B's escalation: 1 h of B's business time after the breach.
  CHECK(s.escalation_level == 0);
  CHECK(s.next_escalation_at == Berlin(1, 19, 11));
  s = Metric(sd::Evaluate(both, t, Berlin(1, 19, 11, 30)), sd::SlaMetric::kFirstReply);
  CHECK(s.escalation_level == 1);
  // Before the switch the ticket was within A's target: no breach then.
  s = Metric(sd::Evaluate(both, t, Berlin(1, 19, 9, 59)), sd::SlaMetric::kFirstReply);
  CHECK_FALSE(s.breached_at);
  CHECK(s.deadline == Berlin(1, 19, 12));  // A's 4 h, 24/7
}

TEST_CASE("each stretch pauses in its own policy's statuses", "[sla][policies]") {
  const sd::SlaPolicy a = AlwaysPolicy(absl::Hours(4));  // pauses pending_customer
  sd::SlaPolicy b = HoursPolicy(absl::Hours(3));         // pauses nothing
  b.paused_statuses.clear();
  sd::TicketTimeline t = Ticket(Berlin(1, 19, 8));
  t.policy = "always";
  t.events = {Status(Berlin(1, 19, 9), "pending_customer"), Switch(Berlin(1, 19, 10), "hours")};
  const std::vector<const sd::SlaPolicy*> both = {&a, &b};
  sd::MetricState s = Metric(sd::Evaluate(both, t, Berlin(1, 19, 11)), sd::SlaMetric::kFirstReply);
  // 1 h under A (paused from 09:00), then B counts pending time: 1 h more.
  CHECK_FALSE(s.paused);
  CHECK(s.elapsed == absl::Hours(2));
  CHECK(s.deadline == Berlin(1, 19, 12));
  // An unknown policy id keeps the policy before; an unknown creation
  // policy is the first listed.
  sd::TicketTimeline odd = Ticket(Berlin(1, 19, 8));
  odd.policy = "gone";
  odd.events = {Switch(Berlin(1, 19, 10), "also-gone")};
  CHECK(Same(Metric(sd::Evaluate(both, odd, Berlin(1, 19, 11)), sd::SlaMetric::kFirstReply),
             FirstReply(a, Ticket(Berlin(1, 19, 8)), Berlin(1, 19, 11))));
  CHECK(sd::Evaluate(std::vector<const sd::SlaPolicy*>{}, t, Berlin(1, 19, 11)).empty());
}
