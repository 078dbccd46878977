#include "services/delivery/domain/policy.h"

#include <catch2/catch.hpp>

#include "libs/common/errors.h"

namespace {
using crm::delivery::domain::Channel;
using crm::delivery::domain::DeliveryPolicy;
using crm::delivery::domain::FormatClock;
using crm::delivery::domain::FrequencyCap;
using crm::delivery::domain::ParseClock;
using crm::delivery::domain::QuietHours;
using crm::delivery::domain::QuietUntil;
using crm::delivery::domain::ValidatePolicy;

absl::Time At(const char* zone, int y, int mo, int d, int h, int mi) {
  absl::TimeZone tz;
  REQUIRE(absl::LoadTimeZone(zone, &tz));
  return absl::FromCivil(absl::CivilSecond(y, mo, d, h, mi, 0), tz);
}
}  // namespace

TEST_CASE("Clock times are HH:MM") {
  CHECK(*ParseClock("00:00") == 0);
  CHECK(*ParseClock("21:30") == 21 * 60 + 30);
  CHECK(*ParseClock("23:59") == 23 * 60 + 59);
  for (const char* bad : {"24:00", "7:00", "07:60", "0700", "07:0a", "", "-1:00", "+7:00"}) {
    CHECK_FALSE(ParseClock(bad).ok());
  }
  CHECK(FormatClock(8 * 60 + 5) == "08:05");
}

TEST_CASE("A policy is checked field by field") {
  DeliveryPolicy p;
  p.caps = {{Channel::kEmail, 3, absl::Hours(24 * 7)}, {Channel::kEmail, 1, absl::Hours(24)}};
  p.quiet_hours = QuietHours{21 * 60, 8 * 60, "Europe/Zurich"};
  CHECK(ValidatePolicy(p).ok());
  DeliveryPolicy dup = p;
  dup.caps.push_back({Channel::kEmail, 5, absl::Hours(24)});
  CHECK(crm::common::FieldOf(ValidatePolicy(dup)) == "frequency_caps");
  DeliveryPolicy zero = p;
  zero.caps[0].max_messages = 0;
  CHECK(crm::common::FieldOf(ValidatePolicy(zero)) == "frequency_caps.max_messages");
  DeliveryPolicy short_window = p;
  short_window.caps[0].window = absl::Minutes(59);
  CHECK(crm::common::FieldOf(ValidatePolicy(short_window)) == "frequency_caps.window_seconds");
  DeliveryPolicy long_window = p;
  long_window.caps[0].window = absl::Hours(24 * 91);
  CHECK_FALSE(ValidatePolicy(long_window).ok());
  DeliveryPolicy zone = p;
  zone.quiet_hours->default_time_zone = "Mars/Olympus";
  CHECK(crm::common::FieldOf(ValidatePolicy(zone)) == "quiet_hours.default_time_zone");
  DeliveryPolicy same = p;
  same.quiet_hours->end_minute = same.quiet_hours->start_minute;
  CHECK(crm::common::FieldOf(ValidatePolicy(same)) == "quiet_hours");
  DeliveryPolicy many;
  for (int i = 0; i < 11; ++i) many.caps.push_back({Channel::kEmail, 1, absl::Hours(1 + i)});
  CHECK(crm::common::FieldOf(ValidatePolicy(many)) == "frequency_caps");
}

TEST_CASE("Quiet hours over midnight defer to their end in the customer's zone") {
  const QuietHours q{21 * 60, 8 * 60, "UTC"};
  // 22:30 in Zurich: quiet until 08:00 the next morning, Zurich time.
  auto until = QuietUntil(At("Europe/Zurich", 2026, 3, 10, 22, 30), "Europe/Zurich", q);
  REQUIRE(until.has_value());
  CHECK(*until == At("Europe/Zurich", 2026, 3, 11, 8, 0));
  // 03:00: until 08:00 the same day.
  CHECK(*QuietUntil(At("Europe/Zurich", 2026, 3, 11, 3, 0), "Europe/Zurich", q) ==
        At("Europe/Zurich", 2026, 3, 11, 8, 0));
  // 08:00 sharp and 20:59: not quiet; 21:00 sharp: quiet.
  CHECK_FALSE(QuietUntil(At("Europe/Zurich", 2026, 3, 11, 8, 0), "Europe/Zurich", q));
  CHECK_FALSE(QuietUntil(At("Europe/Zurich", 2026, 3, 11, 20, 59), "Europe/Zurich", q));
  CHECK(QuietUntil(At("Europe/Zurich", 2026, 3, 11, 21, 0), "Europe/Zurich", q));
  // The same instant is the afternoon in New York (and 06:30, still quiet, in Tokyo).
  CHECK_FALSE(QuietUntil(At("Europe/Zurich", 2026, 3, 10, 22, 30), "America/New_York", q));
  CHECK(QuietUntil(At("Europe/Zurich", 2026, 3, 10, 22, 30), "Asia/Tokyo", q));
  // No zone (or an unknown one): the policy's default.
  CHECK(*QuietUntil(At("UTC", 2026, 3, 10, 23, 0), "", q) == At("UTC", 2026, 3, 11, 8, 0));
  CHECK(*QuietUntil(At("UTC", 2026, 3, 10, 23, 0), "Nowhere/Land", q) ==
        At("UTC", 2026, 3, 11, 8, 0));
}

TEST_CASE("Quiet hours within a day, and across DST changes") {
  const QuietHours lunch{12 * 60, 14 * 60, "UTC"};
  CHECK(*QuietUntil(At("UTC", 2026, 6, 1, 12, 0), "", lunch) == At("UTC", 2026, 6, 1, 14, 0));
  CHECK_FALSE(QuietUntil(At("UTC", 2026, 6, 1, 14, 0), "", lunch));
  CHECK_FALSE(QuietUntil(At("UTC", 2026, 6, 1, 11, 59), "", lunch));
  // Night of 28-29 March 2026 in Zurich: 02:00 -> 03:00. Quiet 21:00-08:00:
  // the end is 08:00 CEST, 7 hours (not 8) after midnight UTC+1.
  const QuietHours night{21 * 60, 8 * 60, "UTC"};
  auto until = QuietUntil(At("Europe/Zurich", 2026, 3, 28, 23, 0), "Europe/Zurich", night);
  CHECK(*until == At("Europe/Zurich", 2026, 3, 29, 8, 0));
  CHECK(*until - At("Europe/Zurich", 2026, 3, 28, 23, 0) == absl::Hours(8));
  // An end inside the skipped hour is the transition itself.
  const QuietHours gap{1 * 60, 2 * 60 + 30, "UTC"};
  auto skipped = QuietUntil(At("Europe/Zurich", 2026, 3, 29, 1, 30), "Europe/Zurich", gap);
  REQUIRE(skipped.has_value());
  CHECK(*skipped == At("UTC", 2026, 3, 29, 1, 0));  // 03:00 CEST
}

TEST_CASE("Caps apply per channel") {
  std::vector<FrequencyCap> caps = {{Channel::kEmail, 3, absl::Hours(24)},
                                    {Channel::kWebhook, 5, absl::Hours(1)}};
  CHECK(crm::delivery::domain::CapsFor(caps, Channel::kEmail).size() == 1);
  CHECK(crm::delivery::domain::CapsFor(caps, Channel::kWebhook)[0].max_messages == 5);
}
