#pragma once
// The tenant's triggers (docs/service-desk.md, "Triggers"): read, written
// whole under their etag (admins), tried on sample tickets without a write
// (a dry run); and run inside the ticket writes (RunTriggersInWrite).
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "libs/common/clock.h"
#include "libs/common/id.h"
#include "services/service_desk/app/ports.h"

namespace crm::service_desk::app {

// What a ticket write's triggers add after the write's own rows.
struct TriggerEffects {
  std::vector<domain::TicketChange> audit;
  std::vector<domain::TicketMessage> notes;
};

// Runs the tenant's triggers of `events` in a ticket write (the ticket
// locked there): `t` is the ticket after the write's own change at `now`,
// `before` what it was (nullptr: a creation). `t` takes their changes and
// notes (internal notes, author "trigger/<id>", a microsecond apart after
// `now` so they list after the write's message). The audit: each change
// (actor "trigger/<id>"), each refusal (field "trigger_refused", "<id>:
// <why>"), a chain the guard cut (field "trigger_chain", actor "trigger").
// `survey`: the answer of a survey_answered event.
absl::StatusOr<TriggerEffects> RunTriggersInWrite(
    TicketTx& tx, const std::vector<domain::TriggerEvent>& events, const domain::Ticket* before,
    domain::Ticket& t, absl::Time now, common::IdGenerator& ids,
    const domain::SurveyAnswerFacts* survey = nullptr);
// The same with the triggers already read (a batch of the SLA sweeper).
absl::StatusOr<TriggerEffects> RunTriggersInWrite(
    const domain::Triggers& triggers, const std::vector<domain::TriggerEvent>& events,
    const domain::Ticket* before, domain::Ticket& t, absl::Time now, common::IdGenerator& ids,
    const domain::SurveyAnswerFacts* survey = nullptr);
// The effects of triggers run on an event that changed no field by itself
// (an SLA notice, a survey's answer) written on `t` (made from `before` at
// `at`): their audit rows; when a field changed or a note was added, the
// ticket saved as a new version with its notes and events. Whether it was.
bool WriteTriggerEffects(TicketTx& tx, const domain::Ticket& before, domain::Ticket& t,
                         const TriggerEffects& fx);

// A dry run on one ticket: as it is, and what the triggers would make of it.
struct TriggerTrial {
  domain::Ticket ticket;
  domain::TriggerRun run;
};

inline constexpr size_t kMaxTriggerTrials = 20;  // tickets a dry run

class TriggerRules final {
 public:
  TriggerRules(TicketRepository& repository, const common::Clock& clock)
      : repository_(repository), clock_(clock) {}

  absl::StatusOr<domain::Triggers> Get(const std::string& tenant);
  // if_match: the triggers' etag ("0" before the first write; "" = last
  // writer wins). INVALID_ARGUMENT naming the field; ABORTED ETAG_MISMATCH.
  absl::StatusOr<domain::Triggers> Update(const Actor& actor, domain::Triggers triggers,
                                          const std::string& if_match);
  // `proposed` (checked as an update; nullopt: the stored triggers) run on
  // each of `ticket_ids` (1..20) as if `event` had just written it as it is
  // (a creation: every set field changed; otherwise: none changed). Writes
  // nothing. NOT_FOUND TICKET_NOT_FOUND for a ticket not the tenant's.
  absl::StatusOr<std::vector<TriggerTrial>> DryRun(const std::string& tenant,
                                                   std::optional<domain::Triggers> proposed,
                                                   const std::vector<std::string>& ticket_ids,
                                                   domain::TriggerEvent event);

 private:
  TicketRepository& repository_;
  const common::Clock& clock_;
};

}  // namespace crm::service_desk::app
