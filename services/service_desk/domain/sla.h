#pragma once
// The SLA clock of one ticket (docs/service-desk.md, "SLA"): from a
// policy (business hours, targets by priority, paused statuses, warning
// and escalation leads) and the ticket's timeline, where each SLA metric
// stands at `now`: running or paused, its deadline, whether it was met or
// breached, and the escalation level. Pure and deterministic: a sweeper
// re-evaluates a ticket when NextDue says something changes.
//
// Every duration is business time of the policy's calendar
// (business_calendar.h), counted only while the metric's clock runs:
//   - a clock runs while the ticket's status is neither in
//     policy.paused_statuses nor "solved"/"closed"; this holds for every
//     metric, first and next reply included (waiting on the customer is
//     not the team's time). A paused metric keeps the business time it has
//     used and has no deadline, warning or escalation instant;
//   - first reply: from creation to the first agent reply. A ticket
//     solved without a reply keeps the cycle paused, so a reopen resumes it.
//     Created Mon 08:00 (opens 09:00), target 2h, reply Mon 10:30: met,
//     1h30 elapsed;
//   - next reply: a cycle starts at the oldest customer message after an
//     agent reply and ends at the next agent reply; messages before the
//     first agent reply belong to the first reply. Reported: the open cycle,
//     else the last one (inactive, fulfilled); breached_at: the earliest
//     breached cycle's;
//   - periodic update: an agent reply is due every target since creation or
//     the last agent reply, while the ticket is not solved/closed (the
//     cycle is paused then); reported like next reply;
//   - resolution: from creation until the status becomes "solved" or
//     "closed". A reopen continues the same count (time while solved does
//     not count): 5h used, solved, reopened a week later: 5h already used.
//
// Targets follow the ticket's current priority, applied to the cycle's
// whole elapsed time: raised from normal (8h) to urgent (1h) after 30m,
// the deadline is when 1h is used. Breaches are never back-dated: raised
// to urgent at 11:00 with 3h already used, the breach is at 11:00, not at
// the 1h mark (the deadline, reported as it is computed). So breached_at is
// the later of the deadline and the instant the event that revealed it
// happened. A breach stays recorded when the priority is lowered again.
// A cycle fulfilled at or before its breach instant is met.
//
// Escalation level k is reached when the metric's clock has counted
// policy.escalations[k-1] more business time after the breach, i.e.
// calendar.Add(breach, escalations[k-1]) unless the ticket pauses meanwhile
// (escalation pauses with the clock, and stops when the cycle is fulfilled).
// warn_at is where warn_before business time is left: elapsed = target -
// warn_before, not the wall-clock deadline minus warn_before.
//
// Events are taken in (time, input) order, sorted stably here; an event
// before created_at counts at created_at, and events after `now` are not
// known yet (ignored). A `now` before created_at is taken as created_at.
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "services/service_desk/domain/business_calendar.h"

namespace crm::service_desk::domain {

enum class SlaMetric { kFirstReply, kNextReply, kPeriodicUpdate, kResolution };

// Business durations; a metric without a target is not tracked.
struct SlaTargets {
  std::optional<absl::Duration> first_reply;
  std::optional<absl::Duration> next_reply;
  std::optional<absl::Duration> periodic_update;
  std::optional<absl::Duration> resolution;
};

struct SlaPolicy {
  std::string id;
  BusinessCalendar calendar;  // 24/7 unless set
  // By priority: "low", "normal", "high", "urgent"; a priority missing here
  // has no SLA.
  std::map<std::string, SlaTargets> targets_by_priority;
  std::set<std::string> paused_statuses;              // e.g. "pending_customer", "on_hold"
  absl::Duration warn_before = absl::ZeroDuration();  // 0: no warning
  // Business time after a breach at which level 1, 2, ... is reached;
  // positive and increasing.
  std::vector<absl::Duration> escalations;
};

// INVALID_ARGUMENT, naming the field, for a target that is not a positive
// finite duration, a negative or infinite warn_before, and escalations that
// are not positive, finite and increasing.
absl::Status ValidateSlaPolicy(const SlaPolicy& policy);

struct TicketEvent {
  enum class Kind {
    kStatus,           // value: the new status
    kPriority,         // value: the new priority
    kCustomerMessage,  // a message from the customer
    kAgentReply,       // a public reply by an agent
    kPolicy,           // value: the id of the policy applying from now on
  };
  absl::Time at;
  Kind kind = Kind::kStatus;
  std::string value;
};

// Statuses: "new", "open", "pending_customer", "pending_third_party",
// "on_hold", "solved", "closed" (any other counts as open unless paused).
struct TicketTimeline {
  absl::Time created_at;
  std::string status = "new";  // at creation
  std::string priority = "normal";
  std::string policy;  // the id of the policy at creation (several policies)
  std::vector<TicketEvent> events;
};

struct MetricState {
  SlaMetric metric = SlaMetric::kFirstReply;
  bool active = false;  // a cycle is open: its clock is running or paused
  bool paused = false;
  // Running only: the instant the target is reached (in the past once
  // breached) and where warn_before is left (none when warn_before is 0).
  std::optional<absl::Time> deadline;
  std::optional<absl::Time> warn_at;
  std::optional<absl::Time> fulfilled_at;  // the reported cycle's, when closed
  std::optional<absl::Time> breached_at;
  // Of the reported cycle: the level reached at now (or when fulfilled),
  // and when running, the instant the next one is.
  int escalation_level = 0;
  std::optional<absl::Time> next_escalation_at;
  absl::Duration elapsed;  // business time the reported cycle has used
  absl::Duration target;   // of the current priority
  // The reported cycle: where it started (creation, the customer message
  // or the reply opening it), its own breach (breached_at is the earliest
  // of any cycle's) and the instant each escalation level it reached was
  // (level k at escalated_at[k-1]). What a sweeper records notices by.
  absl::Time cycle_start;
  std::optional<absl::Time> cycle_breached_at;
  std::vector<absl::Time> escalated_at;
};

// One entry per metric the current priority has a target for, in SlaMetric
// order. One policy for the whole timeline: kPolicy events are ignored.
std::vector<MetricState> Evaluate(const SlaPolicy& policy, const TicketTimeline& timeline,
                                  absl::Time now);

// Under several policies (the desk's, chosen by conditions): the ticket is
// under the policy timeline.policy names from its creation, and under the
// one each kPolicy event names from that event on (an id `policies` does
// not have keeps the policy before; a creation policy it does not have is
// the first of `policies`, which must not be empty). Each stretch of time
// is counted on the calendar of the policy it was under and pauses in that
// policy's statuses, so the business time a cycle used before a switch is
// carried over; targets are those of the policy and priority of the
// moment, so a switch to a policy whose target the cycle has already used
// breaches at the switch, never before it (as a priority change does).
// Deadlines, warnings and escalations ahead follow the policy at `now`.
// Example: under A (24/7, first reply 4 h) from 08:00, switched at 10:00
// to B (09:00-17:00, first reply 3 h): 2 h used under A, the deadline is
// 11:00 under B's hours; had B's target been 1 h, breached at 10:00.
std::vector<MetricState> Evaluate(const std::vector<const SlaPolicy*>& policies,
                                  const TicketTimeline& timeline, absl::Time now);

// The earliest instant after `now` at which a state changes by itself (a
// warning, a deadline or the next escalation of a running metric); none
// when nothing is due (all fulfilled or paused).
std::optional<absl::Time> NextDue(const std::vector<MetricState>& states, absl::Time now);

}  // namespace crm::service_desk::domain
