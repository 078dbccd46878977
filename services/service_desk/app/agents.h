#pragma once
// Agents and the assignment of new tickets (docs/service-desk.md,
// "Assignment"): agents written whole under their etag (admins), their
// availability set by desk writers, and the assignment step of a new
// ticket's write, which a routing rule asks for.
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "libs/common/clock.h"
#include "services/service_desk/app/ports.h"
#include "services/service_desk/app/tickets.h"

namespace crm::service_desk::app {

class Agents final {
 public:
  Agents(TicketRepository& repository, Tickets& tickets, const common::Clock& clock)
      : repository_(repository), tickets_(tickets), clock_(clock) {}

  // The whole agent (its id from the path); if_match: its etag ("0": only
  // when it does not exist yet; "": last writer wins). INVALID_ARGUMENT
  // naming the field; ABORTED ETAG_MISMATCH.
  absl::StatusOr<AgentState> Put(const Actor& actor, domain::Agent agent,
                                 const std::string& if_match);
  // NOT_FOUND AGENT_NOT_FOUND.
  absl::StatusOr<AgentState> Get(const std::string& tenant, const std::string& id);
  absl::StatusOr<std::vector<AgentState>> List(const std::string& tenant);
  // On or off shift; nothing changes (no new version) when it already is.
  // Off with a `reassign` mode: the agent's new and open tickets (the
  // oldest kMaxReassigned) go, each in the same write, to another agent
  // by that mode (its queue, capacity and availability, no skills asked),
  // or to nobody; the audit's actor is kReassigner.
  absl::StatusOr<AgentState> SetAvailability(
      const Actor& actor, const std::string& id, bool available,
      domain::AssignMode reassign = domain::AssignMode::kNone);

 private:
  absl::Time Now() const;

  TicketRepository& repository_;
  Tickets& tickets_;
  const common::Clock& clock_;
};

inline constexpr int kMaxReassigned = 500;
inline constexpr char kReassigner[] = "reassignment";

// The assignment step of a new ticket's write (before it is saved): the
// agent a ticket of its queue needing `skills` goes to under `mode`, that
// agent's assignment recorded; "" when no agent can take it now.
absl::StatusOr<std::string> AssignNewTicket(TicketTx& tx, domain::AssignMode mode,
                                            const domain::Ticket& ticket,
                                            const std::vector<std::string>& skills, absl::Time at);

}  // namespace crm::service_desk::app
