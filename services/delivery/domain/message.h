#pragma once
// A message of the delivery engine and the rules of its life in the send
// ledger (docs/delivery.md, "Exactly once"): queued → sending (claimed) →
// sent | retrying | suppressed | failed; a claim whose sender vanished
// becomes retrying (channels whose provider deduplicates by our key) or
// unknown (email: never sent blindly again).
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace crm::delivery::domain {

enum class Channel { kEmail, kWebhook, kSms, kPush };
enum class Purpose { kTransactional, kMarketing };
enum class State {
  kQueued,
  kSending,
  kRetrying,
  kSent,
  kSuppressed,
  kFailed,
  kUnknown,
  kCancelled
};
// kGoalReached: a triggered message made pointless before it was due (an
// abandoned-cart reminder whose customer ordered meanwhile).
enum class Suppression {
  kNone,
  kConsent,
  kInvalidAddress,
  kCustomerGone,
  kFrequencyCap,
  kHoldout,
  kGoalReached
};
// What the provider reported after it accepted a sent message (a delivery
// receipt: docs/delivery.md, "Delivery receipts").
enum class Receipt { kNone, kDelivered, kBounced };

absl::string_view ChannelName(Channel c);  // "email", "webhook", "sms", "push"
std::optional<Channel> ChannelFromName(absl::string_view name);
absl::string_view PurposeName(Purpose p);  // "transactional", "marketing"
std::optional<Purpose> PurposeFromName(absl::string_view name);
absl::string_view StateName(State s);  // "queued", "sending", ...
std::optional<State> StateFromName(absl::string_view name);
absl::string_view SuppressionName(Suppression s);  // "", "consent", "invalid_address", ...
std::optional<Suppression> SuppressionFromName(absl::string_view name);
absl::string_view ReceiptName(Receipt r);  // "", "delivered", "bounced"
std::optional<Receipt> ReceiptFromName(absl::string_view name);

// Final states: the sweeper and the senders never touch them again.
bool IsFinal(State s);
// Failed (a dead letter) and unknown messages may be replayed.
bool IsReplayable(State s);

struct Message {
  std::string id;
  std::string customer_id;
  Channel channel = Channel::kEmail;
  Purpose purpose = Purpose::kTransactional;
  std::string template_id;
  std::string locale;
  std::string endpoint_id;  // webhook
  int offer_count = 0;
  State state = State::kQueued;
  Suppression suppression = Suppression::kNone;
  int attempts = 0;
  int max_attempts = 8;
  std::string last_error;
  std::string recipient;
  std::string provider_id;
  std::vector<std::string> decision_ids;
  std::vector<std::string> offer_ids;  // the offers of decision_ids (attribution by offer)
  std::string request_id;
  std::string campaign_id;  // "" for a message of its own
  std::string variant_id;   // the campaign's A/B variant ("" in the holdout)
  // A mail of the service desk (no template): its ticket and the desk's id
  // of the mail, whose content is read from the desk when it is sent.
  std::string ticket_id;
  std::string ticket_mail_id;
  absl::Time create_time = absl::InfinitePast();
  absl::Time update_time = absl::InfinitePast();
  std::optional<absl::Time> next_attempt_time;
  std::optional<absl::Time> send_time;
  // Tracking (email): the original URLs of the click links, by index, and
  // what the recipient did (domain/tracking.h).
  std::vector<std::string> links;
  int open_count = 0;
  int click_count = 0;
  std::optional<absl::Time> first_open_time;
  std::optional<absl::Time> first_click_time;
  std::optional<absl::Time> last_open_time;
  std::optional<absl::Time> last_click_time;
  std::optional<absl::Time> unsubscribe_time;
  // The provider's delivery receipt: the first final one counts.
  Receipt receipt = Receipt::kNone;
  std::optional<absl::Time> receipt_time;
  std::string receipt_detail;  // a bounce's error code and words
};

// A customer's newest consent status for (channel, purpose).
enum class ConsentStatus { kUnknown, kOptedIn, kOptedOut, kPending };
// Marketing needs an opt-in (a pending double opt-in is not one);
// transactional messages go unless the customer opted out of them.
bool ConsentAllows(Purpose purpose, ConsentStatus status);

// What a provider call came to.
enum class Outcome { kDelivered, kTransient, kPermanent };
struct SendResult {
  Outcome outcome = Outcome::kDelivered;
  std::string detail;       // the provider's answer, for last_error
  std::string provider_id;  // e.g. the email's Message-ID
  // A provider's Retry-After: the next attempt not before it.
  absl::Duration retry_after = absl::ZeroDuration();
  // The provider refused the recipient for good (an invalid or
  // unsubscribed number, a customer without a subscribed device): the
  // message is suppressed for this reason rather than failed.
  Suppression refused = Suppression::kNone;
};

struct RetryPolicy {
  absl::Duration base = absl::Seconds(2);
  absl::Duration cap = absl::Minutes(30);
};

// The row after a failed attempt `m.attempts` (already counted at the
// claim): retrying after the back-off (the provider's Retry-After when
// longer), or failed when the failure is permanent or the attempts are
// spent. `jitter` in [0, 1).
void ApplyFailure(Message& m, const SendResult& r, absl::Time now, const RetryPolicy& policy,
                  double jitter);
// Whether the channel's provider drops a second copy of a message it
// already has (it carries our message id as its idempotency key): a lost
// claim may then be retried; otherwise it becomes unknown.
bool ProviderDeduplicates(Channel c);
// The row after a claim whose sender stopped before finishing it.
// `send_started`: the provider call had begun (email and SMS mark it just
// before): without an idempotency key such a row is unknown; any other is
// retried (the claim's attempt counts).
void ApplyLostClaim(Message& m, absl::Time now, bool send_started);

}  // namespace crm::delivery::domain
