#include "services/service_desk/domain/sla_report.h"

#include <algorithm>
#include <cmath>

#include "absl/strings/str_cat.h"
#include "libs/common/errors.h"
#include "libs/common/text.h"
#include "services/service_desk/domain/ticket.h"

namespace crm::service_desk::domain {

absl::Status CheckReportQuery(const SlaReportQuery& q) {
  if (q.from == absl::InfinitePast() || q.to == absl::InfinitePast()) {
    return common::InvalidField(q.from == absl::InfinitePast() ? "start_time" : "end_time",
                                "start_time and end_time are required (RFC 3339 instants)");
  }
  if (q.from >= q.to) {
    return common::InvalidField("end_time", "end_time must be after start_time");
  }
  if (q.to - q.from > kMaxReportRange) {
    return common::InvalidField("end_time", "a report covers at most 366 days");
  }
  if (absl::Status s = common::CheckStorableText("queue", q.queue); !s.ok()) return s;
  if (CharCount(q.queue) > 64) {
    return common::InvalidField("queue", "queue is at most 64 characters");
  }
  return absl::OkStatus();
}

std::optional<absl::Duration> NearestRank(std::vector<absl::Duration> values, double p) {
  if (values.empty()) return std::nullopt;
  std::sort(values.begin(), values.end());
  const double rank = std::ceil(p * static_cast<double>(values.size()));
  const size_t at = rank < 1 ? 0 : static_cast<size_t>(rank) - 1;
  return values[std::min(at, values.size() - 1)];
}

std::optional<double> MetPercent(int64_t met, int64_t breached) {
  if (met + breached == 0) return std::nullopt;
  return 100.0 * static_cast<double>(met) / static_cast<double>(met + breached);
}

SlaReport ReportOf(const std::vector<TicketOutcome>& tickets) {
  SlaReport out;
  std::vector<absl::Duration> to_reply, to_solve;
  const auto count = [](MetricReport& m, bool under, const std::optional<absl::Time>& done,
                        bool breached, absl::Time created, std::vector<absl::Duration>& times) {
    if (done) {
      ++m.done;
      times.push_back(*done - created);
    }
    if (under && breached) ++m.breached;
    if (under && done && !breached) ++m.met;
  };
  for (const TicketOutcome& t : tickets) {
    ++out.tickets;
    if (t.under_sla) ++out.under_sla;
    count(out.first_reply, t.under_sla, t.first_reply, t.first_reply_breached, t.created, to_reply);
    count(out.resolution, t.under_sla, t.solved, t.resolution_breached, t.created, to_solve);
  }
  for (auto [m, times] :
       {std::pair{&out.first_reply, &to_reply}, std::pair{&out.resolution, &to_solve}}) {
    m->met_percent = MetPercent(m->met, m->breached);
    m->p50 = NearestRank(*times, 0.5);
    m->p90 = NearestRank(*times, 0.9);
  }
  return out;
}

}  // namespace crm::service_desk::domain
