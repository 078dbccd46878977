// Journeys' pure rules (domain/journey.h): what a definition may say, the
// state machine, how an enrolment moves from step to step, and the keys
// that make each send happen once per visit.
#include "services/delivery/domain/journey.h"

#include <catch2/catch.hpp>

#include "libs/common/errors.h"

namespace {

using crm::common::FieldOf;
using crm::common::ReasonOf;
using crm::delivery::domain::Channel;
using crm::delivery::domain::EndEnrollment;
using crm::delivery::domain::Enrollment;
using crm::delivery::domain::EnrollmentState;
using crm::delivery::domain::EnterStep;
using crm::delivery::domain::EventMatches;
using crm::delivery::domain::FailStep;
using crm::delivery::domain::Journey;
using crm::delivery::domain::JourneyAction;
using crm::delivery::domain::JourneyEvent;
using crm::delivery::domain::JourneyMessageKey;
using crm::delivery::domain::JourneyState;
using crm::delivery::domain::JourneyStep;
using crm::delivery::domain::NextJourneyState;
using crm::delivery::domain::StepAfter;
using crm::delivery::domain::StepKind;
using crm::delivery::domain::TriggerKind;
using crm::delivery::domain::ValidateJourney;

JourneyStep Wait(const std::string& id, absl::Duration d) {
  JourneyStep s;
  s.id = id;
  s.kind = StepKind::kWait;
  s.duration = d;
  return s;
}
JourneyStep Send(const std::string& id) {
  JourneyStep s;
  s.id = id;
  s.kind = StepKind::kSend;
  s.channel = Channel::kEmail;
  s.template_id = "welcome";
  return s;
}
JourneyStep Condition(const std::string& id, const std::string& on_false) {
  JourneyStep s;
  s.id = id;
  s.kind = StepKind::kCondition;
  s.expression = "attr.plan = \"gold\"";
  s.on_false = on_false;
  return s;
}
JourneyStep Exit(const std::string& id) {
  JourneyStep s;
  s.id = id;
  s.kind = StepKind::kExit;
  return s;
}

// welcome → wait 1 day → gold? (else: exit) → offer → (end)
Journey Onboarding() {
  Journey j;
  j.id = "j1";
  j.name = "Onboarding";
  j.trigger = {TriggerKind::kSegmentEntered, "new-customers"};
  j.goal = {TriggerKind::kOrderPlaced, ""};
  j.steps = {Send("welcome"), Wait("day", absl::Hours(24)), Condition("gold", "bye"), Send("offer"),
             Exit("bye")};
  j.steps[3].kind = StepKind::kOffer;
  j.steps[3].offer_count = 2;
  j.steps[3].next = "";
  return j;
}

}  // namespace

TEST_CASE("a journey definition is checked field by field", "[journey]") {
  REQUIRE(ValidateJourney(Onboarding()).ok());

  Journey j = Onboarding();
  j.name = "";
  CHECK(FieldOf(ValidateJourney(j)) == "name");

  j = Onboarding();
  j.steps.clear();
  CHECK(FieldOf(ValidateJourney(j)) == "steps");

  j = Onboarding();
  j.steps[1].id = "welcome";
  absl::Status twice = ValidateJourney(j);
  CHECK(FieldOf(twice) == "steps.step_id");
  CHECK(twice.message().find("named twice") != std::string::npos);

  j = Onboarding();
  j.steps[1].id = "Day!";
  CHECK(FieldOf(ValidateJourney(j)) == "steps.step_id");

  j = Onboarding();
  j.steps[2].on_false = "nowhere";
  absl::Status unknown = ValidateJourney(j);
  CHECK(FieldOf(unknown) == "steps.else_step_id");
  CHECK(unknown.message().find("\"nowhere\"") != std::string::npos);

  j = Onboarding();
  j.steps[1].duration = absl::ZeroDuration();
  CHECK(FieldOf(ValidateJourney(j)) == "steps.wait.duration_seconds");
  j.steps[1].duration = absl::Hours(24 * 91);
  CHECK(FieldOf(ValidateJourney(j)) == "steps.wait.duration_seconds");

  j = Onboarding();
  j.steps[3].offer_count = 0;  // an offer carries at least one
  CHECK(FieldOf(ValidateJourney(j)) == "steps.offer.offer_count");

  j = Onboarding();
  j.steps[0].channel = Channel::kWebhook;  // without its endpoint
  CHECK(FieldOf(ValidateJourney(j)) == "steps.send.endpoint_id");

  j = Onboarding();
  j.trigger = {TriggerKind::kCartAbandoned, ""};
  CHECK(FieldOf(ValidateJourney(j)) == "trigger.kind");
  j.trigger = {TriggerKind::kSegmentEntered, ""};  // which segment?
  CHECK(FieldOf(ValidateJourney(j)) == "trigger.segment_id");
  j.trigger = {TriggerKind::kNone, ""};  // enrolled over the API only
  CHECK(ValidateJourney(j).ok());

  j = Onboarding();
  j.steps[4].next = "welcome";  // an exit goes nowhere
  CHECK(FieldOf(ValidateJourney(j)) == "steps.next_step_id");

  j = Onboarding();
  JourneyStep attr;
  attr.id = "tag";
  attr.kind = StepKind::kUpdateAttribute;
  attr.attribute = "Plan";
  j.steps.push_back(attr);
  CHECK(FieldOf(ValidateJourney(j)) == "steps.update_attribute.attribute");
  j.steps.back().attribute = "journey_stage";
  CHECK(ValidateJourney(j).ok());

  j = Onboarding();
  JourneyStep wait_event;
  wait_event.id = "wait-order";
  wait_event.kind = StepKind::kWaitForEvent;
  wait_event.duration = absl::Hours(1);
  wait_event.event = {TriggerKind::kNone, ""};
  j.steps.push_back(wait_event);
  CHECK(FieldOf(ValidateJourney(j)) == "steps.wait_for_event.event");
  j.steps.back().event = {TriggerKind::kOrderPlaced, ""};
  j.steps.back().on_event = "bye";
  CHECK(ValidateJourney(j).ok());
}

