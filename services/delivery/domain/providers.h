#pragma once
// SMS and push through a provider's HTTP API (docs/delivery.md, "SMS and
// push"): one adapter shape for every provider — the tenant's settings turn
// a message into one HTTP request, and the provider's answer into a
// SendResult. Pure: the HTTP call itself is channels/.
//
// Providers spoken:
//   SMS  twilio     POST {base}/2010-04-01/Accounts/{account}/Messages.json,
//                   form-encoded To/From (or MessagingServiceSid)/Body,
//                   HTTP Basic account:secret.
//   push onesignal  POST {base}/notifications, JSON {app_id, target_channel
//                   "push", include_aliases.external_id [customer id],
//                   headings/contents, idempotency_key = our message id},
//                   "Authorization: Key <secret>". The provider keeps the
//                   devices; we address the customer by our customer id.
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "services/delivery/domain/message.h"

namespace crm::delivery::domain {

//   email mailgun   sends nothing (mail goes over SMTP): its signed event
//                   webhooks report bounces and complaints
//                   (domain/email_events.h).
enum class ProviderKind { kTwilio, kOneSignal, kMailgun };
absl::string_view ProviderKindName(ProviderKind k);  // "twilio", "onesignal", "mailgun"
std::optional<ProviderKind> ProviderKindFromName(absl::string_view name);
// The channel a provider kind serves (twilio: SMS, onesignal: push,
// mailgun: email).
Channel ProviderChannel(ProviderKind k);
// The provider's public API (a tenant may point base_url elsewhere, e.g. a
// regional edge or, in tests, a local server the operator allowed).
absl::string_view DefaultProviderBaseUrl(ProviderKind k);

// A tenant's provider for one channel. The secret is plain only in memory
// (sealed at rest, never logged, never answered).
struct ProviderSettings {
  Channel channel = Channel::kSms;
  ProviderKind kind = ProviderKind::kTwilio;
  std::string base_url;  // "" : DefaultProviderBaseUrl
  std::string account;   // twilio: the account SID; onesignal: the app id; mailgun: the domain
  std::string sender;    // twilio: an E.164 number or a messaging service SID (MG...)
  std::string secret;    // twilio: the auth token; onesignal: the REST API key; mailgun: the
                         // webhook signing key
  int64_t version = 0;
  absl::Time update_time = absl::InfinitePast();
};

// INVALID_ARGUMENT (INVALID_FIELD naming the field) for settings that
// cannot work: a kind of another channel, a malformed account or sender,
// a missing secret (unless `secret_required` is false: an update that keeps
// the stored one). The base URL's address is checked by the caller.
absl::Status ValidateProviderSettings(const ProviderSettings& s, bool secret_required = true);

// E.164: "+" and 7..15 digits, the first not 0.
bool ValidPhoneNumber(absl::string_view phone);

// What one message says on the channel (the rendered template's parts).
struct Notification {
  std::string message_id;  // ours: onesignal's idempotency_key
  std::string recipient;   // SMS: the phone number; push: our customer id
  std::string text;        // SMS
  std::string title;       // push
  std::string body;        // push
  // SMS: where the provider reports delivery ("" for no receipts).
  std::string status_callback_url;
};

struct ProviderRequest {
  std::string url;
  std::vector<std::string> headers;  // "Name: value" (one is the credential: never log them)
  std::string body;
};
ProviderRequest BuildProviderRequest(const ProviderSettings& s, const Notification& n);

// The provider's answer: 2xx with its id → delivered (provider_id); 429 and
// 5xx → transient (Retry-After honoured); a refused recipient → `refused`
// (invalid_address, or consent for an SMS recipient who replied STOP);
// 401/403 → transient (the credentials are the operator's to fix: retried
// until the attempts are spent); other 4xx → permanent.
SendResult ReadProviderReply(ProviderKind kind, int http_status, absl::string_view body,
                             absl::Duration retry_after);

// Delivery receipts (docs/delivery.md, "Delivery receipts"). Twilio POSTs
// a form to the StatusCallback URL we send with each SMS, signed with the
// account's auth token: X-Twilio-Signature = base64(HMAC-SHA1(token, the
// URL followed by every parameter's name and value, sorted by name)).
using Form = std::vector<std::pair<std::string, std::string>>;
// application/x-www-form-urlencoded; nullopt when malformed.
std::optional<Form> ParseForm(absl::string_view body);
std::string TwilioSignature(absl::string_view auth_token, absl::string_view url, Form form);

struct StatusReport {
  Receipt receipt = Receipt::kNone;  // kNone: an interim status (queued, sent, ...)
  std::string detail;                // "30003: Unreachable destination handset", ...
};
StatusReport ReadTwilioStatus(const Form& form);

// The message after a report: the first final receipt is kept, later ones
// change nothing; the events to emit ("message.delivered" or
// "message.bounced", once per message).
std::vector<std::string> RecordReceipt(Message& m, const StatusReport& r, absl::Time now);

}  // namespace crm::delivery::domain
