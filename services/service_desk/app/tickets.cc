#include "services/service_desk/app/tickets.h"

#include <algorithm>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "libs/common/crypto.h"
#include "libs/common/errors.h"
#include "libs/common/etag.h"
#include "libs/common/id.h"
#include "libs/common/request_id.h"
#include "libs/common/status_macros.h"
#include "libs/common/text.h"
#include "services/service_desk/app/agents.h"
#include "services/service_desk/app/slas.h"
#include "services/service_desk/app/triggers.h"
#include "services/service_desk/domain/ticket_merge.h"

namespace crm::service_desk::app {
namespace {

using domain::Ticket;

absl::Status CheckTicketId(const std::string& id) {
  if (!common::IsUuid(id)) return common::InvalidField("ticket_id", "ticket_id must be a UUID");
  return absl::OkStatus();
}

absl::Status CheckRequester(Requester& who) {
  who.email = absl::AsciiStrToLower(absl::StripAsciiWhitespace(who.email));
  if (who.customer_id.empty() == who.email.empty()) {
    return common::InvalidField(
        "requester_email", "give the requester as customer_id or as requester_email (one of them)");
  }
  if (!who.customer_id.empty() && !common::IsUuid(who.customer_id)) {
    return common::InvalidField("customer_id", "customer_id must be a UUID");
  }
  CRM_RETURN_IF_ERROR(common::CheckStorableText("requester_email", who.email));
  if (!who.email.empty() && (who.email.size() > 254 || who.email.find('@') == std::string::npos)) {
    return common::InvalidField("requester_email",
                                "requester_email must be an email address of at most 254 "
                                "characters");
  }
  CRM_RETURN_IF_ERROR(common::CheckStorableText("requester_name", who.name));
  if (domain::CharCount(who.name) > 200) {
    return common::InvalidField("requester_name", "requester_name is at most 200 characters");
  }
  return absl::OkStatus();
}

// A list of distinct ids (UUIDs) of `what`, each named field[i] when wrong.
absl::Status CheckIdList(const char* field, const std::vector<std::string>& ids, const char* what) {
  for (size_t i = 0; i < ids.size(); ++i) {
    if (!common::IsUuid(ids[i]) ||
        std::find(ids.begin(), ids.begin() + i, ids[i]) != ids.begin() + i) {
      return common::InvalidField(absl::StrCat(field, "[", i, "]"),
                                  absl::StrCat(field, " are distinct ", what, " ids (UUIDs)"));
    }
  }
  return absl::OkStatus();
}

// The filters of a list, checked like the fields they match.
absl::Status CheckFilter(const char* field, const std::string& value, size_t max) {
  CRM_RETURN_IF_ERROR(common::CheckStorableText(field, value));
  if (domain::CharCount(value) > max) {
    return common::InvalidField(field, absl::StrCat(field, " is at most ", max, " characters"));
  }
  return absl::OkStatus();
}

// The ticket's own fields are named under "ticket" in requests
// (ticket.subject, ticket.tags[1]).
absl::Status TicketFields(absl::Status s) {
  if (s.ok() || common::FieldOf(s).empty()) return s;
  const std::string field = absl::StrCat("ticket.", common::FieldOf(s));
  return common::WithField(std::move(s), field);
}

}  // namespace

absl::Status Tickets::ScheduleSurveyOnSolve(TicketTx& tx, const std::string& solver,
                                            const Ticket& before, const Ticket& after,
                                            absl::Time now) {
  if (domain::IsDone(before.status) || !domain::IsDone(after.status)) return absl::OkStatus();
  CRM_ASSIGN_OR_RETURN(domain::SurveySettings settings, tx.ReadSurveySettings());
  if (domain::SurveyOnSolve(settings, after, solver) != domain::SurveyVerdict::kScheduled) {
    return absl::OkStatus();
  }
  bool nps_due = false;
  if (settings.nps_enabled) {
    CRM_ASSIGN_OR_RETURN(
        const bool asked,
        tx.NpsAskedSince(after.customer_id, now - absl::Hours(24) * settings.nps_every_days));
    nps_due = !asked;
  }
  const std::optional<domain::SurveyKind> kind = domain::KindOnSolve(settings, nps_due);
  if (!kind) return absl::OkStatus();
  domain::Survey s;
  s.id = ids_.NewId();
  s.kind = *kind;
  s.ticket_id = after.id;
  s.customer_id = after.customer_id;
  s.due_time = now + settings.csat_delay;
  tx.ScheduleSurvey(s);
  return absl::OkStatus();
}

absl::Time Tickets::NowAfter(const Ticket& current) const {
  // Under the ticket's row lock: a write's instant never goes before the
  // ticket's last one, so a ticket's messages and changes are in the order
  // they committed (a thread paged to its end misses nothing later).
  return std::max(Now(), current.update_time);
}

absl::Time Tickets::Now() const {
  // Microseconds: what PostgreSQL keeps, so a ticket reads back as written.
  return absl::FromUnixMicros(absl::ToUnixMicros(clock_.Now()));
}

absl::StatusOr<Tickets::Opening> Tickets::Open(const Actor& actor, NewTicket n) {
  CRM_RETURN_IF_ERROR(common::RequireRequestId(actor.idempotency_key));
  Opening o{std::move(n.ticket), {}, ""};
  Ticket& t = o.ticket;
  if (t.status != domain::TicketStatus::kNew && t.status != domain::TicketStatus::kOpen) {
    return common::InvalidField("ticket.status", "a ticket is created new or open");
  }
  CRM_RETURN_IF_ERROR(TicketFields(domain::NormalizeAndValidate(t)));
  CRM_RETURN_IF_ERROR(CheckRequester(n.requester));
  // The tenant's classifiers predict (one in mode auto fills an empty
  // queue or type); then routing fills what is still open (checked again
  // after it), its conditions reading the predictions too.
  t.requester_email = n.requester.email;
  CRM_ASSIGN_OR_RETURN(t.predictions, models_.Predict(actor.tenant_id, n.description, t));
  if (std::any_of(t.predictions.begin(), t.predictions.end(),
                  [](const domain::TicketPrediction& p) { return p.applied; })) {
    CRM_RETURN_IF_ERROR(TicketFields(domain::NormalizeAndValidate(t)));
  }
  domain::TicketMessage& first = o.first;
  first.kind = domain::MessageKind::kCustomer;
  first.body = n.description;
  {
    Ticket probe = t;  // the body's checks, before anything is resolved
    CRM_RETURN_IF_ERROR(domain::ApplyMessage(first, absl::UnixEpoch(), probe));
  }
  // A retry answered from its key needs no requester: nothing is written.
  CRM_ASSIGN_OR_RETURN(bool replay, repository_.KeyUsed(actor));
  if (!replay) {
    CRM_ASSIGN_OR_RETURN(
        t.customer_id, directory_.Resolve(actor.tenant_id, n.requester,
                                          common::DerivedKey(actor.idempotency_key, "requester")));
    CRM_ASSIGN_OR_RETURN(t.number, repository_.NextNumber(actor.tenant_id));
  }
  CRM_ASSIGN_OR_RETURN(domain::RoutingRules rules, repository_.GetRoutingRules(actor.tenant_id));
  domain::RoutingInput in{&t, n.description, n.mailbox};
  in.predictions = &t.predictions;
  // The requester's facts, only for rules that read them; unknown ones
  // make those conditions not hold (and the audit says so).
  std::optional<domain::CustomerFacts> facts;
  if (!replay && domain::NeedsCustomerFacts(rules)) {
    absl::StatusOr<domain::CustomerFacts> got = facts_ == nullptr
                                                    ? absl::UnavailableError("no customer facts")
                                                    : facts_->Facts(actor.tenant_id, t.customer_id);
    if (got.ok()) {
      facts = *std::move(got);
      in.customer = &*facts;
    } else {
      o.customer_facts_missing = true;
    }
  }
  if (std::optional<size_t> rule = domain::MatchRouting(rules, in)) {
    const domain::RoutingRule& r = rules.rules[*rule];
    domain::ApplyRouting(r, n.priority_given, t);
    CRM_RETURN_IF_ERROR(TicketFields(domain::NormalizeAndValidate(t)));
    o.routed_by = r.name;
    if (t.assignee.empty()) {
      o.assign = r.action.assign;
      o.skills = r.action.skills;
    }
  }
  t.requester_email = n.requester.email;
  t.id = ids_.NewId();
  t.version = 1;
  t.create_time = t.update_time = t.status_time = Now();
  t.solve_time = absl::InfinitePast();
  t.message_count = 0;
  first.id = ids_.NewId();
  first.ticket_id = t.id;
  first.author = t.customer_id;
  first.create_time = t.create_time;
  // The requester's first message: a new or open ticket keeps its status.
  CRM_RETURN_IF_ERROR(domain::ApplyMessage(first, t.create_time, t));
  return o;
}

absl::Status Tickets::WriteOpening(TicketTx& tx, Opening& o) {
  std::vector<domain::TicketChange> audit;
  if (o.customer_facts_missing) {
    audit.push_back(
        {0, "routing_customer_facts", "", "unavailable", "routing", o.ticket.create_time});
  }
  if (!o.routed_by.empty()) {
    // The audit names the rule that routed the ticket (its fields are the
    // ticket's first values) and the agent its assignment chose.
    audit.push_back({0, "routing_rule", "", o.routed_by, "routing", o.ticket.create_time});
  }
  for (const domain::TicketPrediction& p : o.ticket.predictions) {
    if (!p.applied) continue;  // the field's first value, set by the classifier
    const std::string target = domain::TargetName(p.target);
    audit.push_back({0, target, "", p.label, "classifier/" + target, o.ticket.create_time});
  }
  CRM_ASSIGN_OR_RETURN(std::string agent,
                       AssignNewTicket(tx, o.assign, o.ticket, o.skills, o.ticket.create_time));
  if (!agent.empty()) {
    o.ticket.assignee = agent;
    audit.push_back({0, "assignee", "", agent, "assignment", o.ticket.create_time});
  }
  CRM_ASSIGN_OR_RETURN(TriggerEffects fx,
                       RunTriggersInWrite(tx, {domain::TriggerEvent::kCreated}, nullptr, o.ticket,
                                          o.ticket.create_time, ids_));
  audit.insert(audit.end(), fx.audit.begin(), fx.audit.end());
  tx.SaveTicket(o.ticket, true);
  tx.SavePredictions(o.ticket);
  tx.AppendMessage(o.first);
  for (const domain::TicketMessage& note : fx.notes) tx.AppendMessage(note);
  if (!audit.empty()) tx.AppendChanges(o.ticket.id, audit);
  CRM_ASSIGN_OR_RETURN(o.ticket.sla_due, TrackNewSla(tx, o.ticket, o.first));
  tx.EmitTicket("ticket.created", o.ticket);
  for (const domain::TicketMessage& note : fx.notes) tx.EmitMessage(note, o.ticket);
  return absl::OkStatus();
}

absl::StatusOr<Ticket> Tickets::Create(const Actor& actor, NewTicket n) {
  CRM_ASSIGN_OR_RETURN(Opening o, Open(actor, std::move(n)));
  return repository_.Run<Ticket>(actor, o.ticket.id, [&](TicketTx& tx) -> absl::StatusOr<Ticket> {
    CRM_RETURN_IF_ERROR(WriteOpening(tx, o));
    return o.ticket;
  });
}

absl::StatusOr<Ticket> Tickets::Get(const std::string& tenant, const std::string& id) {
  CRM_RETURN_IF_ERROR(CheckTicketId(id));
  CRM_ASSIGN_OR_RETURN(Ticket t, repository_.GetTicket(tenant, id));
  CRM_ASSIGN_OR_RETURN(t.predictions, repository_.TicketPredictions(tenant, id));
  return t;
}

absl::StatusOr<TicketPage> Tickets::List(const std::string& tenant, const TicketQuery& q) {
  CRM_RETURN_IF_ERROR(CheckFilter("queue", q.queue, 64));
  CRM_RETURN_IF_ERROR(CheckFilter("assignee", q.assignee, 128));
  if (!q.customer_id.empty() && !common::IsUuid(q.customer_id)) {
    return common::InvalidField("customer_id", "customer_id must be a UUID");
  }
  return repository_.ListTickets(tenant, q);
}

absl::StatusOr<Ticket> Tickets::Update(const Actor& actor, const std::string& id,
                                       const Ticket& patch, const std::vector<std::string>& paths,
                                       const std::string& if_match) {
  CRM_RETURN_IF_ERROR(common::RequireRequestId(actor.idempotency_key));
  CRM_RETURN_IF_ERROR(CheckTicketId(id));
  return repository_.Run<Ticket>(actor, id, [&](TicketTx& tx) -> absl::StatusOr<Ticket> {
    return WriteUpdate(tx, actor, id, patch, paths, if_match, {});
  });
}

absl::StatusOr<Ticket> Tickets::WriteUpdate(TicketTx& tx, const Actor& actor, const std::string& id,
                                            const Ticket& patch,
                                            const std::vector<std::string>& paths,
                                            const std::string& if_match,
                                            std::vector<domain::TriggerEvent> also) {
  CRM_ASSIGN_OR_RETURN(Ticket current, tx.LoadTicket(id));
  const absl::Time now = NowAfter(current);
  CRM_RETURN_IF_ERROR(common::CheckEtag("ticket", domain::EtagOf(current), if_match));
  Ticket next = current;
  CRM_RETURN_IF_ERROR(domain::ApplyTicketMask(patch, paths, now, next));
  CRM_RETURN_IF_ERROR(TicketFields(domain::NormalizeAndValidate(next)));
  std::vector<domain::TicketChange> changes = domain::Diff(current, next, actor.principal, now);
  if (changes.empty()) return current;  // nothing changed: no version, no event
  next.version = current.version + 1;
  next.update_time = now;
  also.push_back(domain::TriggerEvent::kUpdated);
  CRM_ASSIGN_OR_RETURN(TriggerEffects fx, RunTriggersInWrite(tx, also, &current, next, now, ids_));
  changes.insert(changes.end(), fx.audit.begin(), fx.audit.end());
  tx.SaveTicket(next, false);
  tx.AppendChanges(id, changes);
  for (const domain::TicketMessage& note : fx.notes) tx.AppendMessage(note);
  // Evaluated on every write (not only status or priority changes), so
  // the answer's slaDueTime is the stored one under the ticket's lock;
  // before the write's events, so what was due before it is told first.
  CRM_ASSIGN_OR_RETURN(next.sla_due, TrackSla(tx, id, now));
  tx.EmitTicket("ticket.updated", next);
  for (const domain::TicketMessage& note : fx.notes) tx.EmitMessage(note, next);
  if (next.status != current.status) tx.EmitStatusChange(next, current.status);
  CRM_RETURN_IF_ERROR(ScheduleSurveyOnSolve(tx, actor.principal, current, next, now));
  return next;
}

absl::StatusOr<MessageAdded> Tickets::AddMessage(const Actor& actor, const std::string& ticket_id,
                                                 domain::MessageKind kind, const std::string& body,
                                                 const std::vector<std::string>& attachment_ids) {
  CRM_RETURN_IF_ERROR(common::RequireRequestId(actor.idempotency_key));
  CRM_RETURN_IF_ERROR(CheckTicketId(ticket_id));
  if (attachment_ids.size() > domain::kMaxMessageAttachments) {
    return common::InvalidField(
        "attachment_ids",
        absl::StrCat("a message has at most ", domain::kMaxMessageAttachments, " attachments"));
  }
  CRM_RETURN_IF_ERROR(CheckIdList("attachment_ids", attachment_ids, "attachment"));
  domain::TicketMessage m;
  m.id = ids_.NewId();
  m.ticket_id = ticket_id;
  m.kind = kind;
  m.body = body;
  return repository_.Run<MessageAdded>(
      actor, ticket_id, [&](TicketTx& tx) -> absl::StatusOr<MessageAdded> {
        return WriteMessage(tx, actor, m, true, domain::OutboundKind::kReply, attachment_ids);
      });
}

absl::StatusOr<domain::Attachment> Tickets::Upload(const Actor& actor, const std::string& ticket_id,
                                                   domain::Attachment a,
                                                   const std::string& content) {
  CRM_RETURN_IF_ERROR(CheckTicketId(ticket_id));
  CRM_RETURN_IF_ERROR(domain::NormalizeUpload(a, static_cast<int64_t>(content.size())));
  a.id = ids_.NewId();
  a.ticket_id = ticket_id;
  a.message_id.clear();
  a.sha256_hex = common::HexEncode(common::Sha256(content));
  a.uploaded_by = actor.principal;
  return repository_.Run<domain::Attachment>(
      actor, ticket_id, [&](TicketTx& tx) -> absl::StatusOr<domain::Attachment> {
        CRM_ASSIGN_OR_RETURN(Ticket t, tx.LoadTicket(ticket_id));
        if (t.status == domain::TicketStatus::kClosed) {
          return common::WithReason(
              absl::FailedPreconditionError("the ticket is closed: it takes no message, so no "
                                            "attachment either; open a follow-up ticket"),
              "TICKET_CLOSED");
        }
        CRM_ASSIGN_OR_RETURN(std::optional<domain::Attachment> same,
                             tx.PendingAttachment(ticket_id, a.sha256_hex, a.filename));
        if (same) return *same;
        domain::Attachment stored = a;
        stored.create_time = NowAfter(t);
        tx.StoreAttachment(stored, content);
        return stored;
      });
}

absl::StatusOr<std::pair<domain::Attachment, std::string>> Tickets::AttachmentContent(
    const std::string& tenant, const std::string& ticket_id, const std::string& attachment_id) {
  CRM_RETURN_IF_ERROR(CheckTicketId(ticket_id));
  if (!common::IsUuid(attachment_id)) {
    return common::InvalidField("attachment_id", "attachment_id is an attachment's id (a UUID)");
  }
  return repository_.AttachmentContent(tenant, ticket_id, attachment_id);
}

void Tickets::StoreMailAttachments(TicketTx& tx, const std::vector<domain::MailAttachment>& files,
                                   domain::TicketMessage& m) {
  m.attachments.clear();  // a write's retry stores them again
  int n = 0;
  for (const domain::MailAttachment& f : files) {
    domain::Attachment a;
    a.id = ids_.NewId();
    a.ticket_id = m.ticket_id;
    a.message_id = m.id;
    a.filename = domain::SafeFilename(f.filename, ++n);
    a.content_type = domain::SafeContentType(f.content_type);
    a.size = static_cast<int64_t>(f.content.size());
    a.sha256_hex = f.sha256_hex;
    a.uploaded_by = "mail";
    a.create_time = m.create_time;
    tx.StoreAttachment(a, f.content);
    m.attachments.push_back(std::move(a));
  }
}

absl::StatusOr<MessageAdded> Tickets::WriteMessage(TicketTx& tx, const Actor& actor,
                                                   domain::TicketMessage m, bool run_triggers,
                                                   domain::OutboundKind mail_kind,
                                                   const std::vector<std::string>& attachment_ids) {
  const std::string ticket_id = m.ticket_id;  // m moves into the answer
  const domain::MessageKind kind = m.kind;
  CRM_ASSIGN_OR_RETURN(Ticket current, tx.LoadTicket(ticket_id));
  const absl::Time now = NowAfter(current);
  MessageAdded out{std::move(m), current};
  out.message.create_time = now;
  if (out.message.author.empty()) {
    out.message.author =
        kind == domain::MessageKind::kCustomer ? current.customer_id : actor.principal;
  }
  CRM_RETURN_IF_ERROR(domain::ApplyMessage(out.message, now, out.ticket));
  std::optional<domain::OutboundMail> mail_out;
  if (kind == domain::MessageKind::kPublicReply) {
    // A reply on a ticket that came by mail goes out as mail: its
    // Message-ID is known from now on, so replies to it thread here.
    CRM_ASSIGN_OR_RETURN(std::optional<Mailbox> mailbox, tx.TicketMailbox(ticket_id));
    if (mailbox) {
      out.message.mail_id = domain::OutgoingMessageId(out.message.id, mailbox->address);
      CRM_ASSIGN_OR_RETURN(std::vector<MailRecord> trail, tx.TicketMails(ticket_id));
      // To whoever wrote last as a person (their Reply-To, else From).
      const MailRecord* last = nullptr;
      std::vector<std::string> thread;
      for (const MailRecord& r : trail) {
        thread.push_back(r.mail_id);
        if (!r.outbound && r.machine.empty()) last = &r;
      }
      if (last != nullptr) {
        domain::Answer a;
        a.id = ids_.NewId();
        a.message_id = out.message.mail_id;
        a.to_addr = last->reply_addr.empty() ? last->from_addr : last->reply_addr;
        a.answering = last->mail_id;
        a.subject = domain::ReplySubject(current.subject, current.number);
        a.text = out.message.body;
        a.time = now;
        domain::OutboundMail mail =
            domain::AnswerOnTicket(mail_kind, a, *mailbox, ticket_id, thread);
        mail.ticket_message_id = out.message.id;
        mail_out = std::move(mail);
      }
      MailRecord r;
      r.mailbox_id = mailbox->id;
      r.mail_id = out.message.mail_id;
      r.ticket_id = ticket_id;
      r.ticket_message_id = out.message.id;
      r.outbound = true;
      r.from_addr = mailbox->address;
      r.thread_subject = domain::ThreadSubject(current.subject);
      r.rule = domain::OutboundKindName(mail_kind);
      r.time = now;
      tx.RecordMail(r);
    }
  }
  out.ticket.version = current.version + 1;
  std::vector<domain::TicketChange> changes =
      domain::Diff(current, out.ticket,
                   kind == domain::MessageKind::kCustomer ? "customer" : actor.principal, now);
  TriggerEffects fx;
  if (run_triggers) {
    CRM_ASSIGN_OR_RETURN(fx, RunTriggersInWrite(tx,
                                                {kind == domain::MessageKind::kCustomer
                                                     ? domain::TriggerEvent::kCustomerMessage
                                                     : domain::TriggerEvent::kAgentMessage},
                                                &current, out.ticket, now, ids_));
    changes.insert(changes.end(), fx.audit.begin(), fx.audit.end());
  }
  tx.SaveTicket(out.ticket, false);
  tx.AppendMessage(out.message);
  if (!attachment_ids.empty()) {
    CRM_ASSIGN_OR_RETURN(out.message.attachments,
                         tx.BindAttachments(ticket_id, out.message.id, attachment_ids));
    // Mailed with the reply: the files together within a mail's size.
    if (mail_out) CRM_RETURN_IF_ERROR(domain::CheckMailAttachments(out.message.attachments));
  }
  for (const domain::TicketMessage& note : fx.notes) tx.AppendMessage(note);
  if (!changes.empty()) tx.AppendChanges(ticket_id, changes);
  CRM_ASSIGN_OR_RETURN(out.ticket.sla_due, TrackSla(tx, ticket_id, now));
  tx.EmitMessage(out.message, out.ticket);
  for (const domain::TicketMessage& note : fx.notes) tx.EmitMessage(note, out.ticket);
  if (mail_out) tx.QueueMail(*mail_out, out.ticket);
  if (!changes.empty()) tx.EmitTicket("ticket.updated", out.ticket);
  if (out.ticket.status != current.status) tx.EmitStatusChange(out.ticket, current.status);
  CRM_RETURN_IF_ERROR(ScheduleSurveyOnSolve(tx, actor.principal, current, out.ticket, now));
  return out;
}

absl::StatusOr<domain::TicketMessage> Tickets::Note(const Actor& actor, Ticket& t, std::string body,
                                                    absl::Time now) {
  domain::TicketMessage m;
  m.id = ids_.NewId();
  m.ticket_id = t.id;
  m.kind = domain::MessageKind::kInternalNote;
  m.author = actor.principal;
  m.body = std::move(body);
  m.create_time = now;
  CRM_RETURN_IF_ERROR(domain::ApplyMessage(m, now, t));
  return m;
}

absl::StatusOr<Ticket> Tickets::Merge(const Actor& actor, const std::string& ticket_id,
                                      const std::string& target_id) {
  CRM_RETURN_IF_ERROR(common::RequireRequestId(actor.idempotency_key));
  CRM_RETURN_IF_ERROR(CheckTicketId(ticket_id));
  if (!common::IsUuid(target_id)) {
    return common::InvalidField("target_ticket_id", "target_ticket_id must be a ticket id (UUID)");
  }
  return repository_.Run<Ticket>(actor, ticket_id, [&](TicketTx& tx) -> absl::StatusOr<Ticket> {
    // Both rows locked in one order (by id), so merges of one pair in
    // opposite directions queue instead of deadlocking.
    const std::string source_id = absl::AsciiStrToLower(ticket_id);
    const std::string into_id = absl::AsciiStrToLower(target_id);
    if (source_id == into_id) {
      return common::InvalidField("target_ticket_id", "a ticket is not merged into itself");
    }
    std::optional<Ticket> source, target;
    for (const std::string& id : {std::min(source_id, into_id), std::max(source_id, into_id)}) {
      absl::StatusOr<Ticket> t = tx.LoadTicket(id);
      if (!t.ok()) {
        return id == into_id ? common::WithField(t.status(), "target_ticket_id") : t.status();
      }
      (id == source_id ? source : target) = *std::move(t);
    }
    CRM_RETURN_IF_ERROR(domain::CheckMerge(*source, *target));
    const absl::Time now = std::max(NowAfter(*source), NowAfter(*target));
    CRM_ASSIGN_OR_RETURN(const int moved, tx.MoveMessages(source->id, target->id, {}));
    tx.CopyParticipants(source->id, target->id);
    if (!source->requester_email.empty()) {
      tx.AddParticipants(target->id, {source->requester_email});
    }
    Ticket closed = *source;
    Ticket into = *target;
    CRM_ASSIGN_OR_RETURN(domain::TicketMessage closing,
                         Note(actor, closed, domain::MergedIntoNote(*target), now));
    domain::CloseMerged(*target, moved, now, closed);
    domain::MessagesMoved(moved, now, into);
    CRM_ASSIGN_OR_RETURN(domain::TicketMessage taking,
                         Note(actor, into, domain::MergedFromNote(*source, moved), now));
    tx.SaveTicket(closed, false);
    tx.SaveTicket(into, false);
    tx.AppendMessage(closing);
    tx.AppendMessage(taking);
    std::vector<domain::TicketChange> audit = domain::Diff(*source, closed, actor.principal, now);
    audit.push_back(domain::LinkChange("merged_into", into.id, actor.principal, now));
    tx.AppendChanges(closed.id, audit);
    tx.AppendChanges(into.id, {domain::LinkChange("merged_from", closed.id, actor.principal, now)});
    CRM_ASSIGN_OR_RETURN(closed.sla_due, TrackSla(tx, closed.id, now));
    CRM_ASSIGN_OR_RETURN(into.sla_due, TrackSla(tx, into.id, now));
    tx.EmitTicket("ticket.updated", closed);
    tx.EmitMessage(closing, closed);
    if (closed.status != source->status) tx.EmitStatusChange(closed, source->status);
    tx.EmitTicket("ticket.updated", into);
    tx.EmitMessage(taking, into);
    return into;
  });
}

absl::StatusOr<Ticket> Tickets::Split(const Actor& actor, const std::string& ticket_id,
                                      const std::vector<std::string>& message_ids,
                                      const std::string& subject) {
  CRM_RETURN_IF_ERROR(common::RequireRequestId(actor.idempotency_key));
  CRM_RETURN_IF_ERROR(CheckTicketId(ticket_id));
  if (message_ids.empty() || message_ids.size() > domain::kMaxSplitMessages) {
    return common::InvalidField(
        "message_ids", absl::StrCat("a split moves 1..", domain::kMaxSplitMessages, " messages"));
  }
  CRM_RETURN_IF_ERROR(CheckIdList("message_ids", message_ids, "message"));
  {
    Ticket probe;  // the subject's checks before anything is taken
    probe.subject = subject.empty() ? "-" : subject;
    CRM_RETURN_IF_ERROR(domain::NormalizeAndValidate(probe));
  }
  int64_t number = 0;
  // A retry answered from its key takes no number: nothing is written.
  CRM_ASSIGN_OR_RETURN(const bool replay, repository_.KeyUsed(actor));
  if (!replay) {
    CRM_ASSIGN_OR_RETURN(number, repository_.NextNumber(actor.tenant_id));
  }
  const std::string created_id = ids_.NewId();
  return repository_.Run<Ticket>(actor, ticket_id, [&](TicketTx& tx) -> absl::StatusOr<Ticket> {
    CRM_ASSIGN_OR_RETURN(const Ticket source, tx.LoadTicket(ticket_id));
    CRM_RETURN_IF_ERROR(domain::CheckSplit(source, message_ids.size()));
    const absl::Time now = NowAfter(source);
    const int moving = static_cast<int>(message_ids.size());
    Ticket created = domain::SplitOff(source, created_id, number, subject, now);
    CRM_RETURN_IF_ERROR(domain::NormalizeAndValidate(created));
    domain::MessagesMoved(moving, now, created);
    CRM_ASSIGN_OR_RETURN(domain::TicketMessage from,
                         Note(actor, created, domain::SplitFromNote(source), now));
    Ticket left = source;
    domain::MessagesMoved(-moving, now, left);
    CRM_ASSIGN_OR_RETURN(domain::TicketMessage to,
                         Note(actor, left, domain::SplitToNote(created, moving), now));
    tx.SaveTicket(created, true);  // before its messages: they name it
    CRM_ASSIGN_OR_RETURN(const int moved, tx.MoveMessages(source.id, created.id, message_ids));
    if (moved != moving) {
      return common::WithField(common::NotFound("MESSAGE_NOT_FOUND",
                                                "message_ids names a message that is not this "
                                                "ticket's"),
                               "message_ids");
    }
    tx.CopyParticipants(source.id, created.id);
    tx.SaveTicket(left, false);
    tx.AppendMessage(from);
    tx.AppendMessage(to);
    tx.AppendChanges(created.id,
                     {domain::LinkChange("split_from", source.id, actor.principal, now)});
    tx.AppendChanges(left.id, {domain::LinkChange("split_to", created.id, actor.principal, now)});
    CRM_ASSIGN_OR_RETURN(created.sla_due, TrackSla(tx, created.id, now));
    CRM_ASSIGN_OR_RETURN(left.sla_due, TrackSla(tx, left.id, now));
    tx.EmitTicket("ticket.created", created);
    tx.EmitMessage(from, created);
    tx.EmitTicket("ticket.updated", left);
    tx.EmitMessage(to, left);
    return created;
  });
}

absl::StatusOr<MessagePage> Tickets::Messages(const std::string& tenant,
                                              const std::string& ticket_id,
                                              const std::string& after_cursor, int limit) {
  CRM_RETURN_IF_ERROR(CheckTicketId(ticket_id));
  return repository_.ListMessages(tenant, ticket_id, after_cursor, limit);
}

absl::StatusOr<std::vector<domain::TicketChange>> Tickets::Changes(const std::string& tenant,
                                                                   const std::string& ticket_id) {
  CRM_RETURN_IF_ERROR(CheckTicketId(ticket_id));
  return repository_.ListChanges(tenant, ticket_id);
}

}  // namespace crm::service_desk::app
