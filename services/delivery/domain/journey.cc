#include "services/delivery/domain/journey.h"

#include <array>
#include <functional>
#include <map>
#include <set>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "libs/common/errors.h"
#include "libs/common/status_macros.h"
#include "services/delivery/domain/backoff.h"

namespace crm::delivery::domain {
namespace {

constexpr std::array<std::pair<JourneyState, absl::string_view>, 4> kStates{
    {{JourneyState::kDraft, "draft"},
     {JourneyState::kActive, "active"},
     {JourneyState::kPaused, "paused"},
     {JourneyState::kArchived, "archived"}}};
constexpr std::array<std::pair<StepKind, absl::string_view>, 7> kKinds{
    {{StepKind::kWait, "wait"},
     {StepKind::kWaitForEvent, "wait_for_event"},
     {StepKind::kCondition, "condition"},
     {StepKind::kSend, "send"},
     {StepKind::kOffer, "offer"},
     {StepKind::kUpdateAttribute, "update_attribute"},
     {StepKind::kExit, "exit"}}};
constexpr std::array<std::pair<EnrollmentState, absl::string_view>, 4> kEnrollmentStates{
    {{EnrollmentState::kActive, "active"},
     {EnrollmentState::kCompleted, "completed"},
     {EnrollmentState::kGoalReached, "goal_reached"},
     {EnrollmentState::kExited, "exited"}}};

template <typename E, size_t N>
absl::string_view NameIn(const std::array<std::pair<E, absl::string_view>, N>& table, E v) {
  for (const auto& [e, n] : table) {
    if (e == v) return n;
  }
  return "";
}
template <typename E, size_t N>
std::optional<E> FromNameIn(const std::array<std::pair<E, absl::string_view>, N>& table,
                            absl::string_view name) {
  for (const auto& [e, n] : table) {
    if (n == name) return e;
  }
  return std::nullopt;
}

bool StepIdOk(const std::string& id) {
  if (id.empty() || id.size() > 32) return false;
  for (size_t i = 0; i < id.size(); ++i) {
    const char c = id[i];
    const bool alnum = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
    if (!alnum && (i == 0 || (c != '_' && c != '-'))) return false;
  }
  return true;
}

bool AttributeNameOk(const std::string& name) {
  if (name.empty() || name.size() > 64 || !(name[0] >= 'a' && name[0] <= 'z')) return false;
  for (char c : name) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_')) return false;
  }
  return true;
}

absl::Status CheckEvent(const JourneyEvent& e, const std::string& field, bool optional) {
  if (e.kind == TriggerKind::kNone) {
    if (!optional) {
      return common::InvalidField(field,
                                  absl::StrCat(field, " is segment_entered or order_placed"));
    }
    if (!e.segment_id.empty()) {
      return common::InvalidField(absl::StrCat(field, ".segment_id"),
                                  "a segment_id needs the kind segment_entered");
    }
    return absl::OkStatus();
  }
  if (e.kind != TriggerKind::kSegmentEntered && e.kind != TriggerKind::kOrderPlaced) {
    return common::InvalidField(absl::StrCat(field, ".kind"),
                                "journeys listen to segment_entered or order_placed");
  }
  const bool entered = e.kind == TriggerKind::kSegmentEntered;
  if (entered != !e.segment_id.empty() || e.segment_id.size() > 64) {
    return common::InvalidField(absl::StrCat(field, ".segment_id"),
                                "segment_entered names its segment (and only it)");
  }
  return absl::OkStatus();
}

// The steps a step may go to next, by id ("" for the end).
std::vector<std::string> Successors(const Journey& j, size_t i) {
  const JourneyStep& s = j.steps[i];
  std::vector<std::string> out;
  if (s.kind == StepKind::kExit) return out;
  out.push_back(StepAfter(j, s, ""));
  if (s.kind == StepKind::kWaitForEvent) out.push_back(StepAfter(j, s, s.on_event));
  if (s.kind == StepKind::kCondition) out.push_back(StepAfter(j, s, s.on_false));
  return out;
}

bool Waits(StepKind k) { return k == StepKind::kWait || k == StepKind::kWaitForEvent; }

}  // namespace

absl::string_view JourneyStateName(JourneyState s) { return NameIn(kStates, s); }
std::optional<JourneyState> JourneyStateFromName(absl::string_view name) {
  return FromNameIn(kStates, name);
}
absl::string_view StepKindName(StepKind k) { return NameIn(kKinds, k); }
std::optional<StepKind> StepKindFromName(absl::string_view name) {
  return FromNameIn(kKinds, name);
}
absl::string_view EnrollmentStateName(EnrollmentState s) { return NameIn(kEnrollmentStates, s); }
std::optional<EnrollmentState> EnrollmentStateFromName(absl::string_view name) {
  return FromNameIn(kEnrollmentStates, name);
}

