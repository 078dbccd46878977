#pragma once
// Tracking links of delivered messages (docs/delivery.md, "Tracking"): the
// open pixel, a click on a link of the message and the unsubscribe link are
// URLs of the gateway that carry a token naming what to record. Delivery
// makes the tokens when it sends; the gateway, which serves the links
// without an API key, checks them before it forwards anything, and delivery
// checks them again. The token is signed with HMAC-SHA256 under a key
// derived (HKDF) from the deployment's CRM_CONTEXT_KEY for this one use, so
// nobody can forge one, move one to another tenant or message, point a click
// at another link or stretch its expiry:
//
//   token = "t1." action "." tenant "." message "." link "." expiry "."
//           base64url(first 16 bytes of HMAC(key, everything before it))
//
// action: "o" (open), "c" (click), "u" (unsubscribe), "s" (a provider's
// status callback); tenant and message:
// UUIDs; link: the link's index in the message (0..999, clicks only; "0"
// otherwise); expiry: unix seconds. Every part is URL-safe as it is.
#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace crm::common {

// kStatus: a provider's status callback about a sent message (an SMS
// delivery receipt), a URL we hand the provider with the message.
enum class TrackingAction { kOpen, kClick, kUnsubscribe, kStatus };

inline constexpr int kMaxTrackedLinks = 1000;  // link indices 0..999
inline constexpr std::size_t kMaxTrackingTokenBytes = 256;

struct TrackingClaims {
  TrackingAction action = TrackingAction::kOpen;
  std::string tenant_id;                          // UUID
  std::string message_id;                         // UUID
  int link = 0;                                   // kClick: 0..kMaxTrackedLinks-1
  absl::Time expire_time = absl::InfinitePast();  // whole seconds
};

// The tracking-link key of a deployment's context key.
std::string TrackingKey(absl::string_view context_key);

std::string SignTrackingToken(absl::string_view key, const TrackingClaims& c);

// NOT_FOUND (TRACKING_LINK_INVALID): the one answer to a link that is not
// valid, whatever the cause.
absl::Status TrackingLinkInvalid();

// The claims of a current token signed with `key`; NOT_FOUND
// (TRACKING_LINK_INVALID) for anything else: malformed, altered, signed
// with another key, or expired. One answer for all, so a probe learns
// nothing from it.
absl::StatusOr<TrackingClaims> VerifyTrackingToken(absl::string_view key, absl::string_view token,
                                                   absl::Time now);

}  // namespace crm::common
