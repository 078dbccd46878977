#pragma once
// Bounces and complaints of email (docs/delivery.md, "Bounces and
// complaints"). Mail goes out over SMTP; what happened to it afterwards
// comes from the tenant's email service as signed HTTP events. Spoken:
// Mailgun's event webhooks (which several relays copy), one JSON event per
// POST, signed with the account's webhook signing key:
//   {"signature": {"timestamp": "1700000000", "token": "<random>",
//                  "signature": hex(HMAC-SHA256(key, timestamp + token))},
//    "event-data": {"event": "delivered" | "failed" | "complained" | ...,
//                   "severity": "permanent" | "temporary",
//                   "recipient": "ada@example.com",
//                   "message": {"headers": {"message-id": "<our id>@<domain>"}},
//                   "delivery-status": {"code": 550, "message": "...",
//                                       "description": "..."}}}
// Pure: the HTTP side is the gateway's, the effects the app's.
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace crm::delivery::domain {

enum class EmailEventKind {
  kOther,       // accepted, opened, a temporary failure (the relay retries): nothing to do
  kDelivered,   // the receiving server took it
  kBounced,     // a permanent failure: the address does not take mail
  kComplained,  // the recipient marked it as spam
};

struct EmailEvent {
  EmailEventKind kind = EmailEventKind::kOther;
  std::string message_id;  // ours: the UUID of our Message-ID; "" for mail that is not ours
  std::string recipient;   // lower-cased
  std::string detail;      // "550 5.1.1 mailbox unavailable", "complaint", ...
};

// How far an event's timestamp may lie from now (a replayed old event is
// refused).
inline constexpr absl::Duration kEmailEventWindow = absl::Minutes(15);

// hex(HMAC-SHA256(signing_key, timestamp + token)).
std::string MailgunSignature(absl::string_view signing_key, absl::string_view timestamp,
                             absl::string_view token);

// PERMISSION_DENIED when the event is not signed with `signing_key` or its
// timestamp is more than kEmailEventWindow from `now`; INVALID_ARGUMENT
// (MALFORMED_BODY) when the body is not such an event.
absl::StatusOr<EmailEvent> ReadMailgunEvent(absl::string_view body, absl::string_view signing_key,
                                            absl::Time now);

}  // namespace crm::delivery::domain
