#include "services/service_desk/domain/ticket_merge.h"

#include "absl/strings/str_cat.h"
#include "libs/common/errors.h"

namespace crm::service_desk::domain {
namespace {

absl::Status ClosedTicket(const char* which, const char* field) {
  absl::Status s =
      common::WithReason(absl::FailedPreconditionError(absl::StrCat(
                             which,
                             " is closed: a closed ticket is neither merged nor split; open a "
                             "follow-up ticket")),
                         "TICKET_CLOSED");
  return field[0] == '\0' ? s : common::WithField(std::move(s), field);
}

std::string Named(const Ticket& t) { return absl::StrCat("#", t.number, " \"", t.subject, "\""); }

std::string Messages(int n) { return absl::StrCat(n, n == 1 ? " message" : " messages"); }

}  // namespace

absl::Status CheckMerge(const Ticket& source, const Ticket& target) {
  if (source.id == target.id) {
    return common::InvalidField("target_ticket_id", "a ticket is not merged into itself");
  }
  if (source.status == TicketStatus::kClosed) return ClosedTicket("the ticket", "");
  if (target.status == TicketStatus::kClosed) {
    return ClosedTicket("the target ticket", "target_ticket_id");
  }
  return absl::OkStatus();
}

absl::Status CheckSplit(const Ticket& source, size_t moving) {
  if (moving == 0 || moving > kMaxSplitMessages) {
    return common::InvalidField("message_ids",
                                absl::StrCat("a split moves 1..", kMaxSplitMessages, " messages"));
  }
  if (source.status == TicketStatus::kClosed) return ClosedTicket("the ticket", "");
  if (moving >= static_cast<size_t>(source.message_count)) {
    return common::InvalidField(
        "message_ids",
        absl::StrCat("a split leaves at least one message on the ticket (it has ",
                     Messages(source.message_count), "); to move a whole ticket, merge it"));
  }
  return absl::OkStatus();
}

void CloseMerged(const Ticket& target, int moved, absl::Time now, Ticket& source) {
  if (source.status != TicketStatus::kClosed) source.status_time = now;
  source.status = TicketStatus::kClosed;
  source.merged_into = target.id;
  MessagesMoved(-moved, now, source);
}

void MessagesMoved(int delta, absl::Time now, Ticket& t) {
  t.message_count += delta;
  t.update_time = now;
  ++t.version;
}

Ticket SplitOff(const Ticket& source, const std::string& id, int64_t number,
                const std::string& subject, absl::Time now) {
  Ticket t;
  t.id = id;
  t.number = number;
  t.customer_id = source.customer_id;
  t.requester_email = source.requester_email;
  t.subject = subject.empty() ? source.subject : subject;
  t.channel = source.channel;
  t.status = TicketStatus::kOpen;
  t.priority = source.priority;
  t.type = source.type;
  t.tags = source.tags;
  t.queue = source.queue;
  t.assignee = source.assignee;
  t.custom_fields = source.custom_fields;
  t.visitor_id = source.visitor_id;
  t.version = 0;  // MessagesMoved makes it 1
  t.create_time = t.update_time = t.status_time = now;
  return t;
}

std::string MergedIntoNote(const Ticket& target) {
  return absl::StrCat("Merged into ticket ", Named(target),
                      ": its messages, files and mail are there now; this ticket is closed.");
}

std::string MergedFromNote(const Ticket& source, int moved) {
  return absl::StrCat("Ticket ", Named(source), " was merged into this one: its ", Messages(moved),
                      " moved here.");
}

std::string SplitToNote(const Ticket& created, int moved) {
  return absl::StrCat(Messages(moved), " moved to the new ticket ", Named(created), " (split).");
}

std::string SplitFromNote(const Ticket& source) {
  return absl::StrCat("Split from ticket ", Named(source), ".");
}

TicketChange LinkChange(const char* field, const std::string& other_id, const std::string& actor,
                        absl::Time now) {
  TicketChange c;
  c.field = field;
  c.new_value = other_id;
  c.actor = actor;
  c.time = now;
  return c;
}

}  // namespace crm::service_desk::domain
