#include "services/delivery/domain/policy.h"

#include <set>
#include <utility>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "libs/common/errors.h"
#include "libs/common/time_zone.h"

namespace crm::delivery::domain {

absl::StatusOr<int> ParseClock(absl::string_view text) {
  int h = 0;
  int m = 0;
  if (text.size() != 5 || text[2] != ':' || !absl::SimpleAtoi(text.substr(0, 2), &h) ||
      !absl::SimpleAtoi(text.substr(3, 2), &m) || h < 0 || h > 23 || m < 0 || m > 59 ||
      text[0] == '+' || text[3] == '+' || text[0] == '-' || text[3] == '-') {
    return absl::InvalidArgumentError(absl::StrCat("\"", text, "\" is not a time HH:MM"));
  }
  return h * 60 + m;
}

std::string FormatClock(int minute) {
  return absl::StrFormat("%02d:%02d", minute / 60, minute % 60);
}

absl::Status ValidatePolicy(const DeliveryPolicy& p) {
  if (p.caps.size() > kMaxCaps) {
    return common::InvalidField("frequency_caps", "at most 10 frequency caps");
  }
  std::set<std::pair<Channel, int64_t>> seen;
  for (const FrequencyCap& c : p.caps) {
    if (c.max_messages < 1 || c.max_messages > 1000) {
      return common::InvalidField("frequency_caps.max_messages", "max_messages is 1..1000");
    }
    if (c.window < absl::Hours(1) || c.window > absl::Hours(24 * 90)) {
      return common::InvalidField("frequency_caps.window_seconds",
                                  "window_seconds is 3600 (1 hour) .. 7776000 (90 days)");
    }
    if (!seen.insert({c.channel, absl::ToInt64Seconds(c.window)}).second) {
      return common::InvalidField("frequency_caps",
                                  "one cap per channel and window: merge the duplicates");
    }
  }
  if (p.attribution.window < absl::Hours(1) || p.attribution.window > kMaxAttributionWindow) {
    return common::InvalidField("attribution.window_seconds",
                                "window_seconds is 3600 (1 hour) .. 7776000 (90 days)");
  }
  if (p.quiet_hours) {
    if (p.quiet_hours->start_minute == p.quiet_hours->end_minute) {
      return common::InvalidField("quiet_hours", "quiet_hours start and end must differ");
    }
    absl::TimeZone tz;
    if (!common::LoadZone(p.quiet_hours->default_time_zone, &tz)) {
      return common::InvalidField(
          "quiet_hours.default_time_zone",
          absl::StrCat("\"", p.quiet_hours->default_time_zone, "\" is not an IANA time zone"));
    }
  }
  return absl::OkStatus();
}

std::vector<FrequencyCap> CapsFor(const std::vector<FrequencyCap>& caps, Channel channel) {
  std::vector<FrequencyCap> out;
  for (const FrequencyCap& c : caps) {
    if (c.channel == channel) out.push_back(c);
  }
  return out;
}

std::optional<absl::Time> QuietUntil(absl::Time now, const std::string& zone, const QuietHours& q) {
  absl::TimeZone tz;
  if (zone.empty() || !common::LoadZone(zone, &tz)) {
    if (!common::LoadZone(q.default_time_zone, &tz)) tz = absl::UTCTimeZone();
  }
  const absl::CivilSecond local = absl::ToCivilSecond(now, tz);
  const int minute = local.hour() * 60 + local.minute();
  const bool wraps = q.start_minute > q.end_minute;
  const bool quiet = wraps ? (minute >= q.start_minute || minute < q.end_minute)
                           : (minute >= q.start_minute && minute < q.end_minute);
  if (!quiet) return std::nullopt;
  absl::CivilDay day = absl::CivilDay(local);
  // Past the start on a span over midnight: the quiet ends tomorrow.
  if (wraps && minute >= q.start_minute) day += 1;
  const absl::CivilSecond end(day.year(), day.month(), day.day(), q.end_minute / 60,
                              q.end_minute % 60, 0);
  const absl::TimeZone::TimeInfo info = tz.At(end);
  if (info.kind == absl::TimeZone::TimeInfo::SKIPPED) return info.trans;
  return info.pre;
}

}  // namespace crm::delivery::domain
