#pragma once
// The SLA report (docs/service-desk.md, "SLA report"): over the tickets
// created in a range (and a queue), how many were under an SLA policy,
// first replies and resolutions met and breached (% met), and the
// percentiles of the time to the first reply and to resolution. Pure: the
// definitions, the range's checks, and the report of a list of ticket
// outcomes (the storage computes the same in SQL).
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"

namespace crm::service_desk::domain {

struct SlaReportQuery {
  absl::Time from;    // created at or after
  absl::Time to;      // and before
  std::string queue;  // "" for every queue
};
inline constexpr absl::Duration kMaxReportRange = absl::Hours(24 * 366);
// INVALID_ARGUMENT naming start_time / end_time / queue: from before to,
// at most kMaxReportRange apart, a queue of at most 64 characters.
absl::Status CheckReportQuery(const SlaReportQuery& q);

// One ticket's facts. A metric is breached when its breach was told
// (ticket.sla_breached: the key breach/<metric>/... among the ticket's
// told notices), met when done (replied; solved) under a policy and not
// breached.
struct TicketOutcome {
  absl::Time created;
  bool under_sla = false;                 // a policy applies to it now
  std::optional<absl::Time> first_reply;  // the first public reply
  std::optional<absl::Time> solved;       // the last move to solved
  bool first_reply_breached = false;
  bool resolution_breached = false;
};

struct MetricReport {
  int64_t done = 0;      // replied / solved (every ticket of the range)
  int64_t met = 0;       // under a policy, done, not breached
  int64_t breached = 0;  // under a policy, a breach told (done or not)
  // met / (met + breached), in percent; none when both are 0.
  std::optional<double> met_percent;
  // Wall-clock time from creation to done, nearest rank; none when none done.
  std::optional<absl::Duration> p50;
  std::optional<absl::Duration> p90;
};

struct SlaReport {
  int64_t tickets = 0;
  int64_t under_sla = 0;
  MetricReport first_reply;
  MetricReport resolution;
};

// The nearest-rank percentile p (0 < p <= 1) of `values` (sorted here):
// the smallest value at least a fraction p of them are at or below.
std::optional<absl::Duration> NearestRank(std::vector<absl::Duration> values, double p);
// met / (met + breached) in percent, none when both are 0.
std::optional<double> MetPercent(int64_t met, int64_t breached);

SlaReport ReportOf(const std::vector<TicketOutcome>& tickets);

}  // namespace crm::service_desk::domain
