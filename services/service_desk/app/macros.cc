#include "services/service_desk/app/macros.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "libs/common/errors.h"
#include "libs/common/etag.h"
#include "libs/common/request_id.h"
#include "libs/common/status_macros.h"
#include "services/service_desk/app/documents.h"

namespace crm::service_desk::app {
namespace {

absl::Status MacroNotFound() {
  return common::NotFound("MACRO_NOT_FOUND", "no macro has this macro_id");
}

absl::Status CheckId(const char* field, const std::string& id) {
  if (!common::IsUuid(id))
    return common::InvalidField(field, absl::StrCat(field, " must be a UUID"));
  return absl::OkStatus();
}

// What a macro does to `t` at `now`: its reply (as the message would
// leave the ticket) then its field changes. The message's id, body and
// kind set; the rest is the write's.
struct Plan {
  domain::MacroOutcome outcome;
  std::optional<domain::TicketMessage> message;
};
absl::StatusOr<Plan> PlanOf(const domain::Macro& m, const domain::Ticket& t,
                            const std::string& agent, absl::Time now) {
  Plan p;
  domain::Ticket after_reply = t;
  if (!m.reply.empty()) {
    domain::TicketMessage probe;
    probe.kind =
        m.internal ? domain::MessageKind::kInternalNote : domain::MessageKind::kPublicReply;
    probe.body = "x";
    CRM_RETURN_IF_ERROR(domain::ApplyMessage(probe, now, after_reply));
  }
  CRM_ASSIGN_OR_RETURN(p.outcome, domain::ApplyMacro(m, after_reply, agent, now));
  if (!m.reply.empty()) {
    domain::TicketMessage msg;
    msg.ticket_id = t.id;
    msg.kind = m.internal ? domain::MessageKind::kInternalNote : domain::MessageKind::kPublicReply;
    msg.body = p.outcome.reply;
    msg.author = agent;
    msg.create_time = now;
    // The filled-in reply is a message body like any other (its limits).
    if (!domain::ApplyMessage(msg, now, after_reply).ok()) {
      return common::InvalidField(
          "macro.reply", "the macro's reply filled in for this ticket is empty or too long");
    }
    p.message = std::move(msg);
  }
  return p;
}

// A label answers with one macro: ALREADY_EXISTS INTENT_BOUND naming the
// macro that has it.
absl::Status IntentsFree(TicketTx& tx, const domain::Macro& m) {
  if (m.intents.empty()) return absl::OkStatus();
  CRM_ASSIGN_OR_RETURN(std::optional<TicketTx::IntentBinding> bound,
                       tx.BoundIntent(m.intents, m.id));
  if (!bound) return absl::OkStatus();
  return common::WithReason(
      absl::AlreadyExistsError(absl::StrCat("the intent \"", bound->label, "\" is bound to macro ",
                                            bound->macro_id, "; remove it there first")),
      "INTENT_BOUND");
}

}  // namespace

const ResourceKind<domain::Macro> kMacroKind{"macro",
                                             domain::kMaxMacros,
                                             "TOO_MANY_MACROS",
                                             MacroNotFound,
                                             &TicketTx::LoadMacro,
                                             &TicketTx::SaveMacro,
                                             &TicketTx::DeleteMacro,
                                             &TicketTx::CountMacros,
                                             IntentsFree};

absl::Status MacroApplies(const domain::Macro& m, const domain::Ticket& t, const std::string& agent,
                          absl::Time now) {
  return PlanOf(m, t, agent, now).status();
}

absl::StatusOr<MessageAdded> WriteMacro(Tickets& tickets, TicketTx& tx, const Actor& actor,
                                        const domain::Ticket& current, const domain::Macro& m,
                                        const std::string& message_id,
                                        domain::OutboundKind mail_kind) {
  const absl::Time now = tickets.NowAfter(current);
  CRM_ASSIGN_OR_RETURN(Plan p, PlanOf(m, current, actor.principal, now));
  MessageAdded done{domain::TicketMessage(), current};
  // One run of the triggers for the whole macro: with its changes when it
  // has some (the reply's event joins theirs).
  const bool changes = !p.outcome.paths.empty();
  std::vector<domain::TriggerEvent> also;
  if (p.message) {
    p.message->id = message_id;
    p.message->author.clear();  // the write's: actor.principal
    also.push_back(domain::TriggerEvent::kAgentMessage);
    CRM_ASSIGN_OR_RETURN(
        done, tickets.WriteMessage(tx, actor, *std::move(p.message), !changes, mail_kind));
  }
  if (changes) {
    CRM_ASSIGN_OR_RETURN(done.ticket, tickets.WriteUpdate(tx, actor, current.id, p.outcome.ticket,
                                                          p.outcome.paths, "", also));
  }
  // Its row comes after what it changed (at the same instant, or now when
  // it changed nothing).
  tx.AppendChanges(current.id, {{0, "macro", "", m.name, actor.principal,
                                 std::max(now, done.ticket.update_time)}});
  return done;
}

absl::Time Macros::Now() const { return absl::FromUnixMicros(absl::ToUnixMicros(clock_.Now())); }

absl::StatusOr<domain::Macro> Macros::Create(const Actor& actor, domain::Macro m) {
  CRM_RETURN_IF_ERROR(common::RequireRequestId(actor.idempotency_key));
  CRM_RETURN_IF_ERROR(domain::NormalizeAndValidate(m));
  m.id = ids_.NewId();
  m.version = 1;
  m.create_time = m.update_time = Now();
  return CreateResource(repository_, kMacroKind, actor, m);
}

absl::StatusOr<domain::Macro> Macros::Get(const std::string& tenant, const std::string& id) {
  CRM_RETURN_IF_ERROR(CheckId("macro_id", id));
  return repository_.GetMacro(tenant, id);
}

absl::StatusOr<std::vector<domain::Macro>> Macros::List(const std::string& tenant) {
  return repository_.ListMacros(tenant);
}

absl::StatusOr<domain::Macro> Macros::Update(const Actor& actor, const std::string& id,
                                             domain::Macro m, const std::string& if_match) {
  CRM_RETURN_IF_ERROR(common::RequireRequestId(actor.idempotency_key));
  CRM_RETURN_IF_ERROR(CheckId("macro_id", id));
  CRM_RETURN_IF_ERROR(domain::NormalizeAndValidate(m));
  const absl::Time now = Now();
  return ChangeResource<domain::Macro>(
      repository_, kMacroKind, actor, id, if_match,
      [&](const domain::Macro& current) {
        domain::Macro next = m;
        next.id = id;
        next.version = current.version + 1;
        next.create_time = current.create_time;
        next.update_time = std::max(now, current.update_time);
        return next;
      },
      false);
}

absl::StatusOr<domain::Macro> Macros::Delete(const Actor& actor, const std::string& id,
                                             const std::string& if_match) {
  CRM_RETURN_IF_ERROR(common::RequireRequestId(actor.idempotency_key));
  CRM_RETURN_IF_ERROR(CheckId("macro_id", id));
  return ChangeResource<domain::Macro>(
      repository_, kMacroKind, actor, id, if_match,
      [](const domain::Macro& current) { return current; }, true);
}

absl::StatusOr<MacroApplied> Macros::Apply(const Actor& actor, const std::string& ticket_id,
                                           const std::string& macro_id, bool dry_run,
                                           const std::string& if_match) {
  CRM_RETURN_IF_ERROR(CheckId("ticket_id", ticket_id));
  CRM_RETURN_IF_ERROR(CheckId("macro_id", macro_id));
  MacroApplied out;
  out.dry_run = dry_run;
  if (dry_run) {
    CRM_ASSIGN_OR_RETURN(domain::Ticket t, repository_.GetTicket(actor.tenant_id, ticket_id));
    CRM_RETURN_IF_ERROR(common::CheckEtag("ticket", domain::EtagOf(t), if_match));
    CRM_ASSIGN_OR_RETURN(domain::Macro m, repository_.GetMacro(actor.tenant_id, macro_id));
    const absl::Time now = tickets_.NowAfter(t);
    CRM_ASSIGN_OR_RETURN(Plan p, PlanOf(m, t, actor.principal, now));
    out.changes = domain::Diff(t, p.outcome.ticket, actor.principal, now);
    out.result.ticket = std::move(p.outcome.ticket);
    if (p.message) out.result.message = *std::move(p.message);
    return out;
  }
  CRM_RETURN_IF_ERROR(common::RequireRequestId(actor.idempotency_key));
  const std::string message_id = ids_.NewId();
  CRM_ASSIGN_OR_RETURN(
      out.result,
      repository_.Run<MessageAdded>(
          actor, ticket_id, [&](TicketTx& tx) -> absl::StatusOr<MessageAdded> {
            CRM_ASSIGN_OR_RETURN(domain::Ticket current, tx.LoadTicket(ticket_id));
            CRM_RETURN_IF_ERROR(common::CheckEtag("ticket", domain::EtagOf(current), if_match));
            CRM_ASSIGN_OR_RETURN(std::optional<domain::Macro> m, tx.LoadMacro(macro_id));
            if (!m) return MacroNotFound();
            return WriteMacro(tickets_, tx, actor, current, *m, message_id,
                              domain::OutboundKind::kReply);
          }));
  return out;
}

}  // namespace crm::service_desk::app
