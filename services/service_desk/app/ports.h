#pragma once
// Ports of the service desk's use cases: the tickets' storage (a unit of
// work, libs/outbox/write_port.h) and the customer directory (customer-store).
//
// Contracts every implementation keeps (PgTicketRepository, the fake in
// tests/support/fakes/service_desk):
// - every query is tenant-scoped; another tenant's ticket is NOT_FOUND
//   TICKET_NOT_FOUND;
// - every write is one transaction with its audit row and outbox events,
//   strictly idempotent by actor.idempotency_key + actor.fingerprint.
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "libs/outbox/write_port.h"
#include "services/service_desk/domain/automation.h"
#include "services/service_desk/domain/inbound_mail.h"
#include "services/service_desk/domain/knowledge.h"
#include "services/service_desk/domain/macro.h"
#include "services/service_desk/domain/outbound_mail.h"
#include "services/service_desk/domain/routing.h"
#include "services/service_desk/domain/sla_policy.h"
#include "services/service_desk/domain/sla_report.h"
#include "services/service_desk/domain/sla_watch.h"
#include "services/service_desk/domain/survey.h"
#include "services/service_desk/domain/ticket.h"
#include "services/service_desk/domain/ticket_classifier.h"
#include "services/service_desk/domain/trigger.h"

namespace crm::service_desk::app {

// Who writes, under which idempotency key.
using Actor = outbox::WriteMeta;

// The person asking: a customer id, or an email (and a name for a customer
// created from it).
struct Requester {
  std::string customer_id;
  std::string email;
  std::string name;
};

class CustomerDirectory {
 public:
  virtual ~CustomerDirectory() = default;
  // The customer id the requester is now: customer_id itself (or its
  // survivor after a merge), else the owner of the email, created when
  // nobody has it (idempotent by `key`). FAILED_PRECONDITION
  // CUSTOMER_NOT_FOUND (field customer_id) for an id the tenant does not
  // have; INVALID_ARGUMENT requester_email for a malformed address;
  // UNAVAILABLE CUSTOMER_STORE_UNAVAILABLE when customer-store cannot answer.
  virtual absl::StatusOr<std::string> Resolve(const std::string& tenant, const Requester& who,
                                              const std::string& key) = 0;
};

// customer-store's reads beside a ticket (GET /v1/tickets/{id}/context):
// the visit running at an instant and the customer's 360 view, asked at
// once, each with its own deadline. Each answer is customer-store's
// message serialized (crm.customer_store.v1.Visit, CustomerView), or the
// error it ended with (DEADLINE_EXCEEDED, UNAVAILABLE, NOT_FOUND...).
class CustomerContext {
 public:
  virtual ~CustomerContext() = default;
  struct Parts {
    absl::StatusOr<std::string> visit;
    absl::StatusOr<std::string> view;
  };
  virtual Parts Read(const std::string& tenant, const domain::VisitSubject& visit,
                     const std::string& customer_id) = 0;
};

// customer-store's facts of a customer that routing conditions read (its
// 360 view's scores and segments sections; domain::CustomerFacts), within
// a short deadline; an error (UNAVAILABLE, DEADLINE_EXCEEDED, NOT_FOUND)
// when it cannot tell.
class CustomerFactsSource {
 public:
  virtual ~CustomerFactsSource() = default;
  virtual absl::StatusOr<domain::CustomerFacts> Facts(const std::string& tenant,
                                                      const std::string& customer_id) = 0;
};

struct TicketQuery {
  std::optional<domain::TicketStatus> status;
  std::string queue;
  std::string assignee;
  std::string customer_id;
  // Earliest SLA instant first (only tickets with one), else newest first.
  bool by_sla_due = false;
  std::string before_cursor;  // "<create or SLA micros>|<id>" of the last item
  int limit = 50;
};
struct TicketPage {
  std::vector<domain::Ticket> items;
  std::string next_cursor;
};
struct MessagePage {
  std::vector<domain::TicketMessage> items;
  std::string next_cursor;  // "<create micros>|<id>" of the last item
};

// What a ticket's SLA is computed from: the ticket, its changes and its
// messages (oldest first).
struct SlaInputs {
  domain::Ticket ticket;
  std::vector<domain::TicketChange> changes;
  std::vector<domain::TicketMessage> messages;
  // The id of the SLA policy the ticket is under as last evaluated ("":
  // none, or never evaluated).
  std::string policy;
};

// A ticket's stored SLA (schema/003_sla_deadlines.sql) with what it is
// evaluated from.
struct SlaRecord {
  SlaInputs inputs;
  int64_t policy_version = -1;  // computed under; -1: never
  std::optional<absl::Time> next_due;
  std::vector<std::string> told;  // domain::NoticeKey of the notices told
};

// What one pass of the sweeper did (a batch of one tenant).
struct SlaSweep {
  int records = 0;
  int notices = 0;
};

// A ticket whose SLA instant has come, of any tenant.
struct SlaDue {
  std::string tenant;
  std::string ticket_id;
};

// A tenant's re-evaluation after a policy change, and where it is.
struct SlaRebase {
  std::string tenant;
  int64_t policy_version = 0;
  std::string after_ticket_id;  // "" at the start
};

// What AddTicketMessage answers: the message and the ticket after it.
struct MessageAdded {
  domain::TicketMessage message;
  domain::Ticket ticket;
};

// Inbound mail (docs/service-desk.md, "Inbound email").
using Mailbox = domain::Mailbox;

// One mail of a ticket, received or sent: its identity per mailbox and how
// it threaded.
struct MailRecord {
  std::string mailbox_id;
  std::string mail_id;  // domain::MailIdentity, or our outgoing Message-ID
  std::string ticket_id;
  std::string ticket_message_id;
  bool outbound = false;
  std::string from_addr;
  std::string reply_addr;      // where an answer goes: Reply-To, else From (received mail)
  std::string thread_subject;  // domain::ThreadSubject
  std::string machine;         // domain::MachineReasonName; "" for a person's mail
  std::string rule;            // how it threaded (MailRule names)
  absl::Time time = absl::InfinitePast();
};

// Where an address's mail goes.
struct MailboxRoute {
  std::string tenant;
  std::string mailbox_id;
};

// A known mail id and its ticket.
struct MailThread {
  domain::Ticket ticket;
  std::string mail_id;
};

// What ReceiveMail answers.
struct MailReceived {
  domain::Ticket ticket;
  domain::TicketMessage message;
  bool created = false;    // a new ticket (a follow-up included)
  std::string rule;        // "in_reply_to", "references", "reference", ...
  std::string machine;     // domain::MachineReasonName
  bool duplicate = false;  // the answer of an earlier copy (not stored)
  // domain::AutoReplyVerdictName: whether the mail was answered
  // automatically, or why not.
  std::string auto_reply;
  bool quarantined = false;  // the sender is in quarantine (burst of mail)
  // domain::AutoResponseVerdictName: whether the macro of the mail's
  // intent answered it, or why not.
  std::string auto_response;
};

// One write's transaction over the tickets: load for update, save, append,
// emit. Every call acts in the write's tenant and transaction.
class TicketTx {
 public:
  virtual ~TicketTx() = default;
  // The row stays locked until the write ends. NOT_FOUND TICKET_NOT_FOUND.
  virtual absl::StatusOr<domain::Ticket> LoadTicket(const std::string& id) = 0;
  virtual void SaveTicket(const domain::Ticket& t, bool is_new) = 0;
  virtual void AppendMessage(const domain::TicketMessage& m) = 0;
  // Numbered after the ticket's earlier changes.
  virtual void AppendChanges(const std::string& ticket_id,
                             const std::vector<domain::TicketChange>& changes) = 0;
  // ticket.created / ticket.updated; ticket.message_added; ticket.status_changed
  // (with the status before).
  virtual void EmitTicket(const char* type, const domain::Ticket& t) = 0;
  virtual void EmitMessage(const domain::TicketMessage& m, const domain::Ticket& t) = 0;
  virtual void EmitStatusChange(const domain::Ticket& t, domain::TicketStatus from) = 0;
  // The tenant's SLA policies (the default and the conditional list),
  // locked until the write ends (version 0 before the first write); their
  // save and their sla_policy.updated event.
  virtual absl::StatusOr<domain::SlaPolicies> LoadSlaPolicies() = 0;
  virtual void SaveSlaPolicies(const domain::SlaPolicies& p) = 0;
  virtual void EmitSlaPolicies(const domain::SlaPolicies& p) = 0;
  // Every ticket of the tenant is to be evaluated again under `version`.
  virtual void StartSlaRebase(int64_t version) = 0;

