#include "services/delivery/app/journeys.h"

#include <map>
#include <utility>

#include "absl/strings/str_cat.h"
#include "libs/common/errors.h"
#include "libs/common/etag.h"
#include "libs/common/status_macros.h"
#include "libs/observability/log.h"
#include "services/delivery/app/delivery.h"
#include "services/delivery/domain/not_found.h"
#include "services/segmentation/domain/segment_check.h"

namespace crm::delivery::app {
namespace {

using domain::EnrollmentState;
using domain::Journey;
using domain::JourneyState;
using domain::JourneyStep;
using domain::StepKind;

absl::Status StateInvalid(const Journey& j, absl::string_view what) {
  return common::WithReason(
      absl::FailedPreconditionError(
          absl::StrCat("journey ", j.id, " is ", domain::JourneyStateName(j.state), "; ", what)),
      "JOURNEY_STATE_INVALID");
}

absl::Status CheckCondition(const std::string& expression) {
  static const auto* catalog =
      new segmentation::domain::FieldCatalog(segmentation::domain::FieldCatalog::Default());
  absl::Status s = segmentation::domain::CompileSegment(expression, *catalog).status();
  if (s.ok()) return s;
  return common::InvalidField(
      "steps.condition.expression",
      absl::StrCat("the condition is not a segment expression: ", s.message()));
}

std::string EventName(domain::TriggerKind k) { return std::string(domain::TriggerKindName(k)); }

}  // namespace

absl::Status Journeys::CheckReferences(const std::string& tenant, const Journey& j) {
  auto segment = [&](const domain::JourneyEvent& e, const char* field) -> absl::Status {
    if (e.segment_id.empty()) return absl::OkStatus();
    absl::Status s = segments_.CheckSegment(tenant, e.segment_id);
    return s.ok() ? s : common::WithField(s, field);
  };
  CRM_RETURN_IF_ERROR(segment(j.trigger, "trigger.segment_id"));
  CRM_RETURN_IF_ERROR(segment(j.goal, "goal.segment_id"));
  for (const JourneyStep& s : j.steps) {
    switch (s.kind) {
      case StepKind::kWaitForEvent:
        CRM_RETURN_IF_ERROR(segment(s.event, "steps.wait_for_event.event.segment_id"));
        break;
      case StepKind::kCondition:
        CRM_RETURN_IF_ERROR(CheckCondition(s.expression));
        break;
      case StepKind::kSend:
      case StepKind::kOffer: {
        const std::string field = s.kind == StepKind::kSend ? "steps.send" : "steps.offer";
        CRM_RETURN_IF_ERROR(CheckChannelReferences(
            ledger_, renderer_, tenant, s.channel, s.template_id, s.endpoint_id,
            absl::StrCat(field, ".template_id"), absl::StrCat(field, ".endpoint_id")));
        break;
      }
      default:
        break;
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<Journey> Journeys::Create(const outbox::WriteMeta& meta, Journey j) {
  CRM_RETURN_IF_ERROR(domain::ValidateJourney(j));
  CRM_RETURN_IF_ERROR(CheckReferences(meta.tenant_id, j));
  const absl::Time now = clock_.Now();
  j.id = ids_.NewId();
  j.state = JourneyState::kDraft;
  j.version = 1;
  j.create_time = now;
  j.update_time = now;
  j.activated_time.reset();
  j.archived_time.reset();
  return journeys_.Run<Journey>(meta, j.id, [&](JourneyTx& tx) -> absl::StatusOr<Journey> {
    tx.SaveJourney(j);
    tx.EmitJourney("journey.created", j);
    return j;
  });
}

absl::StatusOr<Journey> Journeys::Get(const std::string& tenant, const std::string& id) {
  if (!common::IsUuid(id)) return domain::JourneyNotFound(id);
  return journeys_.GetJourney(tenant, id);
}

absl::StatusOr<std::vector<Journey>> Journeys::List(const std::string& tenant) {
  return journeys_.ListJourneys(tenant);
}

absl::StatusOr<Journey> Journeys::Update(const outbox::WriteMeta& meta, const std::string& id,
                                         Journey draft, const std::string& if_match) {
  if (!common::IsUuid(id)) return domain::JourneyNotFound(id);
  CRM_RETURN_IF_ERROR(domain::ValidateJourney(draft));
  CRM_RETURN_IF_ERROR(CheckReferences(meta.tenant_id, draft));
  return journeys_.Run<Journey>(meta, id, [&](JourneyTx& tx) -> absl::StatusOr<Journey> {
    CRM_ASSIGN_OR_RETURN(Journey j, tx.LoadJourneyForUpdate(id));
    CRM_RETURN_IF_ERROR(common::CheckEtag("journey", absl::StrCat(j.version), if_match));
    if (j.state != JourneyState::kDraft) {
      return StateInvalid(j, "only a draft is edited (archive it and create another)");
    }
    draft.id = j.id;
    draft.state = j.state;
    draft.version = j.version + 1;
    draft.create_time = j.create_time;
    draft.update_time = clock_.Now();
    tx.SaveJourney(draft);
    tx.EmitJourney("journey.updated", draft);
    return draft;
  });
}

absl::StatusOr<Journey> Journeys::Act(const outbox::WriteMeta& meta, const std::string& id,
                                      domain::JourneyAction action) {
  if (!common::IsUuid(id)) return domain::JourneyNotFound(id);
  return journeys_.Run<Journey>(meta, id, [&](JourneyTx& tx) -> absl::StatusOr<Journey> {
    CRM_ASSIGN_OR_RETURN(Journey j, tx.LoadJourneyForUpdate(id));
    CRM_ASSIGN_OR_RETURN(JourneyState to, domain::NextJourneyState(j, action));
    const absl::Time now = clock_.Now();
    j.state = to;
    if (to == JourneyState::kActive && !j.activated_time) j.activated_time = now;
    if (to == JourneyState::kArchived) {
      j.archived_time = now;
      CRM_ASSIGN_OR_RETURN(int64_t exited, tx.ExitEnrollments(id, "archived"));
      (void)exited;
    }
    ++j.version;
    j.update_time = now;
    tx.SaveJourney(j);
    const char* event = action == domain::JourneyAction::kActivate ? "journey.activated"
                        : action == domain::JourneyAction::kPause  ? "journey.paused"
                        : action == domain::JourneyAction::kResume ? "journey.resumed"
                                                                   : "journey.archived";
    tx.EmitJourney(event, j);
    return j;
  });
}

absl::StatusOr<std::optional<domain::Enrollment>> Journeys::Insert(const outbox::WriteMeta& meta,
                                                                   const Journey& j,
                                                                   const std::string& customer_id,
                                                                   const std::string& event_id) {
  const absl::Time now = clock_.Now();
  domain::Enrollment e;
  e.id = ids_.NewId();
  e.journey_id = j.id;
  e.customer_id = customer_id;
  e.event_id = event_id;
  e.enter_time = now;
  domain::EnterStep(j, e, j.steps.front().id, now);
  absl::StatusOr<domain::Enrollment> made = journeys_.Run<domain::Enrollment>(
      meta, e.id, [&](JourneyTx& tx) -> absl::StatusOr<domain::Enrollment> {
        CRM_ASSIGN_OR_RETURN(std::optional<domain::Enrollment> in,
                             tx.InsertEnrollment(e, j.reentry));
        if (!in) {
          return common::WithReason(
              absl::AlreadyExistsError(absl::StrCat(
                  "customer ", customer_id, " may not enter journey ", j.id, " again (re-entry ",
                  j.reentry == domain::JourneyReentry::kOnce ? "once" : "after exit", ")")),
              "JOURNEY_ENROLLMENT_EXISTS");
        }
        return *in;
      });
  if (!made.ok() && common::ReasonOf(made.status()) == "JOURNEY_ENROLLMENT_EXISTS" &&
      meta.idempotency_key.empty()) {
    return std::nullopt;  // an event's enrolment the policy keeps out: nothing to do
  }
  if (!made.ok()) return made.status();
  return std::optional<domain::Enrollment>(std::move(*made));
}

absl::StatusOr<domain::Enrollment> Journeys::Enroll(const outbox::WriteMeta& meta,
                                                    const std::string& id,
                                                    const std::string& customer_id) {
  if (!common::IsUuid(customer_id)) {
    return common::InvalidField("customer_id", "customer_id is a customer's id (a UUID)");
  }
  CRM_ASSIGN_OR_RETURN(Journey j, Get(meta.tenant_id, id));
  if (j.state != JourneyState::kActive) return StateInvalid(j, "only an active journey enrols");
  CRM_ASSIGN_OR_RETURN(auto contacts, customers_.GetContacts(meta.tenant_id, {customer_id}));
  if (contacts.count(customer_id) == 0) {
    return common::NotFound("CUSTOMER_NOT_FOUND",
                            absl::StrCat("customer ", customer_id, " not found"));
  }
  CRM_ASSIGN_OR_RETURN(std::optional<domain::Enrollment> e, Insert(meta, j, customer_id, ""));
  if (!e) return absl::InternalError("enrolment neither made nor refused");
  return *e;
}

absl::StatusOr<std::vector<EnrollmentView>> Journeys::Enrollments(const std::string& tenant,
                                                                  const std::string& id,
                                                                  const std::string& customer_id,
                                                                  int page_size) {
  if (page_size < 0 || page_size > 100) {
    return common::InvalidField("page_size", "page_size is 1..100 (0: 50)");
  }
  if (!customer_id.empty() && !common::IsUuid(customer_id)) {
    return common::InvalidField("customer_id", "customer_id is a customer's id (a UUID)");
  }
  CRM_ASSIGN_OR_RETURN(Journey j, Get(tenant, id));
  return journeys_.ListEnrollments(tenant, j.id, customer_id, page_size == 0 ? 50 : page_size);
}

absl::StatusOr<JourneyResults> Journeys::Results(const std::string& tenant, const std::string& id) {
  JourneyResults out;
  CRM_ASSIGN_OR_RETURN(out.journey, Get(tenant, id));
  CRM_ASSIGN_OR_RETURN(out.counts, journeys_.CountJourney(tenant, id));
  return out;
}

absl::StatusOr<int> Journeys::OnEvent(const std::string& tenant, const TriggerEvent& ev) {
  if (ev.kind != domain::TriggerKind::kSegmentEntered &&
      ev.kind != domain::TriggerKind::kOrderPlaced) {
    return 0;
  }
  CRM_ASSIGN_OR_RETURN(std::vector<Journey> listening,
                       journeys_.ListeningJourneys(tenant, ev.kind));
  if (listening.empty()) return 0;
  const domain::JourneyEvent event{ev.kind, ev.segment_id};
  std::map<std::string, const Journey*> by_id;
  std::vector<std::string> ids;
  for (const Journey& j : listening) {
    by_id[j.id] = &j;
    ids.push_back(j.id);
  }
  int changed = 0;
  // Goals and waits first: an event that is also a trigger enrols after.
  CRM_ASSIGN_OR_RETURN(std::vector<domain::Enrollment> active,
                       journeys_.ActiveEnrollments(tenant, ev.customer_id, ids));
  for (domain::Enrollment& e : active) {
    const Journey& j = *by_id[e.journey_id];
    const absl::Time now = clock_.Now();
    const int64_t expected = e.version;
    const int seq = e.seq;
    if (domain::EventMatches(j.goal, event)) {
      domain::EndEnrollment(e, EnrollmentState::kGoalReached, "goal", now);
    } else if (j.state == JourneyState::kActive && e.waiting_for_event) {
      const JourneyStep* step = domain::FindStep(j, e.step_id);
      if (step == nullptr || step->kind != StepKind::kWaitForEvent ||
          !domain::EventMatches(step->event, event)) {
        continue;
      }
      domain::EnterStep(j, e, domain::StepAfter(j, *step, step->on_event), now);
    } else {
      continue;
    }
    CRM_ASSIGN_OR_RETURN(bool saved,
                         journeys_.SaveEnrollment(tenant, e, expected, e.seq > seq, false));
    // A runner moved it meanwhile: the event is handled again (redelivered).
    if (!saved) {
      return absl::AbortedError(
          absl::StrCat("enrolment ", e.id, " changed while its event was applied; retry"));
    }
    ++changed;
  }
  for (const Journey& j : listening) {
    if (j.state != JourneyState::kActive || !domain::EventMatches(j.trigger, event)) continue;
    CRM_ASSIGN_OR_RETURN(
        std::optional<domain::Enrollment> e,
        Insert(RunnerMeta(tenant, "JourneyTrigger"), j, ev.customer_id,
               ev.event_id.empty() ? "" : absl::StrCat(EventName(ev.kind), ":", ev.event_id)));
    if (e) ++changed;
  }
  return changed;
}

absl::StatusOr<std::string> Journeys::TakeStep(const std::string& tenant, const JourneyStep& step,
                                               const domain::Enrollment& e) {
  switch (step.kind) {
    case StepKind::kCondition: {
      CRM_ASSIGN_OR_RETURN(bool holds, segments_.Matches(tenant, e.customer_id, step.expression));
      return holds ? std::string() : step.on_false;
    }
    case StepKind::kSend:
    case StepKind::kOffer: {
      const absl::Time now = clock_.Now();
      domain::Message m;
      m.id = ids_.NewId();
      m.customer_id = e.customer_id;
      m.channel = step.channel;
      m.purpose = step.purpose;
      m.template_id = step.template_id;
      m.endpoint_id = step.endpoint_id;
      m.offer_count = step.offer_count;
      m.state = domain::State::kQueued;
      m.max_attempts = options_.max_attempts;
      m.request_id = domain::JourneyMessageKey(e);
      m.create_time = now;
      m.next_attempt_time = now;
      std::vector<std::string> inserted;
      CRM_RETURN_IF_ERROR(ledger_
                              .Run<bool>(RunnerMeta(tenant, "JourneySend"), m.id,
                                         [&](DeliveryTx& tx) -> absl::StatusOr<bool> {
                                           CRM_ASSIGN_OR_RETURN(inserted,
                                                                tx.InsertCampaignMessages({m}));
                                           return !inserted.empty();
                                         })
                              .status());
      if (!inserted.empty()) {
        // Lost from the queue, the sweeper finds it.
        absl::Status q = queue_.Enqueue({{tenant, inserted.front()}});
        (void)q;
      }
      return std::string();
    }
    case StepKind::kUpdateAttribute:
      CRM_RETURN_IF_ERROR(customers_.SetAttribute(tenant, e.customer_id, step.attribute, step.value,
                                                  absl::StrCat("journey-", e.id, "-", e.seq)));
      return std::string();
    default:
      return absl::InternalError(
          absl::StrCat("step kind ", domain::StepKindName(step.kind), " has no effect to take"));
  }
}

absl::StatusOr<bool> Journeys::Run(const std::string& tenant, const Journey& j,
                                   domain::Enrollment e) {
  for (int n = 0; n <= domain::kMaxStepsPerRun; ++n) {
    const absl::Time now = clock_.Now();
    if (e.state != EnrollmentState::kActive || e.due_time > now) return true;
    const int64_t expected = e.version;
    const int seq = e.seq;
    const JourneyStep* step = domain::FindStep(j, e.step_id);
    if (n == domain::kMaxStepsPerRun || j.state != JourneyState::kActive) {
      // Given back as it is: a paused journey's, or one that took its turn.
      return journeys_.SaveEnrollment(tenant, e, expected, false, false);
    }
    if (step == nullptr) {
      domain::EndEnrollment(e, EnrollmentState::kExited, "step_gone", now);
    } else if (step->kind == StepKind::kExit) {
      domain::EndEnrollment(e, EnrollmentState::kCompleted, "exit_step", now);
    } else if (step->kind == StepKind::kWait || step->kind == StepKind::kWaitForEvent) {
      // The wait is over (a wait-for-event's timeout: its default next).
      domain::EnterStep(j, e, domain::StepAfter(j, *step, ""), now);
    } else {
      absl::StatusOr<std::string> branch = TakeStep(tenant, *step, e);
      if (branch.ok()) {
        domain::EnterStep(j, e, domain::StepAfter(j, *step, *branch), now);
      } else if (branch.status().code() == absl::StatusCode::kNotFound) {
        domain::EndEnrollment(e, EnrollmentState::kExited, "customer_gone", now);
      } else {
        observability::LogLine(observability::Severity::kWarning)
                .Field("tenant", tenant)
                .Field("enrollment", e.id)
                .Field("step", step->id)
                .Field("error", branch.status().ToString())
            << "journey step failed; tried again later";
        domain::FailStep(e, std::string(branch.status().message()), now, options_.step_attempts);
      }
    }
    const bool keep = e.state == EnrollmentState::kActive && e.due_time <= now;
    CRM_ASSIGN_OR_RETURN(bool saved,
                         journeys_.SaveEnrollment(tenant, e, expected, e.seq > seq, keep));
    if (!saved) return false;
    e.version = expected + 1;
  }
  return true;
}

absl::StatusOr<int> Journeys::Tick() {
  CRM_ASSIGN_OR_RETURN(std::vector<JourneyRepository::EnrollmentRef> due,
                       journeys_.DueEnrollments(clock_.Now(), options_.batch));
  std::map<std::string, std::vector<std::string>> by_tenant;
  for (const auto& d : due) by_tenant[d.tenant].push_back(d.id);
  int moved = 0;
  for (const auto& [tenant, ids] : by_tenant) {
    CRM_ASSIGN_OR_RETURN(std::vector<domain::Enrollment> claimed,
                         journeys_.ClaimEnrollments(tenant, ids, clock_.Now(), options_.lease));
    std::map<std::string, Journey> journeys;
    for (domain::Enrollment& e : claimed) {
      auto it = journeys.find(e.journey_id);
      if (it == journeys.end()) {
        CRM_ASSIGN_OR_RETURN(Journey j, journeys_.GetJourney(tenant, e.journey_id));
        it = journeys.emplace(e.journey_id, std::move(j)).first;
      }
      CRM_ASSIGN_OR_RETURN(bool ran, Run(tenant, it->second, std::move(e)));
      if (ran) ++moved;
    }
  }
  return moved;
}

}  // namespace crm::delivery::app
