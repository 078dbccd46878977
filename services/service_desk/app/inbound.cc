#include "services/service_desk/app/inbound.h"

#include <algorithm>
#include <set>
#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "libs/common/crypto.h"
#include "libs/common/errors.h"
#include "libs/common/status_macros.h"
#include "services/service_desk/app/macros.h"
#include "services/service_desk/domain/ticket_classifier.h"
#include "services/service_desk/domain/ticket_merge.h"

namespace crm::service_desk::app {
namespace {

using domain::InboundMail;
using domain::Ticket;

// A ticket closed between the thread's read and the write: the write stops
// (ABORTED, nothing written, not kept with the key) and the thread is read
// again, which then opens a follow-up.
constexpr char kClosedMeanwhile[] = "the ticket was closed meanwhile; receive the mail again";
// A copy that arrives after the mail's key expired (a sender retrying for
// days): the mailbox's own record of the mail stops it, and it is
// answered from that record.
constexpr char kSeenBefore[] = "this mail was received before";

bool Contains(const std::vector<std::string>& v, const std::string& s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

// Everyone the mail names, our own addresses left out.
std::vector<std::string> Participants(const InboundMail& m, const domain::OwnAddresses& own) {
  std::set<std::string> seen;
  std::vector<std::string> out;
  auto add = [&](const domain::MailAddress& a) {
    if (a.addr.empty() || a.addr.size() > 254 || own.Contains(a.addr)) return;
    if (seen.insert(a.addr).second && out.size() < 100) out.push_back(a.addr);
  };
  add(m.from);
  for (const auto* list : {&m.reply_to, &m.to, &m.cc}) {
    for (const domain::MailAddress& a : *list) add(a);
  }
  return out;
}

// Where an answer to the mail goes: its first Reply-To address, else From.
std::string ReplyAddress(const InboundMail& m) {
  for (const domain::MailAddress& a : m.reply_to) {
    if (!a.addr.empty() && a.addr.size() <= 254 && absl::StrContains(a.addr, "@")) return a.addr;
  }
  return m.from.addr;
}

}  // namespace

std::string MailKey(const std::string& mailbox_id, const std::string& mail_identity) {
  return absl::StrCat(
      "mail/", common::HexEncode(common::Sha256(absl::StrCat(mailbox_id, "\n", mail_identity))));
}

absl::StatusOr<bool> Inbound::Burst(TicketTx& tx, const Mailbox& mailbox,
                                    const MailRecord& record) {
  const absl::Time now = clock_.Now();
  CRM_ASSIGN_OR_RETURN(int recent,
                       tx.CountMailsFrom(mailbox.id, record.from_addr, record.thread_subject,
                                         now - domain::kBurstWindow));
  if (!domain::StartsQuarantine(recent)) return false;
  tx.Quarantine(mailbox.id, record.from_addr, now + domain::kQuarantine);
  return true;
}

absl::StatusOr<domain::AutoReplyVerdict> Inbound::AutoReply(TicketTx& tx, const Mailbox& mailbox,
                                                            const InboundMail& mail,
                                                            const MailRecord& record,
                                                            const Ticket& ticket,
                                                            domain::AutoReplyFacts facts) {
  // An answer to one of our own addresses would be mail to ourselves.
  if (mailbox.own.Contains(record.reply_addr)) facts.machine = true;
  domain::AutoReplyVerdict v = domain::DecideAutoReply(facts);
  if (v != domain::AutoReplyVerdict::kSent) return v;
  // After the mail it answers, so the thread reads in the order things
  // happened (ticket_mails orders by time).
  const absl::Time now = record.time + absl::Microseconds(1);
  CRM_ASSIGN_OR_RETURN(bool slot, tx.TakeAutoReplySlot(mailbox.id, record.reply_addr, now));
  if (!slot) return domain::AutoReplyVerdict::kAnsweredRecently;
  domain::AutoReplyFields fields;
  fields.ticket_number = ticket.number;
  fields.ticket_subject = ticket.subject;
  fields.requester_name = domain::MailSenderName(mail);
  if (fields.requester_name.empty()) fields.requester_name = record.reply_addr;
  fields.mailbox_address = mailbox.address;
  domain::Answer a;
  a.id = ids_.NewId();
  a.message_id = domain::OutgoingMessageId(a.id, mailbox.address);
  a.to_addr = record.reply_addr;
  a.to_name = domain::MailSenderName(mail);
  a.answering = record.mail_id;
  a.subject = domain::SubjectWithNumber(
      domain::FillAutoReply(mailbox.auto_reply_subject.empty() ? domain::kDefaultAutoReplySubject
                                                               : mailbox.auto_reply_subject,
                            fields),
      ticket.number);
  a.text = domain::FillAutoReply(
      mailbox.auto_reply_body.empty() ? domain::kDefaultAutoReplyBody : mailbox.auto_reply_body,
      fields);
  a.time = now;
  std::vector<std::string> thread = mail.references;
  thread.push_back(record.mail_id);
  tx.QueueMail(
      domain::AnswerOnTicket(domain::OutboundKind::kAutoReply, a, mailbox, ticket.id, thread),
      ticket);
  // Its Message-ID threads an answer to it here.
  MailRecord sent;
  sent.mailbox_id = mailbox.id;
  sent.mail_id = a.message_id;
  sent.ticket_id = ticket.id;
  sent.ticket_message_id = record.ticket_message_id;
  sent.outbound = true;
  sent.from_addr = mailbox.address;
  sent.thread_subject = record.thread_subject;
  sent.rule = "auto_reply";
  sent.time = now;
  tx.RecordMail(sent);
  return v;
}

absl::StatusOr<domain::AutoResponseVerdict> Inbound::AutoRespond(
    TicketTx& tx, const Actor& actor, const Mailbox& mailbox, const MailRecord& record,
    const Ticket& ticket, domain::AutoResponseFacts facts, MessageAdded& answered) {
  using domain::AutoResponseVerdict;
  if (mailbox.own.Contains(record.reply_addr)) facts.machine = true;
  const std::string label =
      domain::AnsweredLabel(ticket.predictions, domain::ClassifierTarget::kIntent);
  facts.intent_known = !label.empty();
  facts.macro = true;  // the facts before the macro's read first
  AutoResponseVerdict v = domain::DecideAutoResponse(facts);
  if (v != AutoResponseVerdict::kSent) return v;
  CRM_ASSIGN_OR_RETURN(std::optional<domain::Macro> m, tx.MacroForIntent(label));
  facts.macro = m && m->auto_respond && !m->reply.empty() && !m->internal;
  v = domain::DecideAutoResponse(facts);
  if (v != AutoResponseVerdict::kSent) return v;
  CRM_ASSIGN_OR_RETURN(Ticket current, tx.LoadTicket(ticket.id));
  Actor responder = actor;
  responder.principal = kAutoResponder;
  // Checked before the sender's slot is taken: a macro that cannot apply
  // leaves the acknowledgement its chance.
  if (!MacroApplies(*m, current, responder.principal, tickets_.NowAfter(current)).ok()) {
    return AutoResponseVerdict::kRefused;
  }
  CRM_ASSIGN_OR_RETURN(bool slot, tx.TakeAutoReplySlot(mailbox.id, record.reply_addr,
                                                       record.time + absl::Microseconds(1)));
  if (!slot) return AutoResponseVerdict::kAnsweredRecently;
  CRM_ASSIGN_OR_RETURN(answered, WriteMacro(tickets_, tx, responder, current, *m, ids_.NewId(),
                                            domain::OutboundKind::kAutoResponse));
  return v;
}

absl::StatusOr<Inbound::Thread> Inbound::FindThread(const std::string& tenant,
                                                    const Mailbox& mailbox,
                                                    const InboundMail& mail) {
  Thread found;
  std::optional<Ticket> ticket;  // the candidate, as read
  const std::vector<std::string> ids = domain::ThreadIds(mail);
  if (!ids.empty()) {
    CRM_ASSIGN_OR_RETURN(std::optional<MailThread> known, repository_.TicketOfMail(tenant, ids));
    if (known) {
      ticket = std::move(known->ticket);
      found.rule = Contains(mail.reported_ids, known->mail_id)  ? "reported"
                   : Contains(mail.in_reply_to, known->mail_id) ? "in_reply_to"
                                                                : "references";
    }
  }
  if (!ticket) {
    if (std::optional<std::string> ref = domain::FindTicketReference(mail.text)) {
      absl::StatusOr<Ticket> t = repository_.GetTicket(tenant, *ref);
      if (t.ok()) {
        ticket = *std::move(t);
        found.rule = "reference";
      } else if (t.status().code() != absl::StatusCode::kNotFound) {
        return t.status();
      }
    }
  }
  if (!ticket) {
    if (std::optional<int64_t> number = domain::FindSubjectNumber(mail.subject)) {
      CRM_ASSIGN_OR_RETURN(std::optional<Ticket> t, repository_.TicketNumbered(tenant, *number));
      if (t) {
        CRM_ASSIGN_OR_RETURN(bool participant,
                             repository_.IsParticipant(tenant, t->id, mail.from.addr));
        if (participant) {
          ticket = std::move(t);
          found.rule = "subject_number";
        }
      }
    }
  }
  if (!ticket && mailbox.same_subject_window > absl::ZeroDuration()) {
    const std::string subject = domain::ThreadSubject(mail.subject);
    if (!subject.empty()) {
      CRM_ASSIGN_OR_RETURN(
          std::optional<std::string> id,
          repository_.SameSubjectTicket(tenant, mailbox.id, mail.from.addr, subject,
                                        clock_.Now() - mailbox.same_subject_window));
      if (id) {
        CRM_ASSIGN_OR_RETURN(Ticket t, repository_.GetTicket(tenant, *id));
        ticket = std::move(t);
        found.rule = "same_subject";
      }
    }
  }
  if (!ticket) return Thread{"", "new", ""};
  // A merged ticket's messages are in the ticket it went into: so is its
  // mail (its own mails moved there; this follows what names it otherwise).
  for (int hop = 0; !ticket->merged_into.empty() && hop < domain::kMaxMergeHops; ++hop) {
    absl::StatusOr<Ticket> into = repository_.GetTicket(tenant, ticket->merged_into);
    if (!into.ok()) {
      if (into.status().code() == absl::StatusCode::kNotFound) break;
      return into.status();
    }
    ticket = *std::move(into);
  }
  const bool closed = ticket->status == domain::TicketStatus::kClosed;
  const bool long_solved = ticket->status == domain::TicketStatus::kSolved &&
                           clock_.Now() - ticket->solve_time > mailbox.reopen_window;
  if (closed || long_solved) return Thread{"", "follow_up", ticket->id};
  found.ticket_id = ticket->id;
  return found;
}

absl::StatusOr<MailReceived> Inbound::Receive(const std::string& tenant,
                                              const std::string& principal, const Mailbox& mailbox,
                                              const InboundMail& mail) {
  if (mail.from.addr.empty() || !absl::StrContains(mail.from.addr, "@")) {
    return common::InvalidField("from", "the mail has no sender address (From)");
  }
  const std::string identity = domain::MailIdentity(mail);
  const std::string key = MailKey(mailbox.id, identity);
  // Every copy of a mail has the same key and fingerprint: a copy is
  // answered what the first got, whatever its transport headers. A write
  // whose work did not run was answered from the key: a copy.
  const Actor actor{tenant, principal, "", "ReceiveMail", key, key};
  const std::string machine = domain::MachineReasonName(domain::MachineMade(mail, mailbox.own));
  const std::vector<std::string> participants = Participants(mail, mailbox.own);

  MailRecord record;
  record.mailbox_id = mailbox.id;
  record.mail_id = identity;
  record.from_addr = mail.from.addr;
  record.reply_addr = ReplyAddress(mail);
  record.thread_subject = domain::ThreadSubject(mail.subject);
  record.machine = machine;
  // A quarantined sender's mail is kept for the agents as a note (of its
  // thread, else of the sender's latest ticket) and answered by nobody.
  CRM_ASSIGN_OR_RETURN(const bool quarantined,
                       repository_.Quarantined(tenant, mailbox.id, mail.from.addr, clock_.Now()));
  if (quarantined && machine.empty()) record.machine = "quarantined";
  const bool as_note = !record.machine.empty();

  for (int attempt = 0;; ++attempt) {
    CRM_ASSIGN_OR_RETURN(Thread thread, FindThread(tenant, mailbox, mail));
    if (quarantined && thread.ticket_id.empty()) {
      CRM_ASSIGN_OR_RETURN(std::optional<std::string> latest,
                           repository_.LatestTicketFrom(tenant, mailbox.id, mail.from.addr));
      if (latest) {
        CRM_ASSIGN_OR_RETURN(Ticket t, repository_.GetTicket(tenant, *latest));
        if (t.status != domain::TicketStatus::kClosed) thread = Thread{t.id, "quarantine", ""};
      }
    }
    record.rule = thread.rule;
    bool ran = false;
    absl::StatusOr<MailReceived> out;
    if (thread.ticket_id.empty()) {
      NewTicket n;
      n.ticket.subject = domain::MailSubject(mail);
      n.ticket.channel = domain::Channel::kEmail;
      n.ticket.follow_up_of = thread.follow_up_of;
      n.requester.email = mail.from.addr;
      n.requester.name = domain::MailSenderName(mail);
      n.description = domain::MailBody(mail);
      n.mailbox = mailbox.address;
      // Open() asks the key first: a copy resolves nobody.
      CRM_ASSIGN_OR_RETURN(Tickets::Opening o, tickets_.Open(actor, std::move(n)));
      o.first.mail_id = identity;
      out = repository_.Run<MailReceived>(
          actor, o.ticket.id, [&](TicketTx& tx) -> absl::StatusOr<MailReceived> {
            ran = true;
            CRM_ASSIGN_OR_RETURN(bool seen, tx.MailSeen(mailbox.id, identity));
            if (seen) return absl::AlreadyExistsError(kSeenBefore);
            CRM_ASSIGN_OR_RETURN(const bool burst, Burst(tx, mailbox, record));
            CRM_RETURN_IF_ERROR(tickets_.WriteOpening(tx, o));
            tickets_.StoreMailAttachments(tx, mail.attachments, o.first);
            record.ticket_id = o.ticket.id;
            record.ticket_message_id = o.first.id;
            record.time = o.first.create_time;
            tx.RecordMail(record);
            tx.AddParticipants(o.ticket.id, participants);
            MailReceived r{o.ticket, o.first, true, thread.rule, machine, false};
            r.quarantined = quarantined || burst;
            MessageAdded answered;
            CRM_ASSIGN_OR_RETURN(
                const domain::AutoResponseVerdict rv,
                AutoRespond(tx, actor, mailbox, record, o.ticket,
                            {true, !machine.empty(), r.quarantined, false, false}, answered));
            r.auto_response = domain::AutoResponseVerdictName(rv);
            if (rv == domain::AutoResponseVerdict::kSent) {
              r.ticket = std::move(answered.ticket);
              r.auto_reply = domain::AutoReplyVerdictName(domain::AutoReplyVerdict::kAutoResponse);
              return r;
            }
            domain::AutoReplyFacts facts{mailbox.auto_reply, true, !machine.empty(), r.quarantined};
            CRM_ASSIGN_OR_RETURN(domain::AutoReplyVerdict v,
                                 AutoReply(tx, mailbox, mail, record, o.ticket, facts));
            r.auto_reply = domain::AutoReplyVerdictName(v);
            return r;
          });
    } else {
      domain::TicketMessage m;
      m.id = ids_.NewId();
      m.ticket_id = thread.ticket_id;
      // A machine's mail is kept for the agents but is not the customer
      // speaking: no reopen, no SLA clock.
      m.kind = as_note ? domain::MessageKind::kInternalNote : domain::MessageKind::kCustomer;
      if (as_note) m.author = absl::StrCat("mail:", mail.from.addr);
      m.body = domain::MailBody(mail);
      m.mail_id = identity;
      out = repository_.Run<MailReceived>(
          actor, thread.ticket_id, [&](TicketTx& tx) -> absl::StatusOr<MailReceived> {
            ran = true;
            CRM_ASSIGN_OR_RETURN(bool seen, tx.MailSeen(mailbox.id, identity));
            if (seen) return absl::AlreadyExistsError(kSeenBefore);
            CRM_ASSIGN_OR_RETURN(Ticket current, tx.LoadTicket(thread.ticket_id));
            if (current.status == domain::TicketStatus::kClosed) {
              return absl::AbortedError(kClosedMeanwhile);
            }
            CRM_ASSIGN_OR_RETURN(const bool burst, Burst(tx, mailbox, record));
            CRM_ASSIGN_OR_RETURN(MessageAdded added, tickets_.WriteMessage(tx, actor, m, true));
            tickets_.StoreMailAttachments(tx, mail.attachments, added.message);
            record.ticket_id = thread.ticket_id;
            record.ticket_message_id = added.message.id;
            record.time = added.message.create_time;
            tx.RecordMail(record);
            tx.AddParticipants(thread.ticket_id, participants);
            MailReceived r{added.ticket, added.message, false, thread.rule, machine, false};
            r.quarantined = quarantined || burst;
            r.auto_reply = domain::AutoReplyVerdictName(domain::DecideAutoReply(
                {mailbox.auto_reply, false, !machine.empty(), r.quarantined}));
            r.auto_response = domain::AutoResponseVerdictName(
                domain::DecideAutoResponse({false, !machine.empty(), r.quarantined, false, false}));
            return r;
          });
    }
    if (out.ok()) {
      out->duplicate = !ran;
      return out;
    }
    if (absl::IsAlreadyExists(out.status()) && out.status().message() == kSeenBefore) {
      CRM_ASSIGN_OR_RETURN(std::optional<MessageAdded> earlier,
                           repository_.ReceivedMail(tenant, mailbox.id, identity));
      if (!earlier) return absl::InternalError("a received mail's record is missing");
      return MailReceived{earlier->ticket, earlier->message, false, "received", machine, true};
    }
    if (out.status().message() != kClosedMeanwhile || attempt >= 2) return out;
  }
}

}  // namespace crm::service_desk::app