  // Stored SLAs (docs/service-desk.md, "SLA sweeper").
  // The policies a ticket write or a sweep evaluates under, held (shared)
  // until the write ends, so a policy change waits for the writes that
  // read the ones before it and its re-evaluation sees them.
  virtual absl::StatusOr<domain::SlaPolicies> ShareSlaPolicies() = 0;
  // The tickets' SLA records with their history (status, priority and
  // sla_policy changes, message kinds and times) and the policy each is
  // under (SlaInputs::policy), each ticket's row locked, in id
  // order, at most `limit` (0: all); with skip_locked a ticket another
  // transaction holds is left out. A ticket without a record comes with
  // version -1. Unknown ids are left out.
  virtual absl::StatusOr<std::vector<SlaRecord>> LockSlas(const std::vector<std::string>& ids,
                                                          bool skip_locked, int limit = 0) = 0;
  virtual void SaveSlas(const std::vector<SlaRecord>& records, absl::Time now) = 0;
  // ticket.sla_warning / ticket.sla_breached / ticket.sla_escalated.
  virtual void EmitSlaNotice(const domain::Ticket& t, const domain::SlaNotice& n,
                             int64_t policy_version, absl::Time told_at) = 0;
  // The rebase of `version` at `after_ticket_id`, held until the write
  // ends; false when another replica holds it, it moved on or a newer
  // version replaced it.
  virtual absl::StatusOr<bool> ClaimSlaRebase(int64_t version,
                                              const std::string& after_ticket_id) = 0;
  // The rebase of `version` goes on after `after_ticket_id` ("": from the
  // start again); or ends. Neither touches a rebase of a newer version.
  virtual void MoveSlaRebase(int64_t version, const std::string& after_ticket_id) = 0;
  virtual void EndSlaRebase(int64_t version) = 0;

