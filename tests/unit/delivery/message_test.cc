#include "services/delivery/domain/message.h"

#include <catch2/catch.hpp>

namespace {
using crm::delivery::domain::ApplyFailure;
using crm::delivery::domain::ApplyLostClaim;
using crm::delivery::domain::Channel;
using crm::delivery::domain::ConsentAllows;
using crm::delivery::domain::ConsentStatus;
using crm::delivery::domain::Message;
using crm::delivery::domain::Outcome;
using crm::delivery::domain::Purpose;
using crm::delivery::domain::RetryPolicy;
using crm::delivery::domain::SendResult;
using crm::delivery::domain::State;
using crm::delivery::domain::StateFromName;
using crm::delivery::domain::StateName;

const absl::Time kNow = absl::FromUnixSeconds(1700000000);
}  // namespace

TEST_CASE("Marketing needs an opt-in, transactional messages go unless opted out") {
  CHECK(ConsentAllows(Purpose::kMarketing, ConsentStatus::kOptedIn));
  CHECK_FALSE(ConsentAllows(Purpose::kMarketing, ConsentStatus::kUnknown));
  CHECK_FALSE(ConsentAllows(Purpose::kMarketing, ConsentStatus::kPending));
  CHECK_FALSE(ConsentAllows(Purpose::kMarketing, ConsentStatus::kOptedOut));
  CHECK(ConsentAllows(Purpose::kTransactional, ConsentStatus::kUnknown));
  CHECK(ConsentAllows(Purpose::kTransactional, ConsentStatus::kPending));
  CHECK(ConsentAllows(Purpose::kTransactional, ConsentStatus::kOptedIn));
  CHECK_FALSE(ConsentAllows(Purpose::kTransactional, ConsentStatus::kOptedOut));
}

TEST_CASE("State names round-trip") {
  for (State s : {State::kQueued, State::kSending, State::kRetrying, State::kSent,
                  State::kSuppressed, State::kFailed, State::kUnknown}) {
    CHECK(StateFromName(StateName(s)) == s);
  }
  CHECK_FALSE(StateFromName("delivered").has_value());
}

TEST_CASE("A transient failure retries after the back-off until the attempts are spent") {
  Message m;
  m.max_attempts = 3;
  m.attempts = 1;
  RetryPolicy p{absl::Seconds(2), absl::Minutes(30)};
  SendResult r{Outcome::kTransient, "HTTP 503", "", absl::ZeroDuration()};
  ApplyFailure(m, r, kNow, p, 0.0);
  CHECK(m.state == State::kRetrying);
  CHECK(*m.next_attempt_time == kNow + absl::Seconds(1));  // 2s halved by jitter 0
  CHECK(m.last_error == "HTTP 503");
  m.attempts = 2;
  ApplyFailure(m, r, kNow, p, 0.999999);
  CHECK(m.state == State::kRetrying);
  CHECK(*m.next_attempt_time > kNow + absl::Milliseconds(3990));
  CHECK(*m.next_attempt_time <= kNow + absl::Seconds(4));
  m.attempts = 3;
  ApplyFailure(m, r, kNow, p, 0.5);
  CHECK(m.state == State::kFailed);
  CHECK_FALSE(m.next_attempt_time.has_value());
}

TEST_CASE("A provider's Retry-After longer than the back-off wins") {
  Message m;
  m.attempts = 1;
  SendResult r{Outcome::kTransient, "HTTP 429", "", absl::Seconds(120)};
  ApplyFailure(m, r, kNow, RetryPolicy{}, 0.5);
  CHECK(*m.next_attempt_time == kNow + absl::Seconds(120));
}

TEST_CASE("A permanent failure is a dead letter at once") {
  Message m;
  m.attempts = 1;
  m.max_attempts = 8;
  ApplyFailure(m, SendResult{Outcome::kPermanent, "HTTP 410", "", absl::ZeroDuration()}, kNow,
               RetryPolicy{}, 0.5);
  CHECK(m.state == State::kFailed);
}

TEST_CASE("A lost claim: an email whose send began becomes unknown, the rest are retried") {
  Message email;
  email.channel = Channel::kEmail;
  email.state = State::kSending;
  email.attempts = 1;
  ApplyLostClaim(email, kNow, true);
  CHECK(email.state == State::kUnknown);
  // Claimed in a batch but never started: retried, the attempt counted.
  Message waiting = email;
  waiting.state = State::kSending;
  ApplyLostClaim(waiting, kNow, false);
  CHECK(waiting.state == State::kRetrying);
  CHECK(waiting.attempts == 1);
  CHECK(*waiting.next_attempt_time == kNow);
  CHECK(waiting.last_error == "the sender stopped before the attempt's send");
  Message hook;
  hook.channel = Channel::kWebhook;
  hook.state = State::kSending;
  hook.attempts = 1;
  ApplyLostClaim(hook, kNow, true);
  CHECK(hook.state == State::kRetrying);
  CHECK(*hook.next_attempt_time == kNow);
  hook.attempts = hook.max_attempts;
  hook.state = State::kSending;
  ApplyLostClaim(hook, kNow, true);
  CHECK(hook.state == State::kFailed);
}
