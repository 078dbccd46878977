#include "services/service_desk/domain/sla.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"

namespace crm::service_desk::domain {
namespace {

constexpr SlaMetric kMetrics[] = {SlaMetric::kFirstReply, SlaMetric::kNextReply,
                                  SlaMetric::kPeriodicUpdate, SlaMetric::kResolution};

bool Done(const std::string& status) { return status == "solved" || status == "closed"; }

std::optional<absl::Duration> TargetOf(const SlaTargets* targets, SlaMetric metric) {
  if (targets == nullptr) return std::nullopt;
  switch (metric) {
    case SlaMetric::kFirstReply:
      return targets->first_reply;
    case SlaMetric::kNextReply:
      return targets->next_reply;
    case SlaMetric::kPeriodicUpdate:
      return targets->periodic_update;
    case SlaMetric::kResolution:
      return targets->resolution;
  }
  return std::nullopt;
}

// The ticket from creation (segment 0) and after each known event (one
// segment each, starting at the event): its state and the business time
// the clocks have run so far. Every metric's clock runs on the same
// statuses, so the business time is counted once here and a cycle's
// elapsed time is a difference of `clock`s.
struct Segment {
  absl::Time start;
  absl::Duration clock;       // business time run from creation to `start`
  const TicketEvent* event;   // the event starting it; nullptr: the creation
  bool running;               // status neither paused nor solved/closed
  bool done;                  // status solved or closed
  const SlaTargets* targets;  // of the priority; nullptr: it has no SLA
  const SlaPolicy* policy;    // the policy it is under (its calendar counts it)
};

struct Ticket {
  absl::Time now;
  std::vector<Segment> segments;
  absl::Duration clock_now;  // business time run from creation to `now`

