#pragma once
// The tickets' use cases: create (with the requester resolved through
// customer-store), read, list, update by field mask, add a message, and the
// audit of changes. The rules are domain/ticket.h's; this layer holds the
// order of each write.
#include <string>
#include <vector>

#include "libs/common/clock.h"
#include "libs/common/id.h"
#include "services/service_desk/app/classifiers.h"
#include "services/service_desk/app/ports.h"

namespace crm::service_desk::app {

struct NewTicket {
  domain::Ticket ticket;  // subject, channel, priority, type, tags, queue, assignee, fields
  Requester requester;
  std::string description;  // the requester's first message
  bool priority_given = false;  // else routing may set it (domain/routing.h)
  std::string mailbox;          // the address it came to by mail ("" otherwise)
};

class Tickets final {
 public:
  // `facts`: the requester's facts routing rules may read (nullptr: none
  // known, such conditions do not hold).
  Tickets(TicketRepository& repository, CustomerDirectory& directory, const common::Clock& clock,
          common::IdGenerator& ids, CustomerFactsSource* facts = nullptr)
      : repository_(repository),
        directory_(directory),
        clock_(clock),
        ids_(ids),
        facts_(facts),
        models_(repository) {}

  absl::StatusOr<domain::Ticket> Create(const Actor& actor, NewTicket n);
  absl::StatusOr<domain::Ticket> Get(const std::string& tenant, const std::string& id);
  absl::StatusOr<TicketPage> List(const std::string& tenant, const TicketQuery& q);
  absl::StatusOr<domain::Ticket> Update(const Actor& actor, const std::string& id,
                                        const domain::Ticket& patch,
                                        const std::vector<std::string>& paths,
                                        const std::string& if_match);
  // kind kCustomer: the ticket's requester writes (author = its customer id).
  // attachment_ids: up to 20 uploads of the ticket on no message yet.
  absl::StatusOr<MessageAdded> AddMessage(const Actor& actor, const std::string& ticket_id,
                                          domain::MessageKind kind, const std::string& body,
                                          const std::vector<std::string>& attachment_ids = {});
  // An agent's file for a coming message (domain::NormalizeUpload): kept
  // on the ticket, on no message until AddMessage names it. The same bytes
  // under the same name, while still on no message, answer that upload. A
  // closed ticket takes none (TICKET_CLOSED).
  absl::StatusOr<domain::Attachment> Upload(const Actor& actor, const std::string& ticket_id,
                                            domain::Attachment a, const std::string& content);
  absl::StatusOr<std::pair<domain::Attachment, std::string>> AttachmentContent(
      const std::string& tenant, const std::string& ticket_id, const std::string& attachment_id);
  // Merge and split (domain/ticket_merge.h; docs/service-desk.md, "Merge
  // and split"), each one write locking the tickets it touches (a merge
  // both, in id order). Merge answers the target, Split the new ticket.
  // No trigger runs on either.
  absl::StatusOr<domain::Ticket> Merge(const Actor& actor, const std::string& ticket_id,
                                       const std::string& target_id);
  absl::StatusOr<domain::Ticket> Split(const Actor& actor, const std::string& ticket_id,
                                       const std::vector<std::string>& message_ids,
                                       const std::string& subject);
  absl::StatusOr<MessagePage> Messages(const std::string& tenant, const std::string& ticket_id,
                                       const std::string& after_cursor, int limit);
  absl::StatusOr<std::vector<domain::TicketChange>> Changes(const std::string& tenant,
                                                            const std::string& ticket_id);

  // The parts of Create and AddMessage inbound mail shares (app/inbound.h).
  // A new ticket: its checks and what comes from outside its write (the
  // requester resolved, its number, ids and time); with its first message.
  struct Opening {
    domain::Ticket ticket;
    domain::TicketMessage first;
    std::string routed_by;  // the routing rule that applied, if any
    // The rule's assignment, for a ticket the creator assigned to nobody.
    domain::AssignMode assign = domain::AssignMode::kNone;
    std::vector<std::string> skills;
    // A rule read the customer's facts and customer-store could not tell
    // them (the audit says so: those conditions did not hold).
    bool customer_facts_missing = false;
  };
  absl::StatusOr<Opening> Open(const Actor& actor, NewTicket n);
  // Its write, in the write's transaction: assigned (when its rule says
  // so), its triggers run (event created), saved with its first message,
  // its SLA tracked, ticket.created told.
  absl::Status WriteOpening(TicketTx& tx, Opening& o);
  // An update by field mask in the write's transaction (the ticket locked
  // there): `paths` of `patch` applied under if_match ("" for any), the
  // triggers of `also` and "updated" run, the audit rows of what changed
  // (actor.principal, then the triggers'), its SLA tracked, events told.
  // Nothing changed: the ticket as it is, no version, no trigger.
  absl::StatusOr<domain::Ticket> WriteUpdate(TicketTx& tx, const Actor& actor,
                                             const std::string& id, const domain::Ticket& patch,
                                             const std::vector<std::string>& paths,
                                             const std::string& if_match,
                                             std::vector<domain::TriggerEvent> also);
  // The instant of a write on `current`: now, never before its last write.
  absl::Time NowAfter(const domain::Ticket& current) const;
  // A message on a ticket, in the write's transaction (the ticket locked
  // there): m.id, ticket_id, kind, body and mail_id given; its author and
  // time set here. A public reply on a ticket that came by mail gets its
  // outgoing Message-ID and leaves as mail of `mail_kind`. With
  // `run_triggers`, the triggers of the event (customer_message, or
  // agent_message for a reply or a note) run.
  // attachment_ids: uploads of the ticket the message takes.
  absl::StatusOr<MessageAdded> WriteMessage(
      TicketTx& tx, const Actor& actor, domain::TicketMessage m, bool run_triggers,
      domain::OutboundKind mail_kind = domain::OutboundKind::kReply,
      const std::vector<std::string>& attachment_ids = {});
  // A mail's files on its message (in the write's transaction, after the
  // message): each stored by its hash under a safe name; set on `m`.
  void StoreMailAttachments(TicketTx& tx, const std::vector<domain::MailAttachment>& files,
                            domain::TicketMessage& m);

 private:
  absl::Time Now() const;
  // An internal note of `actor` on `t` at `now`, applied to it.
  absl::StatusOr<domain::TicketMessage> Note(const Actor& actor, domain::Ticket& t,
                                             std::string body, absl::Time now);
  // A write that solved or closed a ticket that was neither schedules its
  // survey (docs/service-desk.md, "Satisfaction": NPS on its cadence, else
  // CSAT) when the tenant's settings and the ticket allow
  // (domain::SurveyOnSolve, domain::KindOnSolve).
  absl::Status ScheduleSurveyOnSolve(TicketTx& tx, const std::string& solver,
                                     const domain::Ticket& before, const domain::Ticket& after,
                                     absl::Time now);

  TicketRepository& repository_;
  CustomerDirectory& directory_;
  const common::Clock& clock_;
  common::IdGenerator& ids_;
  CustomerFactsSource* facts_;
  ClassifierModels models_;  // the tenants' classifiers' models, by version
};

}  // namespace crm::service_desk::app