absl::Status ValidateJourney(const Journey& j) {
  if (j.name.empty() || j.name.size() > 200) {
    return common::InvalidField("name", "name is 1..200 characters");
  }
  if (j.trigger.kind == TriggerKind::kCartAbandoned) {
    return common::InvalidField("trigger.kind",
                                "journeys are triggered by segment_entered or order_placed (or "
                                "unset: enrolments over the API)");
  }
  CRM_RETURN_IF_ERROR(CheckEvent(j.trigger, "trigger", true));
  CRM_RETURN_IF_ERROR(CheckEvent(j.goal, "goal", true));
  if (j.steps.empty() || j.steps.size() > kMaxJourneySteps) {
    return common::InvalidField("steps", "a journey has 1..50 steps");
  }
  std::set<std::string> ids;
  for (const JourneyStep& s : j.steps) {
    if (!StepIdOk(s.id)) {
      return common::InvalidField("steps.step_id", "step ids are [a-z0-9][a-z0-9_-]{0,31}");
    }
    if (!ids.insert(s.id).second) {
      return common::InvalidField("steps.step_id",
                                  absl::StrCat("step \"", s.id, "\" is named twice"));
    }
  }
  auto known = [&](const std::string& ref, absl::string_view field,
                   const JourneyStep& s) -> absl::Status {
    if (ref.empty() || ids.count(ref) > 0) return absl::OkStatus();
    return common::InvalidField(absl::StrCat("steps.", field),
                                absl::StrCat("step \"", s.id, "\" goes to step \"", ref,
                                             "\", which the journey does not have"));
  };
  for (const JourneyStep& s : j.steps) {
    CRM_RETURN_IF_ERROR(known(s.next, "next_step_id", s));
    if (s.kind == StepKind::kExit && !s.next.empty()) {
      return common::InvalidField("steps.next_step_id", "an exit step has no next step");
    }
    if (s.kind != StepKind::kWaitForEvent && !s.on_event.empty()) {
      return common::InvalidField("steps.on_event_step_id",
                                  "on_event_step_id belongs to a wait_for_event step");
    }
    if (s.kind != StepKind::kCondition && !s.on_false.empty()) {
      return common::InvalidField("steps.else_step_id", "else_step_id belongs to a condition step");
    }
    switch (s.kind) {
      case StepKind::kWait:
      case StepKind::kWaitForEvent: {
        const char* field = s.kind == StepKind::kWait ? "steps.wait.duration_seconds"
                                                      : "steps.wait_for_event.timeout_seconds";
        if (s.duration < kMinJourneyWait || s.duration > kMaxJourneyWait) {
          return common::InvalidField(field, "a wait lasts 1..7776000 seconds (90 days)");
        }
        if (s.kind == StepKind::kWaitForEvent) {
          CRM_RETURN_IF_ERROR(CheckEvent(s.event, "steps.wait_for_event.event", false));
          CRM_RETURN_IF_ERROR(known(s.on_event, "on_event_step_id", s));
        }
        break;
      }
      case StepKind::kCondition:
        if (s.expression.empty() || s.expression.size() > 4000) {
          return common::InvalidField("steps.condition.expression",
                                      "a condition is a segment expression of 1..4000 characters");
        }
        CRM_RETURN_IF_ERROR(known(s.on_false, "else_step_id", s));
        break;
      case StepKind::kSend:
      case StepKind::kOffer: {
        const std::string field = s.kind == StepKind::kSend ? "steps.send" : "steps.offer";
        if (s.template_id.empty() || s.template_id.size() > 64) {
          return common::InvalidField(absl::StrCat(field, ".template_id"),
                                      "a send step names its template");
        }
        if ((s.channel == Channel::kWebhook) == s.endpoint_id.empty()) {
          return common::InvalidField(
              absl::StrCat(field, ".endpoint_id"),
              "a webhook step names its endpoint (and only a webhook step)");
        }
        const int min_offers = s.kind == StepKind::kOffer ? 1 : 0;
        if (s.offer_count < min_offers || s.offer_count > 10) {
          return common::InvalidField(absl::StrCat(field, ".offer_count"),
                                      s.kind == StepKind::kOffer
                                          ? "an offer step carries 1..10 offers"
                                          : "offer_count is 0..10");
        }
        break;
      }
      case StepKind::kUpdateAttribute:
        if (!AttributeNameOk(s.attribute)) {
          return common::InvalidField("steps.update_attribute.attribute",
                                      "attribute names are [a-z][a-z0-9_]{0,63}");
        }
        if (s.value.type == AttributeValue::Type::kString && s.value.string_value.size() > 1000) {
          return common::InvalidField("steps.update_attribute.value",
                                      "a string value is at most 1000 characters");
        }
        break;
      case StepKind::kExit:
        break;
    }
  }
  // A loop without a wait would run forever at once: depth-first over the
  // steps that do not wait, looking for a way back.
  std::map<std::string, size_t> index;
  for (size_t i = 0; i < j.steps.size(); ++i) index[j.steps[i].id] = i;
  std::vector<int> mark(j.steps.size(), 0);  // 0 new, 1 on the path, 2 done
  std::function<bool(size_t)> loops = [&](size_t i) -> bool {
    if (Waits(j.steps[i].kind) || mark[i] == 2) return false;
    if (mark[i] == 1) return true;
    mark[i] = 1;
    for (const std::string& next : Successors(j, i)) {
      if (!next.empty() && loops(index[next])) return true;
    }
    mark[i] = 2;
    return false;
  };
  for (size_t i = 0; i < j.steps.size(); ++i) {
    if (loops(i)) {
      return common::InvalidField(
          "steps", absl::StrCat("the steps through \"", j.steps[i].id,
                                "\" loop without a wait: a customer would go round forever"));
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<JourneyState> NextJourneyState(const Journey& j, JourneyAction a) {
  JourneyState need = JourneyState::kDraft;
  JourneyState to = JourneyState::kActive;
  absl::string_view name = "activate";
  switch (a) {
    case JourneyAction::kActivate:
      break;
    case JourneyAction::kPause:
      need = JourneyState::kActive;
      to = JourneyState::kPaused;
      name = "pause";
      break;
    case JourneyAction::kResume:
      need = JourneyState::kPaused;
      to = JourneyState::kActive;
      name = "resume";
      break;
    case JourneyAction::kArchive:
      if (j.state == JourneyState::kArchived) {
        return common::WithReason(
            absl::FailedPreconditionError(absl::StrCat("journey ", j.id, " is archived already")),
            "JOURNEY_STATE_INVALID");
      }
      return JourneyState::kArchived;
  }
  if (j.state != need) {
    return common::WithReason(absl::FailedPreconditionError(absl::StrCat(
                                  "journey ", j.id, " is ", JourneyStateName(j.state), "; ", name,
                                  " needs a journey that is ", JourneyStateName(need))),
                              "JOURNEY_STATE_INVALID");
  }
  return to;
}

const JourneyStep* FindStep(const Journey& j, const std::string& id) {
  for (const JourneyStep& s : j.steps) {
    if (s.id == id) return &s;
  }
  return nullptr;
}

std::string StepAfter(const Journey& j, const JourneyStep& step, const std::string& branch) {
  if (step.kind == StepKind::kExit) return "";
  if (!branch.empty()) return branch;
  if (!step.next.empty()) return step.next;
  for (size_t i = 0; i + 1 < j.steps.size(); ++i) {
    if (j.steps[i].id == step.id) return j.steps[i + 1].id;
  }
  return "";
}

void EnterStep(const Journey& j, Enrollment& e, const std::string& step_id, absl::Time now) {
  e.attempts = 0;
  e.last_error.clear();
  e.waiting_for_event = false;
  const JourneyStep* s = step_id.empty() ? nullptr : FindStep(j, step_id);
  if (s == nullptr) {
    EndEnrollment(e, EnrollmentState::kCompleted, "completed", now);
    return;
  }
  ++e.seq;
  e.step_id = s->id;
  e.step_time = now;
  e.due_time = now;
  if (Waits(s->kind)) e.due_time = now + s->duration;
  e.waiting_for_event = s->kind == StepKind::kWaitForEvent;
}

void EndEnrollment(Enrollment& e, EnrollmentState state, const std::string& reason,
                   absl::Time now) {
  e.state = state;
  e.exit_reason = reason;
  e.end_time = now;
  e.waiting_for_event = false;
  e.due_time = now;
}

void FailStep(Enrollment& e, const std::string& error, absl::Time now, int max_attempts) {
  ++e.attempts;
  e.last_error = error;
  if (e.attempts >= max_attempts) {
    EndEnrollment(e, EnrollmentState::kExited, "failed", now);
    return;
  }
  e.due_time = now + RetryDelay(e.attempts, absl::Seconds(2), absl::Minutes(10), 0.5);
}

bool EventMatches(const JourneyEvent& listener, const JourneyEvent& event) {
  if (listener.kind == TriggerKind::kNone || listener.kind != event.kind) return false;
  return listener.kind != TriggerKind::kSegmentEntered || listener.segment_id == event.segment_id;
}

std::string JourneyMessageKey(const Enrollment& e) {
  return absl::StrCat("journey:", e.journey_id, ":", e.id, ":", e.seq);
}

}  // namespace crm::delivery::domain