  // Attachments (docs/service-desk.md, "Attachments"): the file's row and
  // its bytes (kept once per tenant and SHA-256).
  virtual void StoreAttachment(const domain::Attachment& a, const std::string& content) = 0;
  // The ticket's upload of these bytes under this name that is on no
  // message yet, if any.
  virtual absl::StatusOr<std::optional<domain::Attachment>> PendingAttachment(
      const std::string& ticket_id, const std::string& sha256, const std::string& filename) = 0;
  // Puts the ticket's uploads `ids` that are on no message on `message_id`
  // and answers them in the order of `ids`; NOT_FOUND ATTACHMENT_NOT_FOUND
  // (field attachment_ids) for one that is no such upload.
  virtual absl::StatusOr<std::vector<domain::Attachment>> BindAttachments(
      const std::string& ticket_id, const std::string& message_id,
      const std::vector<std::string>& ids) = 0;

  // Merge and split (domain/ticket_merge.h). The messages `ids` of ticket
  // `from` (every one, and its uploads on no message yet, when `ids` is
  // empty) move to ticket `to` with their files and their mails, received
  // and sent (a mail answering one threads into `to` from then on);
  // answers how many moved (ids that are not `from`'s messages are left
  // out).
  virtual absl::StatusOr<int> MoveMessages(const std::string& from, const std::string& to,
                                           const std::vector<std::string>& ids) = 0;
  // `from`'s participants are `to`'s too.
  virtual void CopyParticipants(const std::string& from, const std::string& to) = 0;

  // Inbound and outgoing mail of tickets.
  virtual void RecordMail(const MailRecord& r) = 0;
  // Whether the mailbox has received a mail of this identity (our own
  // outgoing mail coming back is not one: it is received).
  virtual absl::StatusOr<bool> MailSeen(const std::string& mailbox_id,
                                        const std::string& mail_id) = 0;
  // The addresses join the ticket's participants (each once).
  virtual void AddParticipants(const std::string& ticket_id,
                               const std::vector<std::string>& addrs) = 0;
  // The mailbox a ticket's mail came through (its first), if any.
  virtual absl::StatusOr<std::optional<Mailbox>> TicketMailbox(const std::string& ticket_id) = 0;
  // The ticket's mails, received and sent, oldest first (the newest
  // kMaxTrail).
  virtual absl::StatusOr<std::vector<MailRecord>> TicketMails(const std::string& ticket_id) = 0;
  // Outbound mail (domain/outbound_mail.h): kept, and handed to delivery by
  // its ticket.mail_queued event.
  virtual void QueueMail(const domain::OutboundMail& m, const domain::Ticket& t) = 0;
  // The loop limits. The sender's auto-reply slot of the mailbox: true (and
  // taken) when it got none since `now` - domain::kAutoReplyInterval.
  virtual absl::StatusOr<bool> TakeAutoReplySlot(const std::string& mailbox_id,
                                                 const std::string& addr, absl::Time now) = 0;
  // How many mails the mailbox received from `addr` with this thread
  // subject at or after `since`.
  virtual absl::StatusOr<int> CountMailsFrom(const std::string& mailbox_id, const std::string& addr,
                                             const std::string& thread_subject,
                                             absl::Time since) = 0;
  // The sender's mail to the mailbox is quarantined until `until`.
  virtual void Quarantine(const std::string& mailbox_id, const std::string& addr,
                          absl::Time until) = 0;

