#pragma once
// Macros (docs/service-desk.md, "Macros"): written by admins (a new one,
// the whole one under its etag, deleted under its etag), read by every
// role, applied to a ticket by desk writers in one write, or tried first
// (a dry run writes nothing).
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "libs/common/clock.h"
#include "libs/common/id.h"
#include "services/service_desk/app/ports.h"
#include "services/service_desk/app/tickets.h"

namespace crm::service_desk::app {

struct MacroApplied {
  MessageAdded result;  // the ticket after it; message.id "" when it adds no reply
  // A dry run: the changes it would write (seq 0). Applied: empty (the
  // ticket's audit holds them).
  std::vector<domain::TicketChange> changes;
  bool dry_run = false;
};

// Whether `m` applies to `t` by `agent` at `now` (its changes, its reply
// filled in): the refusal Apply would answer.
absl::Status MacroApplies(const domain::Macro& m, const domain::Ticket& t, const std::string& agent,
                          absl::Time now);
// Applies `m` to `current` (loaded for update in `tx`) by actor.principal:
// the reply first (message id `message_id`; a public reply on a mail
// ticket leaves as mail of `mail_kind`), then the changes, then an audit
// row `macro` naming it.
absl::StatusOr<MessageAdded> WriteMacro(Tickets& tickets, TicketTx& tx, const Actor& actor,
                                        const domain::Ticket& current, const domain::Macro& m,
                                        const std::string& message_id,
                                        domain::OutboundKind mail_kind);

class Macros final {
 public:
  Macros(TicketRepository& repository, Tickets& tickets, const common::Clock& clock,
         common::IdGenerator& ids)
      : repository_(repository), tickets_(tickets), clock_(clock), ids_(ids) {}

  // INVALID_ARGUMENT naming the field; FAILED_PRECONDITION TOO_MANY_MACROS past
  // domain::kMaxMacros; ALREADY_EXISTS INTENT_BOUND when another macro has
  // one of its intents (Update too).
  absl::StatusOr<domain::Macro> Create(const Actor& actor, domain::Macro m);
  // NOT_FOUND MACRO_NOT_FOUND.
  absl::StatusOr<domain::Macro> Get(const std::string& tenant, const std::string& id);
  absl::StatusOr<std::vector<domain::Macro>> List(const std::string& tenant);
  absl::StatusOr<domain::Macro> Update(const Actor& actor, const std::string& id, domain::Macro m,
                                       const std::string& if_match);
  // Answers the macro as it was.
  absl::StatusOr<domain::Macro> Delete(const Actor& actor, const std::string& id,
                                       const std::string& if_match);
  // if_match: the ticket's etag ("" for any). The reply first (a public
  // reply moves a new ticket to open and goes out as mail on a mail
  // ticket), then the changes, then an audit row `macro` naming it.
  absl::StatusOr<MacroApplied> Apply(const Actor& actor, const std::string& ticket_id,
                                     const std::string& macro_id, bool dry_run,
                                     const std::string& if_match);

 private:
  absl::Time Now() const;

  TicketRepository& repository_;
  Tickets& tickets_;
  const common::Clock& clock_;
  common::IdGenerator& ids_;
};

}  // namespace crm::service_desk::app
