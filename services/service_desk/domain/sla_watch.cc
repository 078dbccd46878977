#include "services/service_desk/domain/sla_watch.h"

#include <algorithm>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace crm::service_desk::domain {
namespace {

// "<metric>/<cycle start micros>/": what every key of a cycle starts with
// after its kind.
std::string CyclePart(SlaMetric metric, absl::Time cycle_start) {
  return absl::StrCat(MetricName(metric), "/", absl::ToUnixMicros(cycle_start));
}

}  // namespace

const char* MetricName(SlaMetric metric) {
  switch (metric) {
    case SlaMetric::kFirstReply:
      return "first_reply";
    case SlaMetric::kNextReply:
      return "next_reply";
    case SlaMetric::kPeriodicUpdate:
      return "periodic_update";
    case SlaMetric::kResolution:
      return "resolution";
  }
  return "first_reply";
}

const char* NoticeKindName(SlaNotice::Kind kind) {
  switch (kind) {
    case SlaNotice::Kind::kWarning:
      return "warning";
    case SlaNotice::Kind::kBreach:
      return "breach";
    case SlaNotice::Kind::kEscalation:
      return "escalation";
  }
  return "breach";
}

const char* NoticeEventType(SlaNotice::Kind kind) {
  switch (kind) {
    case SlaNotice::Kind::kWarning:
      return "ticket.sla_warning";
    case SlaNotice::Kind::kBreach:
      return "ticket.sla_breached";
    case SlaNotice::Kind::kEscalation:
      return "ticket.sla_escalated";
  }
  return "ticket.sla_breached";
}

std::string NoticeKey(const SlaNotice& n) {
  std::string key = absl::StrCat(NoticeKindName(n.kind), "/", CyclePart(n.metric, n.cycle_start));
  if (n.kind == SlaNotice::Kind::kEscalation) absl::StrAppend(&key, "/", n.level);
  return key;
}

std::vector<SlaNotice> NoticesAt(const std::vector<MetricState>& states, absl::Time now) {
  std::vector<SlaNotice> out;
  for (const MetricState& s : states) {
    const bool breached = s.cycle_breached_at && *s.cycle_breached_at <= now;
    if (!breached && s.active && !s.paused && s.warn_at && *s.warn_at <= now) {
      out.push_back({SlaNotice::Kind::kWarning, s.metric, 0, s.cycle_start, *s.warn_at});
    }
    if (!breached) continue;
    out.push_back({SlaNotice::Kind::kBreach, s.metric, 0, s.cycle_start, *s.cycle_breached_at});
    for (size_t k = 0; k < s.escalated_at.size(); ++k) {
      if (s.escalated_at[k] > now) break;
      out.push_back({SlaNotice::Kind::kEscalation, s.metric, static_cast<int>(k + 1), s.cycle_start,
                     s.escalated_at[k]});
    }
  }
  return out;
}

SlaWatchStep Watch(const std::vector<MetricState>& states, absl::Time now,
                   const std::vector<std::string>& told, absl::Time since) {
  SlaWatchStep step;
  step.next_due = NextDue(states, now);
  // A metric's keys are kept while their cycle is the one reported, and
  // while the metric is not reported at all (a priority without its
  // target: the cycle may come back); the others are of cycles that ended
  // and were followed by another one, which cannot come back.
  const auto current = [&](const std::string& key) {
    const size_t slash = key.find('/');
    if (slash == std::string::npos) return false;
    const absl::string_view rest = absl::string_view(key).substr(slash + 1);
    bool reported = false;
    for (const MetricState& s : states) {
      const std::string metric = absl::StrCat(MetricName(s.metric), "/");
      if (!absl::StartsWith(rest, metric)) continue;
      reported = true;
      const std::string cycle = CyclePart(s.metric, s.cycle_start);
      if (absl::StartsWith(rest, cycle) &&
          (rest.size() == cycle.size() || rest[cycle.size()] == '/')) {
        return true;
      }
    }
    return !reported;
  };
  for (const std::string& key : told) {
    if (current(key)) step.told.push_back(key);
  }
  const auto ended_before_since = [&](SlaMetric metric) {
    for (const MetricState& s : states) {
      if (s.metric == metric) return !s.active && s.fulfilled_at && *s.fulfilled_at < since;
    }
    return false;
  };
  for (SlaNotice& n : NoticesAt(states, now)) {
    std::string key = NoticeKey(n);
    if (std::find(step.told.begin(), step.told.end(), key) != step.told.end()) continue;
    step.told.push_back(std::move(key));
    if (ended_before_since(n.metric)) continue;  // kept as told, not told
    n.at = std::max(n.at, std::min(since, now));
    step.fresh.push_back(n);
  }
  return step;
}

}  // namespace crm::service_desk::domain