  // The clock where segment k ends (the last one: at `now`).
  absl::Duration ClockAtEnd(size_t k) const {
    return k + 1 < segments.size() ? segments[k + 1].clock : clock_now;
  }
};

// `policies`: not empty; with one, kPolicy events change nothing.
Ticket Build(const std::vector<const SlaPolicy*>& policies, const TicketTimeline& timeline,
             absl::Time now) {
  Ticket t{std::max(now, timeline.created_at), {}, absl::ZeroDuration()};
  const auto find = [&](const std::string& id, const SlaPolicy* otherwise) {
    for (const SlaPolicy* p : policies) {
      if (p->id == id) return p;
    }
    return otherwise;
  };
  const SlaPolicy* policy = policies.size() == 1 ? policies[0] : find(timeline.policy, policies[0]);
  std::vector<const TicketEvent*> order;
  order.reserve(timeline.events.size());
  for (const TicketEvent& e : timeline.events) order.push_back(&e);
  std::stable_sort(order.begin(), order.end(),
                   [](const TicketEvent* a, const TicketEvent* b) { return a->at < b->at; });

  const std::string* status = &timeline.status;
  const std::string* priority = &timeline.priority;
  const auto targets = [&] {
    const auto it = policy->targets_by_priority.find(*priority);
    return it == policy->targets_by_priority.end() ? nullptr : &it->second;
  };
  const auto running = [&] {
    return !Done(*status) && policy->paused_statuses.count(*status) == 0;
  };
  t.segments.reserve(order.size() + 1);
  t.segments.push_back({timeline.created_at, absl::ZeroDuration(), nullptr, running(),
                        Done(*status), targets(), policy});
  for (const TicketEvent* e : order) {
    if (e->at > t.now) break;
    const Segment& prev = t.segments.back();
    const absl::Time at = std::max(e->at, timeline.created_at);
    const absl::Duration clock =
        prev.clock +
        (prev.running ? prev.policy->calendar.Between(prev.start, at) : absl::ZeroDuration());
    if (e->kind == TicketEvent::Kind::kStatus) status = &e->value;
    if (e->kind == TicketEvent::Kind::kPriority) priority = &e->value;
    if (e->kind == TicketEvent::Kind::kPolicy && policies.size() > 1)
      policy = find(e->value, policy);
    t.segments.push_back({at, clock, e, running(), Done(*status), targets(), policy});
  }
  const Segment& last = t.segments.back();
  t.clock_now = last.clock + (last.running ? last.policy->calendar.Between(last.start, t.now)
                                           : absl::ZeroDuration());
  return t;
}

// The calendar of the policy at `now` (the last segment's).
const BusinessCalendar& CalendarNow(const Ticket& t) { return t.segments.back().policy->calendar; }

// One cycle of a metric: from the segment starting it to the one whose
// start fulfils it.
struct Cycle {
  size_t first;
  std::optional<size_t> end;  // none: open
};

bool Is(const Segment& s, TicketEvent::Kind kind) {
  return s.event != nullptr && s.event->kind == kind;
}

std::vector<Cycle> Cycles(SlaMetric metric, const std::vector<Segment>& segments) {
  constexpr TicketEvent::Kind kReply = TicketEvent::Kind::kAgentReply;
  std::vector<Cycle> out;
  switch (metric) {
    case SlaMetric::kFirstReply:
      out.push_back({0, std::nullopt});
      for (size_t k = 1; k < segments.size() && !out[0].end; ++k) {
        if (Is(segments[k], kReply)) out[0].end = k;
      }
      break;
    case SlaMetric::kNextReply: {
      bool replied = false;  // messages before the first reply are the first reply's
      for (size_t k = 1; k < segments.size(); ++k) {
        const bool open = !out.empty() && !out.back().end;
        if (Is(segments[k], kReply)) {
          if (open) out.back().end = k;
          replied = true;
        } else if (Is(segments[k], TicketEvent::Kind::kCustomerMessage) && replied && !open) {
          out.push_back({k, std::nullopt});
        }
      }
      break;
    }
    case SlaMetric::kPeriodicUpdate:
      out.push_back({0, std::nullopt});
      for (size_t k = 1; k < segments.size(); ++k) {
        if (!Is(segments[k], kReply)) continue;
        out.back().end = k;
        out.push_back({k, std::nullopt});
      }
      break;
    case SlaMetric::kResolution:
      // One cycle: solving fulfils it, reopening opens it again with the
      // business time it had (the clock does not run while solved).
      out.push_back({0, segments[0].done ? std::optional<size_t>(0) : std::nullopt});
      for (size_t k = 1; k < segments.size(); ++k) {
        if (segments[k].done && !segments[k - 1].done) out[0].end = k;
        if (!segments[k].done && segments[k - 1].done) out[0].end = std::nullopt;
      }
      break;
  }
  return out;
}

struct Breach {
  absl::Time at;
  absl::Duration elapsed;  // the cycle's business time at the breach
};

// Whether a segment after k starting at `at` fulfils the cycle: a reply (or
// a solve, for resolution) at the breach instant meets the target.
bool FulfilledAt(const Ticket& t, const Cycle& c, SlaMetric metric, size_t k, absl::Time at) {
  for (size_t j = k + 1; j < t.segments.size() && t.segments[j].start <= at; ++j) {
    if (j == c.end || (metric == SlaMetric::kResolution && t.segments[j].done)) return true;
  }
  return false;
}

// The first instant the cycle's elapsed time reaches the target of the
// priority at the time, unless the cycle was fulfilled by then.
std::optional<Breach> FindBreach(const Ticket& t, const Cycle& c, SlaMetric metric) {
  const size_t stop = c.end ? *c.end : t.segments.size();
  const absl::Duration base = t.segments[c.first].clock;
  for (size_t k = c.first; k < stop; ++k) {
    const Segment& s = t.segments[k];
    // Resolution is fulfilled while solved: a priority change then
    // reveals nothing until a reopen.
    if (metric == SlaMetric::kResolution && s.done) continue;
    const std::optional<absl::Duration> target = TargetOf(s.targets, metric);
    if (!target) continue;
    const absl::Duration used = s.clock - base;
    std::optional<Breach> breach;
    if (used >= *target) {
      // The target changed here (a priority change) to one already used
      // up: breached from this event on, never back-dated.
      breach = Breach{s.start, used};
    } else if (s.running && t.ClockAtEnd(k) - base >= *target) {
      breach = Breach{s.policy->calendar.Add(s.start, *target - used), *target};
    } else {
      continue;
    }
    // Met in time; resolution may still breach after a reopen.
    if (FulfilledAt(t, c, metric, k, breach->at)) continue;
    return breach;
  }
  return std::nullopt;
}

// The instant the open cycle starting at segment `first`, running at
// `now`, has used `business` (in the past when it already has).
absl::Time Reach(const Ticket& t, size_t first, absl::Duration business) {
  const absl::Duration base = t.segments[first].clock;
  const absl::Duration used = t.clock_now - base;
  if (used < business) return CalendarNow(t).Add(t.now, business - used);
  // The first segment by whose end `business` was used: it ran when it
  // started short of it, so the instant is inside it (otherwise it is the
  // cycle's first and `business` is 0: its start).
  size_t k = first;
  while (t.ClockAtEnd(k) - base < business) ++k;
  return t.segments[k].policy->calendar.Add(t.segments[k].start,
                                            business - (t.segments[k].clock - base));
}

MetricState Report(const Ticket& t, SlaMetric metric, absl::Duration target) {
  const SlaPolicy& policy = *t.segments.back().policy;  // warnings and escalations: now's
  MetricState state;
  state.metric = metric;
  state.target = target;
  const std::vector<Cycle> cycles = Cycles(metric, t.segments);
  if (cycles.empty()) return state;
  std::optional<Breach> breach;  // of the last cycle, the one reported
  for (const Cycle& c : cycles) {
    breach = FindBreach(t, c, metric);
    if (breach && !state.breached_at) state.breached_at = breach->at;
  }
  const Cycle& c = cycles.back();
  const absl::Duration base = t.segments[c.first].clock;
  state.cycle_start = t.segments[c.first].start;
  if (breach) state.cycle_breached_at = breach->at;
  const bool running = !c.end && t.segments.back().running;
  state.active = !c.end;
  state.paused = state.active && !running;
  state.elapsed = (c.end ? t.segments[*c.end].clock : t.clock_now) - base;
  if (c.end) state.fulfilled_at = t.segments[*c.end].start;
  if (running) {
    state.deadline = Reach(t, c.first, target);
    if (policy.warn_before > absl::ZeroDuration()) {
      state.warn_at =
          Reach(t, c.first, std::max(absl::ZeroDuration(), target - policy.warn_before));
    }
  }
  if (breach) {
    const std::vector<absl::Duration>& levels = policy.escalations;
    size_t level = 0;
    while (level < levels.size() && state.elapsed >= breach->elapsed + levels[level]) {
      // Reached inside the cycle (its clock counted that much by its end).
      state.escalated_at.push_back(
          std::max(breach->at, Reach(t, c.first, breach->elapsed + levels[level])));
      ++level;
    }
    state.escalation_level = static_cast<int>(level);
    if (running && level < levels.size()) {
      state.next_escalation_at =
          CalendarNow(t).Add(t.now, breach->elapsed + levels[level] - state.elapsed);
    }
  }
  return state;
}

absl::Status CheckPositive(const std::string& field, absl::Duration d) {
  if (d > absl::ZeroDuration() && d != absl::InfiniteDuration()) return absl::OkStatus();
  return absl::InvalidArgumentError(absl::StrCat(
      field, ": ", absl::FormatDuration(d), "; it must be a positive, finite business duration"));
}

}  // namespace

absl::Status ValidateSlaPolicy(const SlaPolicy& policy) {
  for (const auto& [priority, targets] : policy.targets_by_priority) {
    const std::string field = absl::StrCat("policy.targets_by_priority[\"", priority, "\"].");
    const std::pair<const char*, const std::optional<absl::Duration>*> named[] = {
        {"first_reply", &targets.first_reply},
        {"next_reply", &targets.next_reply},
        {"periodic_update", &targets.periodic_update},
        {"resolution", &targets.resolution}};
    for (const auto& [name, target] : named) {
      if (!target->has_value()) continue;
      if (absl::Status s = CheckPositive(field + name, **target); !s.ok()) return s;
    }
  }
  if (policy.warn_before < absl::ZeroDuration() || policy.warn_before == absl::InfiniteDuration()) {
    return absl::InvalidArgumentError(
        absl::StrCat("policy.warn_before: ", absl::FormatDuration(policy.warn_before),
                     "; it must be a finite business duration, 0 for no warning"));
  }
  for (size_t i = 0; i < policy.escalations.size(); ++i) {
    const std::string field = absl::StrCat("policy.escalations[", i, "]");
    if (absl::Status s = CheckPositive(field, policy.escalations[i]); !s.ok()) return s;
    if (i > 0 && policy.escalations[i] <= policy.escalations[i - 1]) {
      return absl::InvalidArgumentError(absl::StrCat(
          field, ": ", absl::FormatDuration(policy.escalations[i]), " is not after level ", i, " (",
          absl::FormatDuration(policy.escalations[i - 1]),
          "); levels are business time after the breach, increasing"));
    }
  }
  return absl::OkStatus();
}

std::vector<MetricState> Evaluate(const SlaPolicy& policy, const TicketTimeline& timeline,
                                  absl::Time now) {
  return Evaluate(std::vector<const SlaPolicy*>{&policy}, timeline, now);
}

std::vector<MetricState> Evaluate(const std::vector<const SlaPolicy*>& policies,
                                  const TicketTimeline& timeline, absl::Time now) {
  if (policies.empty()) return {};
  const Ticket t = Build(policies, timeline, now);
  std::vector<MetricState> out;
  const SlaTargets* targets = t.segments.back().targets;
  for (const SlaMetric metric : kMetrics) {
    if (const std::optional<absl::Duration> target = TargetOf(targets, metric)) {
      out.push_back(Report(t, metric, *target));
    }
  }
  return out;
}

std::optional<absl::Time> NextDue(const std::vector<MetricState>& states, absl::Time now) {
  std::optional<absl::Time> next;
  for (const MetricState& s : states) {
    if (!s.active || s.paused) continue;
    for (const std::optional<absl::Time>& at : {s.warn_at, s.deadline, s.next_escalation_at}) {
      if (at && *at > now && (!next || *at < *next)) next = at;
    }
  }
  return next;
}

}  // namespace crm::service_desk::domain
