// crm-sla-bench: how fast the SLA engine is on this machine
// (docs/service-desk.md, "SLA").
//
//   crm-sla-bench [--tickets N] [--samples N] [--json]
//
// A typical policy: Europe/Berlin, Mon-Fri 09:00-12:00 and 13:00-17:00,
// 12 holidays (Berlin's of 2026, Christmas and New Year's Eve), four
// priorities with all four metrics, two paused statuses, a warning and two
// escalation levels. Random tickets of 2026: created at any hour, 0-6
// events (customer messages, agent replies, status and priority changes) a
// few hours apart, evaluated up to two days after the last one.
//   1. deadline: Evaluate of one ticket, timed alone, over --samples tickets
//      (default 200000): p50, p99 and max in microseconds; and one
//      calendar Add alone (a target of 1h to 3 weeks of business time from
//      any instant of 2026);
//   2. sweep: Evaluate and NextDue of --tickets pre-generated tickets
//      (default 1000000), as a sweeper re-indexing every open ticket:
//      total seconds, and the same scaled to 1M tickets.
// Plain "name value" lines, or one JSON object with --json. Exit 2 on bad
// flags.
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "services/service_desk/domain/business_calendar.h"
#include "services/service_desk/domain/sla.h"

namespace sd = crm::service_desk::domain;

