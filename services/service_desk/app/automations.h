#pragma once
// The tenant's time-based automations (docs/service-desk.md,
// "Automations"): read, written whole under their etag (admins), and run
// by the sweeper (Sweep) over every tenant's open tickets, each firing a
// write of its own on one ticket.
#include <map>
#include <string>

#include "absl/status/statusor.h"
#include "libs/common/clock.h"
#include "services/service_desk/app/ports.h"
#include "services/service_desk/app/tickets.h"

namespace crm::service_desk::app {

struct AutomationRound {
  int examined = 0;      // candidate tickets read
  int fired = 0;         // firings written
  bool more = false;     // a page was full: another round at once
  absl::Status failure;  // the round's first
};

class AutomationRules final {
 public:
  AutomationRules(TicketRepository& repository, Tickets& tickets, const common::Clock& clock)
      : repository_(repository), tickets_(tickets), clock_(clock) {}

  absl::StatusOr<domain::Automations> Get(const std::string& tenant);
  // if_match: the automations' etag ("0" before the first write; "" =
  // last writer wins). INVALID_ARGUMENT naming the field; ABORTED
  // ETAG_MISMATCH.
  absl::StatusOr<domain::Automations> Update(const Actor& actor, domain::Automations automations,
                                             const std::string& if_match);

  // One round: for each tenant with automations, each active one reads a
  // page of at most `batch` candidate tickets (continuing where its last
  // round stopped) and fires on those due. A firing is its own write under
  // the ticket's lock: due again there (else nothing), the firing
  // recorded, its note (author automation/<id>) and its changes (audit
  // actor automation/<id>; the "updated" triggers run), or a row
  // `automation_refused` when the ticket refuses them. Replicas may sweep
  // at once: the recorded firing makes a second one find it not due.
  AutomationRound Sweep(int batch);

 private:
  absl::StatusOr<bool> Fire(const std::string& tenant, const domain::Automation& a,
                            const std::string& ticket_id);

  TicketRepository& repository_;
  Tickets& tickets_;
  const common::Clock& clock_;
  // Where each tenant's automation stopped ("<tenant>/<id>" -> ticket id).
  std::map<std::string, std::string> cursors_;
};

}  // namespace crm::service_desk::app
