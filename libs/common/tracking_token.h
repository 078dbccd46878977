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
// status callback), "v" (a satisfaction survey of the service desk: the
// message is the survey); tenant and message:
// UUIDs; link: the link's index in the message (0..999, clicks only), the
// survey's kind (surveys: 0 CSAT, 1 NPS), "0" otherwise; expiry: unix seconds. Every part is
// URL-safe as it is.
#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace crm::common {

// kStatus: a provider's status callback about a sent message (an SMS
// delivery receipt), a URL we hand the provider with the message.
// kSurvey: the service desk's satisfaction survey (docs/service-desk.md,
// "Satisfaction"), answered once through its link.
enum class TrackingAction { kOpen, kClick, kUnsubscribe, kStatus, kSurvey };

inline constexpr int kMaxTrackedLinks = 1000;  // link indices 0..999
inline constexpr std::size_t kMaxTrackingTokenBytes = 256;

struct TrackingClaims {
  TrackingAction action = TrackingAction::kOpen;
  std::string tenant_id;                          // UUID
  std::string message_id;                         // UUID
  int link = 0;  // kClick: 0..kMaxTrackedLinks-1; kSurvey: 0 CSAT, 1 NPS
  absl::Time expire_time = absl::InfinitePast();  // whole seconds
};

// Whether `url` may be a link handed to people: https://, or http:// on
// loopback only (localhost, 127.0.0.0/8, [::1]).
bool IsLinkUrl(absl::string_view url);
// The base of the links the gateway serves (tracking links, surveys), read
// from the environment variable `name` ("" when unset): trailing slashes
// dropped; INVALID_ARGUMENT naming it for one that is not IsLinkUrl or has
// a query, a fragment, quotes or spaces.
absl::StatusOr<std::string> LinkBaseUrl(const char* name);

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