namespace {

int Die(const std::string& why) {
  std::cerr << "crm-sla-bench: " << why << "\n"
            << "usage: crm-sla-bench [--tickets N] [--samples N] [--json]\n";
  return 2;
}

sd::SlaPolicy TypicalPolicy() {
  sd::BusinessCalendarSpec spec;
  spec.time_zone = "Europe/Berlin";
  for (int d = 0; d < 5; ++d) spec.week[d] = {{9 * 60, 12 * 60}, {13 * 60, 17 * 60}};
  // Berlin's public holidays of 2026, Christmas and New Year's Eve.
  constexpr int kHolidays[][2] = {{1, 1},  {3, 8},  {4, 3},   {4, 6},   {5, 1},   {5, 14},
                                  {5, 25}, {10, 3}, {12, 24}, {12, 25}, {12, 26}, {12, 31}};
  for (const auto& [month, day] : kHolidays) {
    spec.holidays.push_back(absl::CivilDay(2026, month, day));
  }
  absl::StatusOr<sd::BusinessCalendar> calendar = sd::BusinessCalendar::Create(spec);
  if (!calendar.ok()) {
    std::cerr << "crm-sla-bench: " << calendar.status() << "\n";
    std::exit(1);
  }
  sd::SlaPolicy p;
  p.id = "typical";
  p.calendar = *std::move(calendar);
  const auto h = [](int hours) { return absl::Hours(hours); };
  p.targets_by_priority["low"] = {h(16), h(24), h(40), h(80)};
  p.targets_by_priority["normal"] = {h(4), h(8), h(16), h(40)};
  p.targets_by_priority["high"] = {h(2), h(4), h(8), h(24)};
  p.targets_by_priority["urgent"] = {h(1), h(2), h(4), h(8)};
  p.paused_statuses = {"pending_customer", "on_hold"};
  p.warn_before = absl::Minutes(30);
  p.escalations = {h(1), h(4)};
  return p;
}

struct Sample {
  sd::TicketTimeline ticket;
  absl::Time now;
};

Sample RandomTicket(std::mt19937& rng) {
  static const char* const kPriorities[] = {"low", "normal", "normal", "high", "urgent"};
  static const char* const kStatuses[] = {"open", "pending_customer", "open", "on_hold", "solved"};
  const auto uniform = [&](int64_t lo, int64_t hi) {
    return std::uniform_int_distribution<int64_t>(lo, hi)(rng);
  };
  Sample s;
  const absl::Time year =
      absl::FromCivil(absl::CivilSecond(2026, 1, 1, 0, 0, 0), absl::UTCTimeZone());
  s.ticket.created_at = year + absl::Seconds(uniform(0, 364 * 86400));
  s.ticket.priority = kPriorities[uniform(0, 4)];
  absl::Time at = s.ticket.created_at;
  const int64_t events = uniform(0, 6);
  for (int64_t i = 0; i < events; ++i) {
    at += absl::Seconds(uniform(60, 8 * 3600));
    sd::TicketEvent e;
    e.at = at;
    switch (uniform(0, 5)) {
      case 0:
      case 1:
        e.kind = sd::TicketEvent::Kind::kCustomerMessage;
        break;
      case 2:
      case 3:
        e.kind = sd::TicketEvent::Kind::kAgentReply;
        break;
      case 4:
        e.kind = sd::TicketEvent::Kind::kStatus;
        e.value = kStatuses[uniform(0, 4)];
        break;
      default:
        e.kind = sd::TicketEvent::Kind::kPriority;
        e.value = kPriorities[uniform(0, 4)];
        break;
    }
    s.ticket.events.push_back(std::move(e));
  }
  s.now = at + absl::Seconds(uniform(0, 48 * 3600));
  return s;
}

double Quantile(const std::vector<double>& sorted, double q) {
  return sorted[static_cast<size_t>(q * static_cast<double>(sorted.size() - 1))];
}

// Counts as integers, measures with 4 significant digits.
std::string Format(double v) {
  char buf[32];
  if (v == static_cast<double>(static_cast<int64_t>(v))) {
    std::snprintf(buf, sizeof(buf), "%lld", static_cast<long long>(v));
  } else {
    std::snprintf(buf, sizeof(buf), "%.4g", v);
  }
  return buf;
}

bool ParseCount(const char* text, int64_t& out) {
  char* end = nullptr;
  const long long v = std::strtoll(text, &end, 10);
  if (end == text || *end != '\0' || v <= 0) return false;
  out = v;
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  int64_t tickets = 1000000;
  int64_t samples = 200000;
  bool json = false;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--json") {
      json = true;
    } else if ((arg == "--tickets" || arg == "--samples") && i + 1 < argc) {
      if (!ParseCount(argv[++i], arg == "--tickets" ? tickets : samples)) {
        return Die(arg + " needs a positive count");
      }
    } else {
      return Die("unknown argument " + arg);
    }
  }
  const sd::SlaPolicy policy = TypicalPolicy();
  std::mt19937 rng(20260101);
  using Clock = std::chrono::steady_clock;

  // 1. One ticket's evaluation, timed alone.
  std::vector<double> micros;
  micros.reserve(static_cast<size_t>(samples));
  size_t states = 0;
  for (int64_t i = 0; i < samples; ++i) {
    const Sample s = RandomTicket(rng);
    const auto start = Clock::now();
    const std::vector<sd::MetricState> result = sd::Evaluate(policy, s.ticket, s.now);
    const auto stop = Clock::now();
    states += result.size();
    micros.push_back(std::chrono::duration<double, std::micro>(stop - start).count());
  }
  std::sort(micros.begin(), micros.end());

  std::vector<double> add_micros;
  add_micros.reserve(static_cast<size_t>(samples));
  int64_t reached = 0;  // keeps the calls from being optimized away
  for (int64_t i = 0; i < samples; ++i) {
    const Sample s = RandomTicket(rng);
    const absl::Duration target =
        absl::Minutes(std::uniform_int_distribution<int64_t>(60, 120 * 60)(rng));
    const auto start = Clock::now();
    const absl::Time deadline = policy.calendar.Add(s.ticket.created_at, target);
    const auto stop = Clock::now();
    reached += deadline > s.ticket.created_at ? 1 : 0;
    add_micros.push_back(std::chrono::duration<double, std::micro>(stop - start).count());
  }
  std::sort(add_micros.begin(), add_micros.end());

  // 2. The sweep over pre-generated tickets.
  std::vector<Sample> pending;
  pending.reserve(static_cast<size_t>(tickets));
  for (int64_t i = 0; i < tickets; ++i) pending.push_back(RandomTicket(rng));
  int64_t due = 0;
  int64_t breached = 0;
  const auto sweep_start = Clock::now();
  for (const Sample& s : pending) {
    const std::vector<sd::MetricState> result = sd::Evaluate(policy, s.ticket, s.now);
    if (sd::NextDue(result, s.now)) ++due;
    for (const sd::MetricState& m : result) breached += m.breached_at ? 1 : 0;
  }
  const double sweep_seconds = std::chrono::duration<double>(Clock::now() - sweep_start).count();

  const std::vector<std::pair<std::string, double>> figures = {
      {"deadline_samples", static_cast<double>(samples)},
      {"deadline_p50_us", Quantile(micros, 0.5)},
      {"deadline_p99_us", Quantile(micros, 0.99)},
      {"deadline_max_us", micros.back()},
      {"metrics_per_ticket", static_cast<double>(states) / static_cast<double>(samples)},
      {"add_p50_us", Quantile(add_micros, 0.5)},
      {"add_p99_us", Quantile(add_micros, 0.99)},
      {"add_reached", static_cast<double>(reached)},
      {"sweep_tickets", static_cast<double>(tickets)},
      {"sweep_seconds", sweep_seconds},
      {"sweep_1m_seconds", sweep_seconds * 1e6 / static_cast<double>(tickets)},
      {"sweep_due_tickets", static_cast<double>(due)},
      {"sweep_breached_metrics", static_cast<double>(breached)}};
  if (json) std::printf("{");
  for (size_t i = 0; i < figures.size(); ++i) {
    const auto& [name, value] = figures[i];
    if (json) {
      std::printf("%s\"%s\": %s", i == 0 ? "" : ", ", name.c_str(), Format(value).c_str());
    } else {
      std::printf("%s %s\n", name.c_str(), Format(value).c_str());
    }
  }
  if (json) std::printf("}\n");
  return 0;
}
