#pragma once
// A journey (docs/delivery.md, "Journeys"): a path of steps each enrolled
// customer walks on their own clock. A trigger (segment.entered,
// order.placed, or an enrolment over the API) enrols a customer; the steps
// wait (a duration, or until an event with a timeout), split on a
// condition in the segment language, send a message (or an offer: a
// message carrying next best offers), set an attribute of the customer,
// or exit. A goal event ends every enrolment of its customer. Its life:
//   draft → active ⇄ paused → archived (archived from any state)
// The definition is fixed once active (enrolments point into it); a
// changed journey is a new one. Each enrolment's position (its step, when
// it is due) is a row of its own, so it survives restarts.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "services/delivery/domain/campaign.h"
#include "services/delivery/domain/message.h"

namespace crm::delivery::domain {

enum class JourneyState { kDraft, kActive, kPaused, kArchived };
absl::string_view JourneyStateName(JourneyState s);  // "draft", "active", ...
std::optional<JourneyState> JourneyStateFromName(absl::string_view name);
enum class JourneyAction { kActivate, kPause, kResume, kArchive };

enum class StepKind { kWait, kWaitForEvent, kCondition, kSend, kOffer, kUpdateAttribute, kExit };
absl::string_view StepKindName(StepKind k);  // "wait", "wait_for_event", ...
std::optional<StepKind> StepKindFromName(absl::string_view name);

// A value of a customer's custom attribute (customer-store's
// AttributeValue, without times).
struct AttributeValue {
  enum class Type { kString, kInt, kDouble, kBool };
  Type type = Type::kString;
  std::string string_value;
  int64_t int_value = 0;
  double double_value = 0;
  bool bool_value = false;
};

// The events a journey listens to: its trigger, a wait's event, its goal.
// kNone as a trigger: customers are enrolled over the API only.
struct JourneyEvent {
  TriggerKind kind = TriggerKind::kNone;  // kSegmentEntered or kOrderPlaced
  std::string segment_id;                 // kSegmentEntered
};

struct JourneyStep {
  std::string id;  // [a-z0-9][a-z0-9_-]{0,31}, unique in the journey
  StepKind kind = StepKind::kExit;
  std::string next;  // the step after it ("": the one below; after the last: the end)
  // kWait: how long; kWaitForEvent: the timeout. 1 s .. 90 days.
  absl::Duration duration = absl::ZeroDuration();
  JourneyEvent event;      // kWaitForEvent
  std::string on_event;    // kWaitForEvent: the step when the event comes ("": next)
  std::string expression;  // kCondition: segment language, evaluated at the step
  std::string on_false;    // kCondition: the step when it does not hold ("": next)
  // kSend, kOffer: the message (an offer carries 1..10 next best offers).
  Channel channel = Channel::kEmail;
  Purpose purpose = Purpose::kMarketing;
  std::string template_id;
  std::string endpoint_id;  // webhook
  int offer_count = 0;
  // kUpdateAttribute: the customer's custom attribute set to `value`.
  std::string attribute;
  AttributeValue value;
};

// kOnce: a customer enters once, ever; kAfterExit: again after the last
// enrolment ended (never twice at once).
enum class JourneyReentry { kOnce, kAfterExit };

struct Journey {
  std::string id;
  std::string name;
  JourneyEvent trigger;
  JourneyReentry reentry = JourneyReentry::kOnce;
  JourneyEvent goal;  // kind kNone: no goal
  std::vector<JourneyStep> steps;
  JourneyState state = JourneyState::kDraft;
  int64_t version = 0;
  std::optional<absl::Time> activated_time;  // first activation
  std::optional<absl::Time> archived_time;
  absl::Time create_time = absl::InfinitePast();
  absl::Time update_time = absl::InfinitePast();
};

inline constexpr size_t kMaxJourneySteps = 50;
inline constexpr absl::Duration kMinJourneyWait = absl::Seconds(1);
inline constexpr absl::Duration kMaxJourneyWait = absl::Hours(24 * 90);
// Steps an enrolment takes in one go before the runner turns to others (a
// path without waits is at most kMaxJourneySteps long, so this ends it).
inline constexpr int kMaxStepsPerRun = static_cast<int>(kMaxJourneySteps) + 1;

// INVALID_ARGUMENT naming the field: name 1..200 characters, 1..50 steps
// with distinct ids, every step named by next / on_event / on_false
// existing, the fields of each step's kind (and no others' that change
// anything), and no loop of steps without a wait (it would never stop).
// Conditions are checked against the segment language by the engine.
absl::Status ValidateJourney(const Journey& j);

// The state an action leads to, or FAILED_PRECONDITION
// (JOURNEY_STATE_INVALID) naming the journey's state.
absl::StatusOr<JourneyState> NextJourneyState(const Journey& j, JourneyAction a);

enum class EnrollmentState { kActive, kCompleted, kGoalReached, kExited };
absl::string_view EnrollmentStateName(EnrollmentState s);  // "active", "completed", ...
std::optional<EnrollmentState> EnrollmentStateFromName(absl::string_view name);

struct Enrollment {
  std::string id;
  std::string journey_id;
  std::string customer_id;
  int entry = 0;         // the customer's nth enrolment in the journey, from 0
  std::string event_id;  // the trigger event ("" over the API)
  EnrollmentState state = EnrollmentState::kActive;
  std::string step_id;                          // the step it is at (active), or was at last
  absl::Time due_time = absl::InfinitePast();   // when the runner takes the step
  absl::Time step_time = absl::InfinitePast();  // when it entered the step (its visit's time)
  bool waiting_for_event = false;               // at a kWaitForEvent step, before its timeout
  int seq = 0;       // steps entered so far (the step's visit: loops visit again)
  int attempts = 0;  // failed tries of the current step
  std::string last_error;
  std::string exit_reason;  // "" while active; "completed", "exit_step", "goal", ...
  absl::Time enter_time = absl::InfinitePast();
  std::optional<absl::Time> end_time;
  int64_t version = 0;
};

// The step `id` of the journey, or null.
const JourneyStep* FindStep(const Journey& j, const std::string& id);
// The step after `step` on its path: `branch` ("" the default next, else
// the id given by on_event / on_false); "" when the path ends.
std::string StepAfter(const Journey& j, const JourneyStep& step, const std::string& branch);

// The enrolment arrives at step `step_id` at `now` ("" ends it, completed):
// its due time (a wait's end, a wait-for-event's timeout, else now).
void EnterStep(const Journey& j, Enrollment& e, const std::string& step_id, absl::Time now);
// The enrolment ends at `now` for `reason` (state kCompleted, kGoalReached
// or kExited).
void EndEnrollment(Enrollment& e, EnrollmentState state, const std::string& reason, absl::Time now);

// A step whose peer failed for a while: tried again after a back-off
// (2 s doubling to 10 min); after `max_attempts` the enrolment exits
// ("failed").
void FailStep(Enrollment& e, const std::string& error, absl::Time now, int max_attempts);

// Whether `event` is what `listener` listens to (same kind; the same
// segment for kSegmentEntered).
bool EventMatches(const JourneyEvent& listener, const JourneyEvent& event);

// The ledger key of a send step's message: once per enrolment and visit
// of the step (a loop back to it sends again; a retried step does not).
std::string JourneyMessageKey(const Enrollment& e);

}  // namespace crm::delivery::domain
