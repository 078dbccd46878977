#pragma once
// Inbound mail's use case (docs/service-desk.md, "Inbound email"): a parsed
// mail received through a mailbox becomes a message of the ticket it
// threads to, or a new ticket; once per (mailbox, mail identity) whatever
// the copies, and answered only after its write committed.
//
// Threading, in this order: the ids it replies to (a delivery report's
// reported ids, In-Reply-To, References newest first) that are mails of a
// ticket (received ones' own Message-IDs and our replies'; ids a mail only
// refers to are never learnt, so replies of different people to one
// newsletter stay apart); the hidden reference of our outgoing bodies; the
// subject's ticket number, from a participant only; the same sender and
// subject within the mailbox's window (when set). A reply to a closed
// ticket, or to one solved longer ago than the mailbox's reopen window,
// opens a follow-up ticket linked to it. Machine-made mail (the loop rules
// of domain/inbound_mail.h) on an existing ticket is an internal note: it
// reopens nothing and starts no SLA clock.
//
// Loop safety (domain/outbound_mail.h): a person's mail that opens a
// ticket gets the mailbox's auto-reply, at most one per sender per
// interval; a burst of one sender's mail with one subject quarantines the
// sender: their mail is then a note of its thread, else of their latest
// ticket, and nothing answers it.
//
// Auto-response (docs/service-desk.md, "Auto-response"): a person's mail
// opening a ticket whose intent the classifier knows (at or above its
// threshold) is answered by the auto-responding macro bound to that label
// instead of the auto-reply, in the same write and under the same loop
// limits: the macro's reply leaves as an automatic mail, its changes
// apply, the audit names the macro and the author kAutoResponder.
#include <string>

#include "absl/status/statusor.h"
#include "services/service_desk/app/ports.h"
#include "services/service_desk/app/tickets.h"
#include "services/service_desk/domain/inbound_mail.h"

namespace crm::service_desk::app {

class Inbound final {
 public:
  Inbound(TicketRepository& repository, Tickets& tickets, const common::Clock& clock,
          common::IdGenerator& ids)
      : repository_(repository), tickets_(tickets), clock_(clock), ids_(ids) {}

  // `tenant` and `principal` say who writes (the mailbox's webhook caller
  // or listener). INVALID_ARGUMENT INVALID_FIELD from for a mail without a
  // sender address; the tickets' refusals otherwise.
  absl::StatusOr<MailReceived> Receive(const std::string& tenant, const std::string& principal,
                                       const Mailbox& mailbox, const domain::InboundMail& mail);

 private:
  struct Thread {
    std::string ticket_id;  // "" for a new ticket
    std::string rule;
    std::string follow_up_of;
  };
  absl::StatusOr<Thread> FindThread(const std::string& tenant, const Mailbox& mailbox,
                                    const domain::InboundMail& mail);
  // Whether the mail makes a burst of its sender and subject (the sender
  // is quarantined from now on).
  absl::StatusOr<bool> Burst(TicketTx& tx, const Mailbox& mailbox, const MailRecord& record);
  // The auto-reply to a mail that opened `ticket` (recorded in `record`):
  // queued, with its own mail record, when the facts and the sender's
  // interval allow it.
  absl::StatusOr<domain::AutoReplyVerdict> AutoReply(TicketTx& tx, const Mailbox& mailbox,
                                                     const domain::InboundMail& mail,
                                                     const MailRecord& record,
                                                     const domain::Ticket& ticket,
                                                     domain::AutoReplyFacts facts);
  // The auto-response to a mail that opened `ticket`: when sent, the
  // ticket and reply after the macro in `answered`.
  absl::StatusOr<domain::AutoResponseVerdict> AutoRespond(
      TicketTx& tx, const Actor& actor, const Mailbox& mailbox, const MailRecord& record,
      const domain::Ticket& ticket, domain::AutoResponseFacts facts, MessageAdded& answered);

  TicketRepository& repository_;
  Tickets& tickets_;
  const common::Clock& clock_;
  common::IdGenerator& ids_;
};

// Who answers by auto-response: the principal of its reply and changes.
inline constexpr char kAutoResponder[] = "auto-response";

// The idempotency key of a mail in a mailbox: one per (mailbox, identity).
std::string MailKey(const std::string& mailbox_id, const std::string& mail_identity);

}  // namespace crm::service_desk::app
