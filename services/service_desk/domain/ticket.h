#pragma once
// A ticket of the service desk and the rules of its life (docs/service-desk.md,
// "Tickets"): its fields and their limits, the status moves allowed, what a
// message does to the status, and the audit of a change (one row per field).
// Pure: std and Abseil only.
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "services/service_desk/domain/attachment.h"

namespace crm::service_desk::domain {

enum class TicketStatus {
  kNew = 1,
  kOpen,
  kPendingCustomer,
  kPendingThirdParty,
  kOnHold,
  kSolved,
  kClosed,
};
enum class Priority { kLow = 1, kNormal, kHigh, kUrgent };
enum class Channel { kEmail = 1, kWebForm, kChat, kPhone, kApi };
enum class MessageKind { kPublicReply = 1, kInternalNote, kCustomer };

// Solved or closed: the requester's question is answered.
inline bool IsDone(TicketStatus s) {
  return s == TicketStatus::kSolved || s == TicketStatus::kClosed;
}

// Stored and shown names: "new", "open", "pending_customer", ...
const char* StatusName(TicketStatus s);
std::optional<TicketStatus> StatusFromName(const std::string& name);
const char* PriorityName(Priority p);  // "low", "normal", "high", "urgent"
std::optional<Priority> PriorityFromName(const std::string& name);
const char* ChannelName(Channel c);  // "email", "web_form", "chat", "phone", "api"
std::optional<Channel> ChannelFromName(const std::string& name);
const char* MessageKindName(MessageKind k);  // "public_reply", "internal_note", "customer"
std::optional<MessageKind> MessageKindFromName(const std::string& name);

// What a classifier of the tenant predicts for a ticket
// (ticket_classifier.h): for its target, the queue, the type or an intent.
enum class ClassifierTarget { kQueue = 1, kType, kIntent };
struct TicketPrediction {
  ClassifierTarget target = ClassifierTarget::kQueue;
  std::string label;      // the model's best label
  double confidence = 0;  // of it
  bool answered = false;  // confidence at or above the classifier's threshold
  bool applied = false;   // it filled the ticket's field (mode auto)
  int64_t version = 0;    // the classifier's
};

struct Ticket {
  std::string id;
  int64_t number = 0;  // per tenant, from 1
  std::string customer_id;
  std::string requester_email;
  std::string subject;
  Channel channel = Channel::kApi;
  TicketStatus status = TicketStatus::kNew;
  Priority priority = Priority::kNormal;
  std::string type;
  std::vector<std::string> tags;  // normalized: lower-case, sorted, unique
  std::string queue;
  std::string assignee;
  std::map<std::string, std::string> custom_fields;
  int64_t version = 0;  // the etag
  absl::Time create_time = absl::InfinitePast();
  absl::Time update_time = absl::InfinitePast();
  absl::Time solve_time = absl::InfinitePast();  // the last move to solved; past = never
  absl::Time status_time = absl::InfinitePast();  // the last status move (creation: created)
  int message_count = 0;
  // Stored SLA: the next instant the SLA changes by itself; none when
  // nothing is due (app/slas.h TrackSla writes it).
  std::optional<absl::Time> sla_due;
  // A ticket opened by a reply to a closed (or long solved) one: that one.
  std::string follow_up_of;
  // The site's visitor id of a ticket opened from the site (a chat, a call
  // request): its context shows that visitor's pages. Set at creation.
  std::string visitor_id;
  // The ticket a merge put this one's messages into (domain/ticket_merge.h):
  // this one is closed.
  std::string merged_into;
  // Its classifiers' predictions at creation (read by GetTicket and
  // answered by the creation; lists and writes leave them out).
  std::vector<TicketPrediction> predictions;
};

struct TicketMessage {
  std::string id;
  std::string ticket_id;
  MessageKind kind = MessageKind::kCustomer;
  std::string author;  // the agent's principal, or the customer's id
  std::string body;
  absl::Time create_time = absl::InfinitePast();
  // The mail it came as or goes out as: the mail's identity
  // (domain::MailIdentity) or our Message-ID; "" for others.
  std::string mail_id;
  std::vector<Attachment> attachments;  // upload order
};

// One changed field of a ticket: the audit's row.
struct TicketChange {
  int64_t seq = 0;
  std::string field;
  std::string old_value;
  std::string new_value;
  std::string actor;
  absl::Time time = absl::InfinitePast();
};

inline constexpr size_t kMaxSubject = 300;   // characters
inline constexpr size_t kMaxBody = 100'000;  // characters
inline constexpr size_t kMaxTags = 30;
inline constexpr size_t kMaxCustomFields = 50;
inline constexpr size_t kMaxCustomValue = 1'000;  // characters

std::string EtagOf(const Ticket& t);  // the version

// Whose visit a ticket's context shows (GET /v1/tickets/{id}/context): the
// visitor the ticket names, else the requester's own events; the visit
// running when the ticket was created.
struct VisitSubject {
  std::string visitor_id;
  std::string customer_id;  // when visitor_id is ""
  absl::Time at = absl::InfinitePast();
};
VisitSubject VisitSubjectOf(const Ticket& t);

// Trims the subject, lower-cases, sorts and deduplicates the tags, then
// checks every field's limits: INVALID_ARGUMENT naming the field
// ("subject", "tags[2]", "custom_fields.order_ref").
absl::Status NormalizeAndValidate(Ticket& t);

// OK when `from` may move to `to` (docs: new → open, pending_customer,
// pending_third_party, on_hold, solved; open ⇄ pending_customer,
// pending_third_party, on_hold; each of those → solved; solved → open
// (reopen) or closed; closed is final); else FAILED_PRECONDITION
// TICKET_STATUS_INVALID naming both and the moves allowed (closed:
// TICKET_CLOSED).
absl::Status CheckStatusMove(TicketStatus from, TicketStatus to);

// Applies the fields `paths` names from `patch` to `target`: status (a valid
// move; solve_time set on a move to solved), priority, type, tags, queue,
// assignee, subject, custom_fields (the whole map) or custom_fields.<key>
// (one entry; an empty value removes it). Read-only or unknown paths:
// INVALID_ARGUMENT (field update_mask). A closed ticket changes no field
// (TICKET_CLOSED).
absl::Status ApplyTicketMask(const Ticket& patch, const std::vector<std::string>& paths,
                             absl::Time now, Ticket& target);

// What a new message does to the ticket (its status, count and time): a
// customer message reopens a pending, on-hold or solved ticket (status
// open); an agent's public reply moves a new ticket to open; a note changes
// no status. A closed ticket takes no message (FAILED_PRECONDITION
// TICKET_CLOSED). The body: 1..kMaxBody characters (INVALID_ARGUMENT body).
absl::Status ApplyMessage(const TicketMessage& m, absl::Time now, Ticket& t);

// The changed fields between two versions of a ticket, in a fixed order
// (status, priority, type, subject, queue, assignee, tags, then each custom
// field as custom_fields.<key>); tags as a comma-separated list. seq is
// left 0 (the store numbers them).
std::vector<TicketChange> Diff(const Ticket& before, const Ticket& after, const std::string& actor,
                               absl::Time now);

// Characters (UTF-8 code points) of `s`.
size_t CharCount(const std::string& s);

}  // namespace crm::service_desk::domain
