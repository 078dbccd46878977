#pragma once
// A tenant's rules for marketing messages at the moment of sending
// (docs/delivery.md, "Frequency caps and quiet hours"): at most N messages
// per customer and channel in a sliding window, across every campaign and
// message (checked atomically with the claim: storage/pg_delivery_repository),
// and quiet hours in the customer's time zone, which defer a message to
// their end rather than drop it. Transactional messages bypass both.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "services/delivery/domain/attribution.h"
#include "services/delivery/domain/message.h"

namespace crm::delivery::domain {

struct FrequencyCap {
  Channel channel = Channel::kEmail;
  int max_messages = 3;
  absl::Duration window = absl::Hours(24 * 7);
};

struct QuietHours {
  int start_minute = 21 * 60;             // local minute of the day the quiet starts (inclusive)
  int end_minute = 8 * 60;                // ... and ends (exclusive); start > end spans midnight
  std::string default_time_zone = "UTC";  // for customers without one (IANA)
};

struct DeliveryPolicy {
  std::vector<FrequencyCap> caps;
  std::optional<QuietHours> quiet_hours;
  AttributionPolicy attribution;
  int64_t version = 0;  // 0: never written
  std::optional<absl::Time> update_time;
};

inline constexpr size_t kMaxCaps = 10;

// "HH:MM" (00:00..23:59) -> minute of the day.
absl::StatusOr<int> ParseClock(absl::string_view text);
std::string FormatClock(int minute);

// INVALID_ARGUMENT naming the field: at most 10 caps, max_messages
// 1..1000, window 1 hour..90 days, one cap per channel and window, quiet
// hours start != end, a time zone IANA knows.
absl::Status ValidatePolicy(const DeliveryPolicy& p);

// The caps of one channel.
std::vector<FrequencyCap> CapsFor(const std::vector<FrequencyCap>& caps, Channel channel);

// nullopt when `now` is outside the quiet hours in `zone` (the customer's,
// else the policy's default; an unknown zone counts as the default); else
// the instant they end there (a local end time that a DST change skips
// is the transition itself).
std::optional<absl::Time> QuietUntil(absl::Time now, const std::string& zone, const QuietHours& q);

}  // namespace crm::delivery::domain
