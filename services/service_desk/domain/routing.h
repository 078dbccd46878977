#pragma once
// Routing rules (docs/service-desk.md, "Routing"): the tenant's ordered
// rules, applied to every new ticket (API, web form, mail): the first rule
// whose conditions all hold fills what the creator left open — the queue
// and type when empty, the priority when none was given — and adds its
// tags. Conditions read the new ticket: channel, subject, description,
// requester email and domain, tags, type, queue, the mailbox it came
// through. Pure.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "services/service_desk/domain/assignment.h"
#include "services/service_desk/domain/ticket.h"
#include "services/service_desk/domain/ticket_classifier.h"

namespace crm::service_desk::domain {

struct RoutingCondition {
  // "channel", "subject", "description", "requester_email",
  // "requester_domain", "tags", "type", "queue", "priority", "mailbox",
  // "predicted_queue", "predicted_type", "intent" (the tenant's
  // classifiers' answers: the label when the classifier knows, "" when it
  // does not or there is none; ticket_classifier.h) — SLA policies' and
  // triggers' conditions: not "description", "mailbox" nor the
  // predictions; triggers' also "status" and "assignee", and
  // "survey_kind" ("csat", "nps") and "survey_rating" ("1".."5",
  // "0".."10") in the survey_answered event ("" in others). Routing's
  // also: the requester's customer facts (CustomerFacts below)
  // "customer_segment" (a live segment's id or name), "customer_rfm_segment",
  // and the numbers "customer_clv", "customer_churn_risk" and the
  // classifiers' "intent_confidence", "predicted_queue_confidence",
  // "predicted_type_confidence" (the model's confidence in its best label,
  // whether or not it reached the threshold).
  std::string field;
  // "in": the field (each tag, for tags) equals one of the values
  // (case-insensitive); "contains": it holds one of them as a substring
  // (case-insensitive); "not_in": none of the values equals it. Triggers'
  // only: "changed": the event changed the field (no values); "changed_to":
  // it changed to one of the values (for tags: one of them was added). On
  // a creation every field counts as changed from nothing. Numeric
  // fields' only: "gte" (at least the one value) and "lt" (below it); a
  // number that is unknown holds neither.
  std::string op;
  std::vector<std::string> values;
};

struct RoutingAction {
  std::string queue;                 // "" = leave
  std::optional<Priority> priority;  // nullopt = leave
  std::string type;                  // "" = leave
  std::vector<std::string> add_tags;
  // A ticket the creator assigned to nobody goes to an agent with every
  // skill (domain/assignment.h), in the ticket's write.
  AssignMode assign = AssignMode::kNone;
  std::vector<std::string> skills;
};

struct RoutingRule {
  std::string name;
  std::vector<RoutingCondition> conditions;  // all must hold; none = every ticket
  RoutingAction action;
};

struct RoutingRules {
  std::vector<RoutingRule> rules;
  int64_t version = 0;  // 0: never written
  absl::Time update_time = absl::InfinitePast();
};

inline constexpr size_t kMaxRoutingRules = 100;
inline constexpr size_t kMaxRoutingConditions = 10;
inline constexpr size_t kMaxRoutingValues = 50;
inline constexpr size_t kMaxRoutingValue = 200;  // characters

// A survey's answer, to triggers of survey_answered: "csat" or "nps" and
// the rating (1..5, 0..10).
struct SurveyAnswerFacts {
  std::string kind;
  int rating = 0;
};

// What customer-store knows of a new ticket's requester (its 360 view's
// scores and segments sections), for routing on the customer.
struct CustomerFacts {
  std::vector<std::string> segments;  // each live segment's id and its display name
  std::string rfm_segment;            // "Champions", ... ("" without purchases)
  std::optional<double> clv;          // discounted lifetime value, major units
  std::optional<double> churn_risk;   // 0..1
};

// What a new ticket offers to the conditions.
struct RoutingInput {
  const Ticket* ticket = nullptr;  // subject, channel, tags, type, queue, requester_email
  std::string description;         // its first message
  std::string mailbox;             // the address it came to, "" when not by mail
  // Triggers: the ticket before the event (nullptr: it is being created).
  const Ticket* before = nullptr;
  // Routing: the classifiers' predictions for the new ticket (nullptr: none).
  const std::vector<TicketPrediction>* predictions = nullptr;
  // Triggers of survey_answered: the answer (nullptr: another event).
  const SurveyAnswerFacts* survey = nullptr;
  // Routing: the requester's facts (nullptr: not asked or not available:
  // conditions on them do not hold).
  const CustomerFacts* customer = nullptr;
};

// Whether a rule reads the customer's facts (customer_* fields): only
// then are they asked for.
bool NeedsCustomerFacts(const RoutingRules& r);

// What reads conditions: routing (a new ticket: every field), the choice
// of an SLA policy (any ticket, at any write: its fields only, not
// "description" nor "mailbox", which a ticket does not keep) or triggers
// (a ticket's fields with its status and assignee, and what the event
// changed) or time-based automations (the fields triggers read; no
// "changed" matches: no write is under way).
enum class ConditionScope { kRouting, kSla, kTrigger, kAutomation };

// Checks conditions named `at` ("rules[2].conditions", "policies[0].conditions"):
// INVALID_ARGUMENT naming the field (<at>[1].field, <at>[0].values[2]);
// lower-cases fields and operators.
absl::Status NormalizeAndValidateConditions(std::vector<RoutingCondition>& conditions,
                                            const std::string& at, ConditionScope scope);

// A named rule's id and name (SLA policies', triggers'): the id trimmed
// and lower-cased, 1..64 of a-z, 0-9, _ and -; the name trimmed, 1..100
// characters. INVALID_ARGUMENT naming <at>.id or <at>.name.
absl::Status NormalizeRuleIdAndName(std::string& id, std::string& name, const std::string& at);

// Whether every condition holds (none: true).
bool ConditionsHold(const std::vector<RoutingCondition>& conditions, const RoutingInput& in);

// Checks every rule (INVALID_ARGUMENT naming the field:
// rules[2].conditions[0].field, rules[1].action.add_tags[0], ...); lower-
// cases "in" / "not_in" values of case-less fields and normalizes tags.
absl::Status NormalizeAndValidate(RoutingRules& r);

// The first rule that holds, or nullopt.
std::optional<size_t> MatchRouting(const RoutingRules& r, const RoutingInput& in);

// Applies rule `index`'s action to `t`: queue and type when empty, the
// priority when `priority_given` is false, its tags added.
void ApplyRouting(const RoutingRule& rule, bool priority_given, Ticket& t);

}  // namespace crm::service_desk::domain