TEST_CASE("a loop without a wait is refused, a loop through a wait is a journey", "[journey]") {
  Journey j;
  j.name = "Loop";
  j.steps = {Send("a"), Condition("b", "a")};  // b false → a → b ... at once
  absl::Status s = ValidateJourney(j);
  CHECK(FieldOf(s) == "steps");
  CHECK(s.message().find("loop without a wait") != std::string::npos);

  // Weekly: send, wait a week, still not gold? send again.
  j.steps = {Send("a"), Wait("week", absl::Hours(24 * 7)), Condition("b", "a")};
  j.steps[2].expression = "attr.plan = \"gold\"";
  CHECK(ValidateJourney(j).ok());
}

TEST_CASE("journey states move only the documented ways", "[journey]") {
  Journey j = Onboarding();
  j.state = JourneyState::kDraft;
  CHECK(*NextJourneyState(j, JourneyAction::kActivate) == JourneyState::kActive);
  absl::StatusOr<JourneyState> pause = NextJourneyState(j, JourneyAction::kPause);
  REQUIRE_FALSE(pause.ok());
  CHECK(ReasonOf(pause.status()) == "JOURNEY_STATE_INVALID");
  CHECK(pause.status().message().find("is draft") != std::string::npos);
  j.state = JourneyState::kActive;
  CHECK(*NextJourneyState(j, JourneyAction::kPause) == JourneyState::kPaused);
  CHECK_FALSE(NextJourneyState(j, JourneyAction::kActivate).ok());
  j.state = JourneyState::kPaused;
  CHECK(*NextJourneyState(j, JourneyAction::kResume) == JourneyState::kActive);
  CHECK(*NextJourneyState(j, JourneyAction::kArchive) == JourneyState::kArchived);
  j.state = JourneyState::kArchived;
  CHECK_FALSE(NextJourneyState(j, JourneyAction::kArchive).ok());
  CHECK_FALSE(NextJourneyState(j, JourneyAction::kResume).ok());
}

