#pragma once
// The tenant's SLA policy as it is written and stored (docs/service-desk.md,
// "SLA on tickets"), its check, and the SLA timeline of a stored ticket: the
// bridge between tickets (ticket.h) and the SLA clock (sla.h).
#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "services/service_desk/domain/business_calendar.h"
#include "services/service_desk/domain/sla.h"
#include "services/service_desk/domain/ticket.h"

namespace crm::service_desk::domain {

struct SlaPolicySpec {
  BusinessCalendarSpec hours;
  std::map<std::string, SlaTargets> targets_by_priority;  // "low", "normal", "high", "urgent"
  std::set<std::string> paused_statuses;                  // ticket status names
  absl::Duration warn_before = absl::ZeroDuration();
  std::vector<absl::Duration> escalations;
  int64_t version = 0;  // the etag; 0 = none written yet
  absl::Time update_time = absl::InfinitePast();
};

// The policy the clock runs on: INVALID_ARGUMENT naming the field
// ("policy.hours", "policy.targets_by_priority", "policy.paused_statuses",
// "policy") for an unknown zone or bad intervals, an unknown priority, a
// status that is not a ticket status or one that already stops the clock
// (solved, closed), targets that are not positive, more than 10
// escalation levels or ones not increasing.
absl::StatusOr<SlaPolicy> CompileSlaPolicy(const SlaPolicySpec& spec);

// The ticket's SLA timeline from what the desk stores: the status and
// priority it was created with (the old value of each field's first
// change, else the current one), every status and priority change, the
// customer's messages and the agents' public replies (internal notes do
// not count; the requester's first message is the ticket's creation).
TicketTimeline SlaTimelineOf(const Ticket& ticket, const std::vector<TicketChange>& changes,
                             const std::vector<TicketMessage>& messages);

}  // namespace crm::service_desk::domain
