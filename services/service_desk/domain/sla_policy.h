#pragma once
// The tenant's SLA policy as it is written and stored (docs/service-desk.md,
// "SLA on tickets"), its check, and the SLA timeline of a stored ticket: the
// bridge between tickets (ticket.h) and the SLA clock (sla.h).
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "services/service_desk/domain/business_calendar.h"
#include "services/service_desk/domain/routing.h"
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

// Several policies (docs/service-desk.md, "Several SLA policies"): the
// tenant's default policy (PUT /v1/slaPolicy) and an ordered list of
// policies chosen by conditions on the ticket (PUT /v1/slaPolicies). A
// ticket is under the first of the list whose conditions all hold, else
// under the default, else under none (no SLA). One version (the etag) for
// both: a change of either re-evaluates every ticket.
struct ConditionalSlaPolicy {
  std::string id;                            // 1..64 of a-z 0-9 _ -; unique; not "default"
  std::string name;                          // 1..100 characters
  std::vector<RoutingCondition> conditions;  // all must hold; none: every ticket
  SlaPolicySpec policy;                      // its version and update_time are not used
};

inline constexpr char kDefaultSlaPolicyId[] = "default";
inline constexpr size_t kMaxSlaPolicies = 20;

struct SlaPolicies {
  std::optional<SlaPolicySpec> fallback;  // the default policy; none written: nullopt
  std::vector<ConditionalSlaPolicy> conditional;
  int64_t version = 0;  // the etag of both; 0 = nothing written yet
  absl::Time update_time = absl::InfinitePast();
};

// Checks the list (INVALID_ARGUMENT naming the field: "policies[1].id",
// "policies[0].conditions[2].field", "policies[3].policy.hours"): at most
// kMaxSlaPolicies, ids shaped and unique, names, conditions on what a
// ticket keeps (ConditionScope::kSla), each policy compiling.
absl::Status NormalizeAndValidate(std::vector<ConditionalSlaPolicy>& policies);

// The tenant's policies compiled: which one a ticket is under, and all of
// them for the clock (the default first: a stretch under a policy that no
// longer exists is counted under it, else under the first of the list).
class SlaPolicyBook {
 public:
  // A stored configuration was checked when written: failing here is
  // data loss (the caller says so).
  static absl::StatusOr<SlaPolicyBook> Compile(const SlaPolicies& p);
  SlaPolicyBook(SlaPolicyBook&&) = default;  // keeps the pointers: vectors move their storage
  SlaPolicyBook& operator=(SlaPolicyBook&&) = default;
  SlaPolicyBook(const SlaPolicyBook&) = delete;
  SlaPolicyBook& operator=(const SlaPolicyBook&) = delete;

  bool empty() const { return policies_.empty(); }
  // The id of the policy the ticket is under now; "" for none.
  std::string Match(const Ticket& t) const;
  const std::vector<const SlaPolicy*>& all() const { return all_; }

 private:
  SlaPolicyBook() = default;
  std::vector<SlaPolicy> policies_;                               // the list's, then the default
  std::vector<const std::vector<RoutingCondition>*> conditions_;  // null: the default
  std::vector<const SlaPolicy*> all_;
  std::vector<ConditionalSlaPolicy> list_;  // owns the conditions
};

// The ticket's SLA timeline from what the desk stores: the status and
// priority it was created with (the old value of each field's first
// change, else the current one), every status and priority change, the
// customer's messages and the agents' public replies (internal notes do
// not count; the requester's first message is the ticket's creation); and
// the policies it was under: each "sla_policy" change a kPolicy event, the
// creation policy the first change's old value (one that was none: the
// first policy it got), else `policy` (the one it is under now).
TicketTimeline SlaTimelineOf(const Ticket& ticket, const std::vector<TicketChange>& changes,
                             const std::vector<TicketMessage>& messages,
                             const std::string& policy = kDefaultSlaPolicyId);

}  // namespace crm::service_desk::domain