  // Mailboxes. Locked until the write ends; NOT_FOUND MAILBOX_NOT_FOUND.
  virtual absl::StatusOr<Mailbox> LoadMailbox(const std::string& id) = 0;
  // The mailbox's address routes to it from now on; false when a mailbox
  // (of any tenant) has it already.
  virtual absl::StatusOr<bool> ClaimMailboxAddress(const Mailbox& m) = 0;
  virtual void SaveMailbox(const Mailbox& m, bool is_new) = 0;

  // A new ticket's predictions (its classifiers' answers), with it.
  virtual void SavePredictions(const domain::Ticket& t) = 0;

  // Satisfaction surveys (domain/survey.h): the tenant's settings, locked
  // until the write ends (version 0 before the first write), their save,
  // and read without a lock by the writes that solve tickets.
  virtual absl::StatusOr<domain::SurveySettings> LoadSurveySettings() = 0;
  virtual void SaveSurveySettings(const domain::SurveySettings& s) = 0;
  virtual absl::StatusOr<domain::SurveySettings> ReadSurveySettings() = 0;
  // A ticket's survey: a new one scheduled; one still scheduled due again
  // at s.due_time; a sent, answered or cancelled one left as it is.
  virtual void ScheduleSurvey(const domain::Survey& s) = 0;
  // One, locked until the write ends (nullopt when absent); its save.
  virtual absl::StatusOr<std::optional<domain::Survey>> LockSurvey(const std::string& id) = 0;
  virtual void SaveSurvey(const domain::Survey& s) = 0;
  // Whether the customer was sent a survey at or after `since`; whether
  // an NPS survey of theirs (not cancelled) was due at or after it.
  virtual absl::StatusOr<bool> SurveyedSince(const std::string& customer_id, absl::Time since) = 0;
  virtual absl::StatusOr<bool> NpsAskedSince(const std::string& customer_id, absl::Time since) = 0;
  // The tenant's oldest mailbox (nullopt: none): a survey of a ticket that
  // came by no mailbox is sent from it.
  virtual absl::StatusOr<std::optional<Mailbox>> FirstMailbox() = 0;
  // ticket.survey_answered.
  virtual void EmitSurveyAnswered(const domain::Survey& s, const domain::Ticket& t) = 0;

  // The tenant's routing rules, locked until the write ends (version 0
  // before the first write); their save.
  virtual absl::StatusOr<domain::RoutingRules> LoadRoutingRules() = 0;
  virtual void SaveRoutingRules(const domain::RoutingRules& r) = 0;

  // The tenant's triggers (domain/trigger.h): locked until the write ends
  // (version 0 before the first write), their save; and read without a
  // lock by the ticket writes that run them.
  virtual absl::StatusOr<domain::Triggers> LoadTriggers() = 0;
  virtual void SaveTriggers(const domain::Triggers& t) = 0;
  virtual absl::StatusOr<domain::Triggers> ReadTriggers() = 0;

  // The tenant's automations (domain/automation.h): locked until the write
  // ends (version 0 before the first write), their save; when one last
  // fired on a ticket (InfinitePast: never) and a firing recorded.
  virtual absl::StatusOr<domain::Automations> LoadAutomations() = 0;
  virtual void SaveAutomations(const domain::Automations& a) = 0;
  virtual absl::StatusOr<absl::Time> LastFired(const std::string& ticket_id,
                                               const std::string& automation_id) = 0;
  virtual void RecordFiring(const std::string& ticket_id, const std::string& automation_id,
                            absl::Time at) = 0;

