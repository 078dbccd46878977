#pragma once
// Merge and split of tickets (docs/service-desk.md, "Merge and split"):
// which tickets may be merged or split, what the merged ticket becomes,
// the ticket a split opens, and the notes and audit rows that tell both
// sides. Moving the messages themselves is the store's (app/ports.h
// TicketTx::MoveMessages). Pure: std and Abseil only.
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "services/service_desk/domain/ticket.h"

namespace crm::service_desk::domain {

inline constexpr size_t kMaxSplitMessages = 100;
// How many merges a mail that names a merged ticket follows to the ticket
// its messages are in now (a merged ticket's target may be merged again).
inline constexpr int kMaxMergeHops = 16;

// OK when `source` may be merged into `target`: two tickets, neither
// closed (FAILED_PRECONDITION TICKET_CLOSED; field target_ticket_id for
// the target). One ticket twice: INVALID_ARGUMENT target_ticket_id.
absl::Status CheckMerge(const Ticket& source, const Ticket& target);

// OK when `moving` of `source`'s messages may leave for a new ticket:
// 1..kMaxSplitMessages of them (INVALID_ARGUMENT message_ids), at least
// one staying (INVALID_ARGUMENT message_ids), the ticket not closed
// (FAILED_PRECONDITION TICKET_CLOSED).
absl::Status CheckSplit(const Ticket& source, size_t moving);

// The merged ticket after `moved` of its messages went into `target` at
// `now`: closed (whatever its status was: a merge is not a solve, so no
// survey follows), merged_into set, its count less the moved messages,
// a new version.
void CloseMerged(const Ticket& target, int moved, absl::Time now, Ticket& source);
// A ticket whose messages moved at `now`, `delta` of them in (a merge's
// target, a split's new ticket) or out (< 0: a split ticket): its count,
// its time, a new version.
void MessagesMoved(int delta, absl::Time now, Ticket& t);

// The ticket a split of `source` opens at `now` with id `id` and number
// `number`: the requester, channel, visitor, priority, type, tags, queue,
// assignee and custom fields of `source`, its subject unless `subject`
// is given (checked by NormalizeAndValidate), status open, no messages
// yet, version 0 (MessagesMoved makes it 1).
Ticket SplitOff(const Ticket& source, const std::string& id, int64_t number,
                const std::string& subject, absl::Time now);

// The notes each side gets (internal notes by `actor`), and the audit
// rows naming the other ticket (field merged_into / merged_from,
// split_to / split_from; its id).
std::string MergedIntoNote(const Ticket& target);
std::string MergedFromNote(const Ticket& source, int moved);
std::string SplitToNote(const Ticket& created, int moved);
std::string SplitFromNote(const Ticket& source);
TicketChange LinkChange(const char* field, const std::string& other_id, const std::string& actor,
                        absl::Time now);

}  // namespace crm::service_desk::domain
