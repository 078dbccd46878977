#include "services/service_desk/app/triggers.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "libs/common/errors.h"
#include "libs/common/id.h"
#include "libs/common/request_id.h"
#include "libs/common/status_macros.h"
#include "services/service_desk/app/documents.h"

namespace crm::service_desk::app {

absl::StatusOr<TriggerEffects> RunTriggersInWrite(TicketTx& tx,
                                                  const std::vector<domain::TriggerEvent>& events,
                                                  const domain::Ticket* before, domain::Ticket& t,
                                                  absl::Time now, common::IdGenerator& ids,
                                                  const domain::SurveyAnswerFacts* survey) {
  CRM_ASSIGN_OR_RETURN(domain::Triggers triggers, tx.ReadTriggers());
  return RunTriggersInWrite(triggers, events, before, t, now, ids, survey);
}

bool WriteTriggerEffects(TicketTx& tx, const domain::Ticket& before, domain::Ticket& t,
                         const TriggerEffects& fx) {
  if (fx.audit.empty() && fx.notes.empty()) return false;
  if (!fx.audit.empty()) tx.AppendChanges(t.id, fx.audit);
  if (domain::Diff(before, t, "", t.update_time).empty() && fx.notes.empty()) {
    return false;  // refusals only
  }
  t.version = before.version + 1;
  tx.SaveTicket(t, false);
  for (const domain::TicketMessage& note : fx.notes) tx.AppendMessage(note);
  tx.EmitTicket("ticket.updated", t);
  for (const domain::TicketMessage& note : fx.notes) tx.EmitMessage(note, t);
  if (t.status != before.status) tx.EmitStatusChange(t, before.status);
  return true;
}

absl::StatusOr<TriggerEffects> RunTriggersInWrite(const domain::Triggers& triggers,
                                                  const std::vector<domain::TriggerEvent>& events,
                                                  const domain::Ticket* before, domain::Ticket& t,
                                                  absl::Time now, common::IdGenerator& ids,
                                                  const domain::SurveyAnswerFacts* survey) {
  TriggerEffects fx;
  if (triggers.triggers.empty()) return fx;
  domain::TriggerRun run = domain::RunTriggers(triggers, events, before, t, now, survey);
  t = std::move(run.ticket);  // its fields; the notes below count themselves
  absl::Time at = now;
  for (domain::TriggerFiring& f : run.fired) {
    for (domain::TicketChange& c : f.changes) fx.audit.push_back(std::move(c));
    if (f.note.empty()) continue;
    at += absl::Microseconds(1);
    domain::TicketMessage note;
    note.id = ids.NewId();
    note.ticket_id = t.id;
    note.kind = domain::MessageKind::kInternalNote;
    note.author = "trigger/" + f.trigger_id;
    note.body = std::move(f.note);
    note.create_time = at;
    CRM_RETURN_IF_ERROR(domain::ApplyMessage(note, at, t));
    fx.notes.push_back(std::move(note));
  }
  for (const auto& [id, why] : run.refused) {
    fx.audit.push_back(
        {0, "trigger_refused", "", absl::StrCat(id, ": ", why), "trigger/" + id, now});
  }
  if (run.chain_cut) {
    fx.audit.push_back({0, "trigger_chain", "",
                        absl::StrCat("cut after ", domain::kMaxTriggerPasses, " passes"), "trigger",
                        now});
  }
  return fx;
}

absl::StatusOr<domain::Triggers> TriggerRules::Get(const std::string& tenant) {
  return repository_.GetTriggers(tenant);
}

absl::StatusOr<domain::Triggers> TriggerRules::Update(const Actor& actor, domain::Triggers triggers,
                                                      const std::string& if_match) {
  CRM_RETURN_IF_ERROR(common::RequireRequestId(actor.idempotency_key));
  CRM_RETURN_IF_ERROR(domain::NormalizeAndValidate(triggers));
  return WriteDocument(repository_, clock_, actor, triggers, if_match, "triggers", "triggers",
                       &TicketTx::LoadTriggers, &TicketTx::SaveTriggers);
}

absl::StatusOr<std::vector<TriggerTrial>> TriggerRules::DryRun(
    const std::string& tenant, std::optional<domain::Triggers> proposed,
    const std::vector<std::string>& ticket_ids, domain::TriggerEvent event) {
  if (ticket_ids.empty() || ticket_ids.size() > kMaxTriggerTrials) {
    return common::InvalidField(
        "ticket_ids", absl::StrCat("ticket_ids names 1..", kMaxTriggerTrials, " tickets"));
  }
  for (size_t i = 0; i < ticket_ids.size(); ++i) {
    if (!common::IsUuid(ticket_ids[i])) {
      const std::string field = absl::StrCat("ticket_ids[", i, "]");
      return common::InvalidField(field, field + " must be a UUID");
    }
  }
  domain::Triggers triggers;
  if (proposed) {
    triggers = *std::move(proposed);
    CRM_RETURN_IF_ERROR(domain::NormalizeAndValidate(triggers));
  } else {
    CRM_ASSIGN_OR_RETURN(triggers, repository_.GetTriggers(tenant));
  }
  const absl::Time now = absl::FromUnixMicros(absl::ToUnixMicros(clock_.Now()));
  std::vector<TriggerTrial> out;
  for (const std::string& id : ticket_ids) {
    CRM_ASSIGN_OR_RETURN(domain::Ticket t, repository_.GetTicket(tenant, id));
    TriggerTrial trial{t, {}};
    const domain::Ticket* before =
        event == domain::TriggerEvent::kCreated ? nullptr : &trial.ticket;
    trial.run =
        domain::RunTriggers(triggers, {event}, before, trial.ticket, std::max(now, t.update_time));
    out.push_back(std::move(trial));
  }
  return out;
}

}  // namespace crm::service_desk::app
