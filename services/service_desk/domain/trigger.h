#pragma once
// Triggers (docs/service-desk.md, "Triggers"): the tenant's ordered rules
// run inside every ticket write — a creation, an update, a customer's
// message, an agent's reply or note — that change the ticket further (its
// fields as a macro's, an internal note) when their conditions hold. Each
// fires at most once a write; what one changes can make another's
// conditions hold (a chain), evaluated in passes over the list up to
// kMaxTriggerPasses (the chain-depth guard). Pure.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "services/service_desk/domain/routing.h"
#include "services/service_desk/domain/ticket.h"
#include "services/service_desk/domain/ticket_edits.h"

namespace crm::service_desk::domain {

// The SLA events are the sweeper's notices (docs/service-desk.md, "SLA
// sweeper"): a warning, a breach, an escalation level told.
enum class TriggerEvent {
  kCreated = 1,
  kUpdated,
  kCustomerMessage,
  kAgentMessage,
  kSlaWarning,
  kSlaBreach,
  kSlaEscalation,
  kSurveyAnswered
};
// "created", "updated", "customer_message", "agent_message",
// "sla_warning", "sla_breach", "sla_escalation", "survey_answered"
const char* TriggerEventName(TriggerEvent e);
std::optional<TriggerEvent> TriggerEventFromName(const std::string& name);

struct Trigger {
  std::string id;    // 1..64 of a-z, 0-9, _ and -; names its audit rows
  std::string name;  // 1..100 characters
  bool active = true;
  std::vector<TriggerEvent> events;          // 1..8, the writes it runs in
  std::vector<RoutingCondition> conditions;  // all must hold (ConditionScope::kTrigger)
  TicketEdits action;                        // the field changes
  // An internal note it adds, a template of kMacroFields ("agent" is the
  // trigger's name); "" for none.
  std::string note;
};

struct Triggers {
  std::vector<Trigger> triggers;
  int64_t version = 0;  // 0: never written
  absl::Time update_time = absl::InfinitePast();
};

inline constexpr size_t kMaxTriggers = 100;
inline constexpr int kMaxTriggerPasses = 10;
inline constexpr size_t kMaxTriggerNote = 10'000;  // characters

// Checks every trigger (INVALID_ARGUMENT naming the field: triggers[1].id,
// triggers[0].events[2], triggers[2].conditions[0].match,
// triggers[3].action.add_tags[0], triggers[0].note, ...): ids unique, at
// least one event, an action or a note.
absl::Status NormalizeAndValidate(Triggers& t);

// What a write's triggers did.
struct TriggerFiring {
  std::string trigger_id;
  std::vector<TicketChange> changes;  // actor "trigger/<id>"
  std::string note;                   // filled in; "" for none
};
struct TriggerRun {
  Ticket ticket;  // after every firing
  std::vector<TriggerFiring> fired;
  // Triggers whose conditions held but whose change the ticket refused
  // (a status move the graph forbids, a closed ticket): id and why.
  std::vector<std::pair<std::string, std::string>> refused;
  bool chain_cut = false;  // kMaxTriggerPasses passes ran and one more would fire
};

// A rule's action and note (a trigger's, an automation's), named under
// `at`: the edits checked as a ticket's, the note a template of the macros'
// fields of at most kMaxTriggerNote characters, and one of them set.
absl::Status NormalizeAndValidateRuleEffect(TicketEdits& action, const std::string& note,
                                            const std::string& at);

// One rule's action and internal note applied to `t` at `now` (a trigger's
// or an automation's): the firing named `id`, its changes with `actor`,
// the note filled in from the ticket after the changes with `name` as
// {{agent}}; nullopt when it would change nothing and adds no note; the
// ticket's error when it refuses the change (TICKET_STATUS_INVALID,
// TICKET_CLOSED).
absl::StatusOr<std::optional<TriggerFiring>> FireRule(
    const std::string& id, const std::string& name, const TicketEdits& action,
    const std::string& note, const std::string& actor, Ticket& t, absl::Time now);

// Runs the active triggers of `events` on `after`, which the write made
// from `before` (nullptr: a creation) at `now`: pass after pass over the
// list in order, each trigger whose conditions hold on the ticket as it
// is by then (what changed: since `before`) fires once, applying its
// action and note; a trigger that would change nothing does not fire. A
// pass that fired nothing ends the run.
// `survey`: the answer of a survey_answered event (its conditions'
// survey_kind and survey_rating), else nullptr.
TriggerRun RunTriggers(const Triggers& triggers, const std::vector<TriggerEvent>& events,
                       const Ticket* before, const Ticket& after, absl::Time now,
                       const SurveyAnswerFacts* survey = nullptr);

}  // namespace crm::service_desk::domain