  // Agents (domain/assignment.h): one, locked until the write ends
  // (nullopt when absent); its save (insert or update).
  virtual absl::StatusOr<std::optional<domain::Agent>> LoadAgent(const std::string& id) = 0;
  virtual void SaveAgent(const domain::Agent& a) = 0;
  // Assignment (docs/service-desk.md, "Assignment"): the tenant's agents
  // (id order), read without a lock; each one's open tickets (assigned,
  // not solved or closed; missing: none).
  virtual absl::StatusOr<std::vector<domain::Agent>> AssignableAgents() = 0;
  virtual absl::StatusOr<std::map<std::string, int>> OpenTickets(
      const std::vector<std::string>& agent_ids) = 0;
  // Claims an agent for a new ticket: locks it and answers it as stored
  // with its open tickets counted after the lock (so every write that held
  // it before has committed and is counted); nullopt, with nothing left
  // locked, when it is gone or — unless `wait` — another write holds it.
  // A claim is then either given back (ReleaseClaim: its lock goes, the
  // write's other work stays) or kept (RecordAssignment: locked until the
  // write ends, its last assignment set to `at`). One claim at a time.
  virtual absl::StatusOr<std::optional<std::pair<domain::Agent, int>>> ClaimAgent(
      const std::string& id, bool wait) = 0;
  virtual void ReleaseClaim() = 0;
  virtual void RecordAssignment(const std::string& agent_id, absl::Time at) = 0;
  // The agent's new and open tickets, oldest first, at most `limit`.
  virtual absl::StatusOr<std::vector<std::string>> ActiveTicketsOf(const std::string& agent_id,
                                                                   int limit) = 0;

  // Macros (domain/macro.h): one, locked until the write ends (nullopt
  // when absent); its save (with its intents: each label then answers with
  // it), its delete; how many the tenant has.
  virtual absl::StatusOr<std::optional<domain::Macro>> LoadMacro(const std::string& id) = 0;
  virtual void SaveMacro(const domain::Macro& m, bool is_new) = 0;
  virtual void DeleteMacro(const std::string& id) = 0;
  virtual absl::StatusOr<int> CountMacros() = 0;
  // The first of `labels` bound to a macro other than `macro_id`, with
  // that macro's id (nullopt: none); the tenant's bindings are held until
  // the write ends, so two writes cannot bind one label twice.
  struct IntentBinding {
    std::string label;
    std::string macro_id;
  };
  virtual absl::StatusOr<std::optional<IntentBinding>> BoundIntent(
      const std::vector<std::string>& labels, const std::string& macro_id) = 0;
  // The macro a label answers with (nullopt: none), read without a lock.
  virtual absl::StatusOr<std::optional<domain::Macro>> MacroForIntent(const std::string& label) = 0;