TEST_CASE("an enrolment walks the steps: next, branches, waits and the end", "[journey]") {
  const Journey j = Onboarding();
  const absl::Time t0 = absl::FromUnixSeconds(1'700'000'000);
  Enrollment e;
  e.id = "e1";
  e.journey_id = j.id;
  EnterStep(j, e, j.steps[0].id, t0);
  CHECK(e.step_id == "welcome");
  CHECK(e.seq == 1);
  CHECK(e.due_time == t0);
  CHECK(e.step_time == t0);

  EnterStep(j, e, StepAfter(j, j.steps[0], ""), t0);
  CHECK(e.step_id == "day");
  CHECK(e.seq == 2);
  CHECK(e.due_time == t0 + absl::Hours(24));  // the wait's end

  const absl::Time t1 = t0 + absl::Hours(24);
  EnterStep(j, e, StepAfter(j, j.steps[1], ""), t1);
  CHECK(e.step_id == "gold");
  // Not gold: the else branch.
  CHECK(StepAfter(j, j.steps[2], j.steps[2].on_false) == "bye");
  // Gold: the step below.
  CHECK(StepAfter(j, j.steps[2], "") == "offer");
  // An exit goes nowhere; an explicit next wins over the step below.
  CHECK(StepAfter(j, j.steps[4], "") == "");
  JourneyStep jump = j.steps[0];
  jump.next = "offer";
  CHECK(StepAfter(j, jump, "") == "offer");

  EnterStep(j, e, "", t1);  // past the last step
  CHECK(e.state == EnrollmentState::kCompleted);
  CHECK(e.exit_reason == "completed");
  REQUIRE(e.end_time.has_value());
  CHECK(*e.end_time == t1);
}

TEST_CASE("a wait for an event waits until its timeout", "[journey]") {
  Journey j;
  j.name = "Order nudge";
  JourneyStep w;
  w.id = "wait-order";
  w.kind = StepKind::kWaitForEvent;
  w.event = {TriggerKind::kOrderPlaced, ""};
  w.duration = absl::Hours(48);
  w.on_event = "thanks";
  j.steps = {w, Send("nudge"), Exit("stop"), Send("thanks")};
  REQUIRE(ValidateJourney(j).ok());
  const absl::Time t0 = absl::FromUnixSeconds(1'700'000'000);
  Enrollment e;
  EnterStep(j, e, "wait-order", t0);
  CHECK(e.waiting_for_event);
  CHECK(e.due_time == t0 + absl::Hours(48));
  CHECK(StepAfter(j, j.steps[0], j.steps[0].on_event) == "thanks");  // the event
  CHECK(StepAfter(j, j.steps[0], "") == "nudge");                    // the timeout
  EnterStep(j, e, "thanks", t0 + absl::Hours(1));
  CHECK_FALSE(e.waiting_for_event);

  CHECK(EventMatches({TriggerKind::kOrderPlaced, ""}, {TriggerKind::kOrderPlaced, ""}));
  CHECK_FALSE(EventMatches({TriggerKind::kOrderPlaced, ""}, {TriggerKind::kSegmentEntered, "s"}));
  CHECK(EventMatches({TriggerKind::kSegmentEntered, "vip"}, {TriggerKind::kSegmentEntered, "vip"}));
  CHECK_FALSE(
      EventMatches({TriggerKind::kSegmentEntered, "vip"}, {TriggerKind::kSegmentEntered, "new"}));
  CHECK_FALSE(EventMatches({TriggerKind::kNone, ""}, {TriggerKind::kNone, ""}));
}

TEST_CASE("a failing step backs off and exits after its attempts", "[journey]") {
  const Journey j = Onboarding();
  const absl::Time t0 = absl::FromUnixSeconds(1'700'000'000);
  Enrollment e;
  EnterStep(j, e, "welcome", t0);
  FailStep(e, "customer-store unavailable", t0, 3);
  CHECK(e.state == EnrollmentState::kActive);
  CHECK(e.attempts == 1);
  CHECK(e.due_time > t0);
  CHECK(e.last_error == "customer-store unavailable");
  const absl::Time first = e.due_time;
  FailStep(e, "again", t0, 3);
  CHECK(e.due_time > first);  // longer each time
  FailStep(e, "and again", t0, 3);
  CHECK(e.state == EnrollmentState::kExited);
  CHECK(e.exit_reason == "failed");
  // Entering the next step starts its tries afresh.
  Enrollment f;
  EnterStep(j, f, "welcome", t0);
  FailStep(f, "x", t0, 3);
  EnterStep(j, f, "day", t0);
  CHECK(f.attempts == 0);
  CHECK(f.last_error.empty());
}

TEST_CASE("a send's ledger key is its enrolment's visit of the step", "[journey]") {
  const Journey j = Onboarding();
  Enrollment e;
  e.id = "e1";
  e.journey_id = "j1";
  EnterStep(j, e, "welcome", absl::UnixEpoch());
  const std::string first = JourneyMessageKey(e);
  CHECK(first == "journey:j1:e1:1");
  CHECK(JourneyMessageKey(e) == first);           // a retried step: the same row
  EnterStep(j, e, "welcome", absl::UnixEpoch());  // a loop back: a new visit
  CHECK(JourneyMessageKey(e) != first);
  EndEnrollment(e, EnrollmentState::kGoalReached, "goal", absl::UnixEpoch());
  CHECK(e.state == EnrollmentState::kGoalReached);
}
