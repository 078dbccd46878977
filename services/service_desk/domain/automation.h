#pragma once
// Time-based automations (docs/service-desk.md, "Automations"): the
// tenant's rules evaluated every minute over its open tickets; one whose
// hours since an instant of the ticket (created, last updated, last status
// move, solved) have passed and whose conditions hold changes the ticket
// (its fields as a macro's, an internal note) in a write of its own. It
// fires on a ticket once per value of that instant: again only after the
// instant moved past its last firing (a ticket pending again, updated
// again). Pure.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "services/service_desk/domain/routing.h"
#include "services/service_desk/domain/ticket.h"
#include "services/service_desk/domain/ticket_edits.h"

namespace crm::service_desk::domain {

// The instant an automation counts its hours from.
enum class AutomationClock { kCreated = 1, kUpdated, kStatusChanged, kSolved };
// "created", "updated", "status_changed", "solved"
const char* AutomationClockName(AutomationClock c);
std::optional<AutomationClock> AutomationClockFromName(const std::string& name);

struct Automation {
  std::string id;    // 1..64 of a-z, 0-9, _ and -; names its audit rows
  std::string name;  // 1..100 characters
  bool active = true;
  AutomationClock since = AutomationClock::kUpdated;
  int hours = 24;                            // 1..8,760 (a year)
  std::vector<RoutingCondition> conditions;  // all must hold (ConditionScope::kAutomation)
  TicketEdits action;
  std::string note;  // an internal note, as a trigger's ("agent": the automation's name)
};

struct Automations {
  std::vector<Automation> automations;
  int64_t version = 0;  // 0: never written
  absl::Time update_time = absl::InfinitePast();
};

inline constexpr size_t kMaxAutomations = 50;
inline constexpr int kMaxAutomationHours = 8'760;

// Checks every automation (INVALID_ARGUMENT naming the field:
// automations[1].id, automations[0].hours, automations[2].conditions[0].match,
// automations[0].action.add_tags[1], automations[0].note, ...): ids unique,
// an action or a note.
absl::Status NormalizeAndValidate(Automations& a);

// The instant `c` reads on `t`; InfinitePast for a ticket never solved.
absl::Time ClockOf(AutomationClock c, const Ticket& t);

// Whether `a` fires on `t` at `now`, `last_fired` being its last firing on
// it (InfinitePast: never): active, the ticket not closed, its instant set,
// at least `hours` before `now` and after `last_fired`, and every condition
// holding.
bool AutomationDue(const Automation& a, const Ticket& t, absl::Time last_fired, absl::Time now);

}  // namespace crm::service_desk::domain