  // Knowledge-base articles (domain/knowledge.h): one, locked until the
  // write ends (nullopt when absent); its save with the version it makes
  // kept; its delete (and its versions'); how many the tenant has.
  virtual absl::StatusOr<std::optional<domain::Article>> LoadArticle(const std::string& id) = 0;
  virtual void SaveArticle(const domain::Article& a, bool is_new) = 0;
  virtual void DeleteArticle(const std::string& id) = 0;
  virtual absl::StatusOr<int> CountArticles() = 0;
};

// An agent and its open tickets now.
// A page of articles: filters ("" for any), after an article id.
struct ArticleQuery {
  std::string category;
  std::string state;
  std::string locale;
  std::string after_id;
  int limit = 50;  // 1..100
};
struct ArticlePage {
  std::vector<domain::Article> items;  // id order, without bodies
  std::string next_after;              // "" at the end
};
// Search hits (TicketRepository::Search), best first.
struct ArticleHit {
  domain::Article article;  // without its body
  double score = 0;
  std::string snippet;  // the best passage, matches in <b>..</b>
};
struct TicketHit {
  std::string ticket_id;
  int64_t number = 0;
  std::string subject;
  domain::TicketStatus status = domain::TicketStatus::kNew;
  double score = 0;
  std::string snippet;  // of its subject or its best-matching message
};
struct SearchResult {
  std::vector<ArticleHit> articles;
  std::vector<TicketHit> tickets;
};
// Auto-suggest (TicketRepository::Suggest): macros by their name and
// reply, and past answers — the last public reply of a ticket whose
// subject or messages match.
struct MacroHit {
  std::string macro_id;
  std::string name;
  double score = 0;
  std::string snippet;  // of its name and reply
};
struct AnswerHit {
  std::string ticket_id;
  int64_t number = 0;
  std::string subject;
  std::string message_id;  // the reply
  std::string answer;      // its text
  double score = 0;        // of the ticket's best match
  std::string snippet;     // of the reply
};
struct Suggestions {
  std::vector<ArticleHit> articles;
  std::vector<MacroHit> macros;
  std::vector<AnswerHit> answers;
};

// The automation sweeper's reads (TicketRepository::AutomatedTenants,
// AutomationCandidates).
struct AutomatedTenant {
  std::string tenant;
  domain::Automations automations;
};
struct AutomationCandidate {
  domain::Ticket ticket;
  absl::Time last_fired = absl::InfinitePast();
};

struct AgentState {
  domain::Agent agent;
  int open_tickets = 0;
  // SetAvailability with a reassign mode: the agent's tickets given to
  // others, and those left unassigned.
  int reassigned = 0;
  int released = 0;
};

class TicketRepository
    : public outbox::UnitOfWork<TicketTx, domain::Ticket, MessageAdded, domain::SlaPolicies,
                                SlaSweep, MailReceived, Mailbox, domain::RoutingRules, AgentState,
                                domain::Macro, domain::Triggers, domain::Automations,
                                domain::Article, domain::SurveySettings, domain::Attachment> {
 public:
  // Whether actor.idempotency_key was used before: the write is then
  // answered from the key, so the requester need not be resolved again.
  virtual absl::StatusOr<bool> KeyUsed(const Actor& actor) = 0;
  // A new ticket number of the tenant (1, 2, ...), taken outside the
  // write's transaction so that creations do not queue on one counter: a
  // number whose ticket is never written stays unused (a gap is harmless,
  // a duplicate is not: (tenant, number) is unique). Numbers increase in the
  // order they are taken by one replica (PgTicketRepository takes them in
  // blocks; several replicas interleave theirs).
  virtual absl::StatusOr<int64_t> NextNumber(const std::string& tenant) = 0;
  virtual absl::StatusOr<domain::Ticket> GetTicket(const std::string& tenant,
                                                   const std::string& id) = 0;
  virtual absl::StatusOr<TicketPage> ListTickets(const std::string& tenant,
                                                 const TicketQuery& q) = 0;
  // Oldest first, after `after_cursor`. NOT_FOUND when the ticket is absent.
  virtual absl::StatusOr<MessagePage> ListMessages(const std::string& tenant,
                                                   const std::string& ticket_id,
                                                   const std::string& after_cursor, int limit) = 0;
  // Oldest first, the last kMaxChanges. NOT_FOUND when the ticket is absent.
  virtual absl::StatusOr<std::vector<domain::TicketChange>> ListChanges(
      const std::string& tenant, const std::string& ticket_id) = 0;
  // Its policies as written (version 0 before the first write).
  virtual absl::StatusOr<domain::SlaPolicies> GetSlaPolicies(const std::string& tenant) = 0;
  // The ticket with every change and message (kinds and times are what the
  // clock reads), in one snapshot. NOT_FOUND TICKET_NOT_FOUND.
  virtual absl::StatusOr<SlaInputs> GetSlaInputs(const std::string& tenant,
                                                 const std::string& ticket_id) = 0;
  // The sweeper's reads, over every tenant: tickets whose next SLA instant
  // is at or before `now`, earliest first; the rebases under way.
  virtual absl::StatusOr<std::vector<SlaDue>> DueSlas(absl::Time now, int limit) = 0;
  virtual absl::StatusOr<std::vector<SlaRebase>> SlaRebases(int limit) = 0;
  // The tenant's tickets after `after_ticket_id` (id order) whose SLA was
  // evaluated under a version before `version`, or never (no record).
  virtual absl::StatusOr<std::vector<std::string>> StaleSlas(const std::string& tenant,
                                                             int64_t version,
                                                             const std::string& after_ticket_id,
                                                             int limit) = 0;

  // The tenant's routing rules (version 0, none, before the first write).
  virtual absl::StatusOr<domain::RoutingRules> GetRoutingRules(const std::string& tenant) = 0;
  // Classifiers (domain/ticket_classifier.h; one transaction each, no
  // request id: a training retried trains again): the tenant's, by target
  // (without their models); a model's bytes when `version` is still the
  // classifier's (nullopt: retrained or deleted since); the labelled texts
  // of the tenant's solved and closed tickets whose field `target` (queue
  // or type) is set, newest first; the save of a training (version: the
  // stored one + 1), a mode change and a deletion (NOT_FOUND
  // CLASSIFIER_NOT_FOUND when the tenant has none for the target); and a
  // ticket's stored predictions.
  virtual absl::StatusOr<std::vector<domain::Classifier>> GetClassifiers(
      const std::string& tenant) = 0;
  virtual absl::StatusOr<std::optional<std::string>> ClassifierModel(
      const std::string& tenant, domain::ClassifierTarget target, int64_t version) = 0;
  virtual absl::StatusOr<std::vector<domain::LabelledText>> TrainingExamples(
      const std::string& tenant, domain::ClassifierTarget target, int limit) = 0;
  virtual absl::StatusOr<domain::Classifier> PutClassifier(const std::string& tenant,
                                                           const domain::Classifier& c,
                                                           const std::string& model) = 0;
  virtual absl::StatusOr<domain::Classifier> SetClassifierMode(const std::string& tenant,
                                                               domain::ClassifierTarget target,
                                                               domain::ClassifierMode mode,
                                                               absl::Time at) = 0;
  virtual absl::Status DeleteClassifier(const std::string& tenant,
                                        domain::ClassifierTarget target) = 0;
  virtual absl::StatusOr<std::vector<domain::TicketPrediction>> TicketPredictions(
      const std::string& tenant, const std::string& ticket_id) = 0;
  // The drift alarm's counts (domain::ClassifierDrift): of the newest
  // `window` tickets created at or after `since` whose `target` field
  // (queue or type) a classifier filled, those whose field was changed
  // after their creation.
  struct Corrections {
    int64_t applied = 0;
    int64_t corrected = 0;
  };
  virtual absl::StatusOr<Corrections> ClassifierCorrections(const std::string& tenant,
                                                            domain::ClassifierTarget target,
                                                            absl::Time since, int window) = 0;
  // Surveys (domain/survey.h): due ones of every tenant (scheduled, due at
  // or before `now`), earliest first; the tenant's settings (version 0
  // before the first write); the report's rows over the surveys sent in
  // [from, to]: NPS (the total, then the answers by month) and CSAT (the
  // total, then by agent, channel, queue and intent).
  struct DueSurvey {
    std::string tenant;
    std::string survey_id;
    std::string ticket_id;
  };
  virtual absl::StatusOr<std::vector<DueSurvey>> DueSurveys(absl::Time now, int limit) = 0;
  virtual absl::StatusOr<domain::SurveySettings> GetSurveySettings(const std::string& tenant) = 0;
  // An attachment of the ticket with its bytes; NOT_FOUND
  // ATTACHMENT_NOT_FOUND (also another ticket's or tenant's).
  virtual absl::StatusOr<std::pair<domain::Attachment, std::string>> AttachmentContent(
      const std::string& tenant, const std::string& ticket_id,
      const std::string& attachment_id) = 0;
  virtual absl::StatusOr<std::vector<domain::NpsCounts>> NpsRows(const std::string& tenant,
                                                                 absl::Time from,
                                                                 absl::Time to) = 0;
  virtual absl::StatusOr<std::vector<domain::SurveyRow>> SurveyRows(const std::string& tenant,
                                                                    absl::Time from,
                                                                    absl::Time to) = 0;
  // Auto-response's counts by intent label over the mail tickets opened in
  // [from, to] (domain::AutoResponseCounts), in one snapshot.
  virtual absl::StatusOr<std::vector<domain::AutoResponseCounts>> AutoResponseCounts(
      const std::string& tenant, absl::Time from, absl::Time to) = 0;
  virtual absl::StatusOr<domain::Triggers> GetTriggers(const std::string& tenant) = 0;
  virtual absl::StatusOr<domain::Automations> GetAutomations(const std::string& tenant) = 0;
  // Articles: NOT_FOUND ARTICLE_NOT_FOUND; a page; every version of one,
  // newest first (NOT_FOUND when it has none); and the search (`tsquery`:
  // domain::TsQueryOf of `q`), each kind ranked by the database.
  virtual absl::StatusOr<domain::Article> GetArticle(const std::string& tenant,
                                                     const std::string& id) = 0;
  virtual absl::StatusOr<ArticlePage> ListArticles(const std::string& tenant,
                                                   const ArticleQuery& q) = 0;
  virtual absl::StatusOr<std::vector<domain::Article>> ArticleVersions(const std::string& tenant,
                                                                       const std::string& id) = 0;
  virtual absl::StatusOr<SearchResult> Search(const std::string& tenant,
                                              const domain::SearchQuery& q,
                                              const std::string& tsquery) = 0;
  // Auto-suggest for `tsquery` (domain::SuggestQueryOf): the best `limit`
  // articles (any state), macros and past answers.
  virtual absl::StatusOr<Suggestions> Suggest(const std::string& tenant, const std::string& tsquery,
                                              int limit) = 0;
  // The automation sweeper's reads: the tenants with automations (across
  // tenants, tenant id order, after `after_tenant`); a tenant's open
  // tickets `a` may be due on at `now` (its instant at least `hours` old
  // and after its last firing there), ticket id order after
  // `after_ticket_id` ("" for the start), with that last firing.
  virtual absl::StatusOr<std::vector<AutomatedTenant>> AutomatedTenants(
      const std::string& after_tenant, int limit) = 0;
  virtual absl::StatusOr<std::vector<AutomationCandidate>> AutomationCandidates(
      const std::string& tenant, const domain::Automation& a, absl::Time now,
      const std::string& after_ticket_id, int limit) = 0;
  // NOT_FOUND AGENT_NOT_FOUND; every agent of the tenant, by id.
  virtual absl::StatusOr<AgentState> GetAgent(const std::string& tenant, const std::string& id) = 0;
  virtual absl::StatusOr<std::vector<AgentState>> ListAgents(const std::string& tenant) = 0;
  // The SLA report of the tickets created in the query's range
  // (domain/sla_report.h's definitions), in one snapshot.
  virtual absl::StatusOr<domain::SlaReport> SlaReportOf(const std::string& tenant,
                                                        const domain::SlaReportQuery& q) = 0;
  // NOT_FOUND MACRO_NOT_FOUND; every macro of the tenant, by name.
  virtual absl::StatusOr<domain::Macro> GetMacro(const std::string& tenant,
                                                 const std::string& id) = 0;
  virtual absl::StatusOr<std::vector<domain::Macro>> ListMacros(const std::string& tenant) = 0;
  // NOT_FOUND MAILBOX_NOT_FOUND.
  virtual absl::StatusOr<Mailbox> GetMailbox(const std::string& tenant, const std::string& id) = 0;
  // By address, at most kMaxMailboxes.
  virtual absl::StatusOr<std::vector<Mailbox>> ListMailboxes(const std::string& tenant) = 0;
  // The tenant and mailbox an address routes to, across tenants (what a
  // mail listener reads before it knows the tenant).
  virtual absl::StatusOr<std::optional<MailboxRoute>> RouteOf(const std::string& address) = 0;

  // Inbound mail's threading reads (tenant-scoped like every read).
  // A mail the mailbox received: its ticket and its message.
  virtual absl::StatusOr<std::optional<MessageAdded>> ReceivedMail(const std::string& tenant,
                                                                   const std::string& mailbox_id,
                                                                   const std::string& mail_id) = 0;
  // The first of `ids` (in their order) that is a mail of a ticket, with
  // that ticket.
  virtual absl::StatusOr<std::optional<MailThread>> TicketOfMail(
      const std::string& tenant, const std::vector<std::string>& ids) = 0;
  virtual absl::StatusOr<std::optional<domain::Ticket>> TicketNumbered(const std::string& tenant,
                                                                       int64_t number) = 0;
  // Whether `addr` is the ticket's requester or was in From/To/Cc of a mail
  // of it.
  virtual absl::StatusOr<bool> IsParticipant(const std::string& tenant,
                                             const std::string& ticket_id,
                                             const std::string& addr) = 0;
  // The ticket of the latest mail received through `mailbox_id` from
  // `from_addr` with this thread subject at or after `since`.
  virtual absl::StatusOr<std::optional<std::string>> SameSubjectTicket(
      const std::string& tenant, const std::string& mailbox_id, const std::string& from_addr,
      const std::string& thread_subject, absl::Time since) = 0;
  // Whether the sender's mail to the mailbox is quarantined at `now`; the
  // ticket of the latest mail received from the sender through the mailbox.
  virtual absl::StatusOr<bool> Quarantined(const std::string& tenant, const std::string& mailbox_id,
                                           const std::string& addr, absl::Time now) = 0;
  virtual absl::StatusOr<std::optional<std::string>> LatestTicketFrom(const std::string& tenant,
                                                                      const std::string& mailbox_id,
                                                                      const std::string& addr) = 0;
  // A mail the desk sends; NOT_FOUND OUTBOUND_MAIL_NOT_FOUND (also for
  // another ticket's mail).
  virtual absl::StatusOr<domain::OutboundMail> GetOutboundMail(const std::string& tenant,
                                                               const std::string& ticket_id,
                                                               const std::string& mail_id) = 0;
};

inline constexpr int kMaxChanges = 1000;
inline constexpr int kMaxMailboxes = 1000;
inline constexpr int kMaxTrail = 200;

}  // namespace crm::service_desk::app
