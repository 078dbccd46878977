#pragma once
// Field changes a macro or a trigger makes to a ticket (docs/service-desk.md,
// "Macros", "Triggers"): the fields it sets and the tags it adds and
// removes, checked as a ticket's and applied as an update's. Pure.
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "services/service_desk/domain/ticket.h"

namespace crm::service_desk::domain {

struct TicketEdits {
  // The fields set ("" / nullopt: leave) and the tags added and removed.
  std::optional<TicketStatus> status;
  std::optional<Priority> priority;
  std::string type;
  std::string queue;
  std::string assignee;
  std::vector<std::string> add_tags;
  std::vector<std::string> remove_tags;

  bool empty() const {
    return !status && !priority && type.empty() && queue.empty() && assignee.empty() &&
           add_tags.empty() && remove_tags.empty();
  }
};

// Normalizes the tags and checks every field as a ticket's: INVALID_ARGUMENT
// naming the field under `prefix` ("macro.queue", "triggers[1].action.add_tags[0]").
absl::Status NormalizeAndValidateEdits(TicketEdits& e, const std::string& prefix);

// `t` after the edits at `now`: a status move checked as an update's (a
// closed ticket takes none: TICKET_CLOSED), the result checked as a
// ticket; with the fields that changed (an update's paths; none when the
// edits change nothing).
struct Edited {
  Ticket ticket;
  std::vector<std::string> paths;
};
absl::StatusOr<Edited> ApplyEdits(const TicketEdits& e, const Ticket& t, absl::Time now);

}  // namespace crm::service_desk::domain
