#include "services/service_desk/domain/trigger.h"

#include <algorithm>
#include <set>
#include <utility>

#include "absl/strings/str_cat.h"
#include "libs/common/errors.h"
#include "libs/common/status_macros.h"
#include "libs/common/text.h"
#include "services/service_desk/domain/macro.h"

namespace crm::service_desk::domain {
namespace {

constexpr TriggerEvent kEvents[] = {TriggerEvent::kCreated,         TriggerEvent::kUpdated,
                                    TriggerEvent::kCustomerMessage, TriggerEvent::kAgentMessage,
                                    TriggerEvent::kSlaWarning,      TriggerEvent::kSlaBreach,
                                    TriggerEvent::kSlaEscalation,   TriggerEvent::kSurveyAnswered};

bool RunsIn(const Trigger& t, const std::vector<TriggerEvent>& events) {
  return t.active && std::any_of(t.events.begin(), t.events.end(), [&](TriggerEvent e) {
           return std::find(events.begin(), events.end(), e) != events.end();
         });
}

}  // namespace

const char* TriggerEventName(TriggerEvent e) {
  switch (e) {
    case TriggerEvent::kCreated:
      return "created";
    case TriggerEvent::kUpdated:
      return "updated";
    case TriggerEvent::kCustomerMessage:
      return "customer_message";
    case TriggerEvent::kAgentMessage:
      return "agent_message";
    case TriggerEvent::kSlaWarning:
      return "sla_warning";
    case TriggerEvent::kSlaBreach:
      return "sla_breach";
    case TriggerEvent::kSurveyAnswered:
      return "survey_answered";
    case TriggerEvent::kSlaEscalation:
      return "sla_escalation";
  }
  return "";
}

std::optional<TriggerEvent> TriggerEventFromName(const std::string& name) {
  for (TriggerEvent e : kEvents) {
    if (name == TriggerEventName(e)) return e;
  }
  return std::nullopt;
}

absl::Status NormalizeAndValidate(Triggers& t) {
  if (t.triggers.size() > kMaxTriggers) {
    return common::InvalidField("triggers", absl::StrCat("at most ", kMaxTriggers, " triggers"));
  }
  std::set<std::string> ids;
  for (size_t i = 0; i < t.triggers.size(); ++i) {
    Trigger& tr = t.triggers[i];
    const std::string at = absl::StrCat("triggers[", i, "]");
    CRM_RETURN_IF_ERROR(NormalizeRuleIdAndName(tr.id, tr.name, at));
    if (!ids.insert(tr.id).second) {
      return common::InvalidField(at + ".id",
                                  absl::StrCat(at, ".id \"", tr.id, "\" is used twice"));
    }
    if (tr.events.empty()) {
      return common::InvalidField(at + ".events",
                                  absl::StrCat(at,
                                               ".events names 1..8 of created, updated, "
                                               "customer_message, agent_message, sla_warning, "
                                               "sla_breach, sla_escalation, survey_answered"));
    }
    std::sort(tr.events.begin(), tr.events.end());
    tr.events.erase(std::unique(tr.events.begin(), tr.events.end()), tr.events.end());
    CRM_RETURN_IF_ERROR(NormalizeAndValidateConditions(tr.conditions, at + ".conditions",
                                                       ConditionScope::kTrigger));
    CRM_RETURN_IF_ERROR(NormalizeAndValidateRuleEffect(tr.action, tr.note, at));
  }
  return absl::OkStatus();
}

absl::Status NormalizeAndValidateRuleEffect(TicketEdits& action, const std::string& note,
                                            const std::string& at) {
  CRM_RETURN_IF_ERROR(NormalizeAndValidateEdits(action, at + ".action."));
  CRM_RETURN_IF_ERROR(CheckTicketTemplate(at + ".note", note));
  if (CharCount(note) > kMaxTriggerNote) {
    return common::InvalidField(
        at + ".note", absl::StrCat(at, ".note is at most ", kMaxTriggerNote, " characters"));
  }
  if (action.empty() && note.empty()) {
    return common::InvalidField(at + ".action",
                                absl::StrCat(at, " changes a field or adds a note"));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::optional<TriggerFiring>> FireRule(
    const std::string& id, const std::string& name, const TicketEdits& action,
    const std::string& note, const std::string& actor, Ticket& t, absl::Time now) {
  CRM_ASSIGN_OR_RETURN(Edited edited, ApplyEdits(action, t, now));
  std::string filled = FillTicketTemplate(note, edited.ticket, name);
  if (edited.paths.empty() && filled.empty()) return std::optional<TriggerFiring>();
  TriggerFiring f;
  f.trigger_id = id;
  f.changes = Diff(t, edited.ticket, actor, now);
  f.note = std::move(filled);
  t = std::move(edited.ticket);
  return std::optional<TriggerFiring>(std::move(f));
}

TriggerRun RunTriggers(const Triggers& triggers, const std::vector<TriggerEvent>& events,
                       const Ticket* before, const Ticket& after, absl::Time now,
                       const SurveyAnswerFacts* survey) {
  TriggerRun run{after, {}, {}, false};
  std::vector<bool> done(triggers.triggers.size(), false);
  const auto holds = [&](size_t i) {
    const Trigger& tr = triggers.triggers[i];
    RoutingInput in;
    in.ticket = &run.ticket;
    in.before = before;
    in.survey = survey;
    return !done[i] && RunsIn(tr, events) && ConditionsHold(tr.conditions, in);
  };
  for (int pass = 0; pass < kMaxTriggerPasses; ++pass) {
    bool fired = false;
    for (size_t i = 0; i < triggers.triggers.size(); ++i) {
      if (!holds(i)) continue;
      const Trigger& tr = triggers.triggers[i];
      done[i] = true;
      absl::StatusOr<std::optional<TriggerFiring>> f =
          FireRule(tr.id, tr.name, tr.action, tr.note, "trigger/" + tr.id, run.ticket, now);
      if (!f.ok()) {
        run.refused.emplace_back(tr.id, std::string(f.status().message()));
        continue;
      }
      if (!*f) continue;  // nothing to change
      run.fired.push_back(**std::move(f));
      fired = true;
    }
    if (!fired) return run;
  }
  // The guard stopped the chain if one more pass would have fired.
  for (size_t i = 0; i < triggers.triggers.size() && !run.chain_cut; ++i) {
    if (!holds(i)) continue;
    const Trigger& tr = triggers.triggers[i];
    Ticket probe = run.ticket;
    absl::StatusOr<std::optional<TriggerFiring>> f =
        FireRule(tr.id, tr.name, tr.action, tr.note, "", probe, now);
    run.chain_cut = f.ok() && f->has_value();
  }
  return run;
}

}  // namespace crm::service_desk::domain
