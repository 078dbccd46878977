#include "services/delivery/domain/message.h"

#include <algorithm>
#include <array>
#include <utility>

#include "services/delivery/domain/backoff.h"

namespace crm::delivery::domain {
namespace {

template <typename E, size_t N>
std::optional<E> FromName(const std::array<std::pair<E, absl::string_view>, N>& names,
                          absl::string_view name) {
  for (const auto& [value, n] : names) {
    if (n == name) return value;
  }
  return std::nullopt;
}
template <typename E, size_t N>
absl::string_view NameOf(const std::array<std::pair<E, absl::string_view>, N>& names, E e) {
  for (const auto& [value, n] : names) {
    if (value == e) return n;
  }
  return "";
}

constexpr std::array<std::pair<Channel, absl::string_view>, 4> kChannels{
    {{Channel::kEmail, "email"},
     {Channel::kWebhook, "webhook"},
     {Channel::kSms, "sms"},
     {Channel::kPush, "push"}}};
constexpr std::array<std::pair<Purpose, absl::string_view>, 2> kPurposes{
    {{Purpose::kTransactional, "transactional"}, {Purpose::kMarketing, "marketing"}}};
constexpr std::array<std::pair<State, absl::string_view>, 8> kStates{
    {{State::kQueued, "queued"},
     {State::kSending, "sending"},
     {State::kRetrying, "retrying"},
     {State::kSent, "sent"},
     {State::kSuppressed, "suppressed"},
     {State::kFailed, "failed"},
     {State::kUnknown, "unknown"},
     {State::kCancelled, "cancelled"}}};
constexpr std::array<std::pair<Suppression, absl::string_view>, 7> kSuppressions{
    {{Suppression::kNone, ""},
     {Suppression::kConsent, "consent"},
     {Suppression::kInvalidAddress, "invalid_address"},
     {Suppression::kCustomerGone, "customer_gone"},
     {Suppression::kFrequencyCap, "frequency_cap"},
     {Suppression::kHoldout, "holdout"},
     {Suppression::kGoalReached, "goal_reached"}}};

constexpr std::array<std::pair<Receipt, absl::string_view>, 3> kReceipts{
    {{Receipt::kNone, ""}, {Receipt::kDelivered, "delivered"}, {Receipt::kBounced, "bounced"}}};

}  // namespace

absl::string_view ReceiptName(Receipt r) { return NameOf(kReceipts, r); }
std::optional<Receipt> ReceiptFromName(absl::string_view n) { return FromName(kReceipts, n); }
absl::string_view ChannelName(Channel c) { return NameOf(kChannels, c); }
std::optional<Channel> ChannelFromName(absl::string_view n) { return FromName(kChannels, n); }
absl::string_view PurposeName(Purpose p) { return NameOf(kPurposes, p); }
std::optional<Purpose> PurposeFromName(absl::string_view n) { return FromName(kPurposes, n); }
absl::string_view StateName(State s) { return NameOf(kStates, s); }
std::optional<State> StateFromName(absl::string_view n) { return FromName(kStates, n); }
absl::string_view SuppressionName(Suppression s) { return NameOf(kSuppressions, s); }
std::optional<Suppression> SuppressionFromName(absl::string_view n) {
  return FromName(kSuppressions, n);
}

bool IsFinal(State s) {
  return s == State::kSent || s == State::kSuppressed || s == State::kFailed ||
         s == State::kUnknown || s == State::kCancelled;
}
bool IsReplayable(State s) { return s == State::kFailed || s == State::kUnknown; }

bool ConsentAllows(Purpose purpose, ConsentStatus status) {
  if (purpose == Purpose::kMarketing) return status == ConsentStatus::kOptedIn;
  return status != ConsentStatus::kOptedOut;
}

void ApplyFailure(Message& m, const SendResult& r, absl::Time now, const RetryPolicy& policy,
                  double jitter) {
  m.last_error = r.detail;
  m.update_time = now;
  if (r.outcome == Outcome::kPermanent || m.attempts >= m.max_attempts) {
    m.state = State::kFailed;
    m.next_attempt_time.reset();
    return;
  }
  const absl::Duration wait =
      std::max(RetryDelay(m.attempts, policy.base, policy.cap, jitter), r.retry_after);
  m.state = State::kRetrying;
  m.next_attempt_time = now + wait;
}

bool ProviderDeduplicates(Channel c) {
  // Webhooks carry the message id as Idempotency-Key, push as the
  // provider's idempotency_key; SMTP and the SMS API have none.
  return c == Channel::kWebhook || c == Channel::kPush;
}

void ApplyLostClaim(Message& m, absl::Time now, bool send_started) {
  m.update_time = now;
  if (!ProviderDeduplicates(m.channel) && send_started) {
    // No idempotency key: the message may have been accepted.
    m.state = State::kUnknown;
    m.last_error = "the sender stopped during the attempt; it may have been delivered";
    m.next_attempt_time.reset();
    return;
  }
  // The receiver drops the second copy of one it already has.
  m.state = m.attempts >= m.max_attempts ? State::kFailed : State::kRetrying;
  m.last_error = send_started ? "the sender stopped during the attempt"
                              : "the sender stopped before the attempt's send";
  if (m.state == State::kRetrying) {
    m.next_attempt_time = now;
  } else {
    m.next_attempt_time.reset();
  }
}

}  // namespace crm::delivery::domain
