#pragma once
// What the desk tells of a ticket's SLA as time passes (docs/service-desk.md,
// "SLA sweeper"): a warning when a running cycle passes its warning
// instant, a breach, and each escalation level, each told once per cycle
// of a metric. The desk stores, per ticket, the keys of the notices it has
// told and the next instant something becomes due; Watch() is the step
// run on every ticket write and by the sweeper when that instant comes.
// Pure.
#include <optional>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "services/service_desk/domain/sla.h"

namespace crm::service_desk::domain {

struct SlaNotice {
  enum class Kind { kWarning, kBreach, kEscalation };
  Kind kind = Kind::kBreach;
  SlaMetric metric = SlaMetric::kFirstReply;
  int level = 0;           // escalation: 1, 2, ...
  absl::Time cycle_start;  // of the metric's cycle it is about
  // The instant it happened: the warning instant, the breach (never
  // back-dated: sla.h), the escalation level's.
  absl::Time at;
};

const char* MetricName(SlaMetric metric);          // "first_reply", ...
const char* NoticeKindName(SlaNotice::Kind kind);  // "warning", "breach", "escalation"
// "ticket.sla_warning", "ticket.sla_breached", "ticket.sla_escalated".
const char* NoticeEventType(SlaNotice::Kind kind);

// "breach/first_reply/<cycle start, unix micros>", ".../escalation/<level>".
std::string NoticeKey(const SlaNotice& n);

// The notices the states hold at `now`, in metric order: a warning for a
// running cycle past its warning instant and not breached; a breach of the
// reported cycle; each escalation level it reached.
std::vector<SlaNotice> NoticesAt(const std::vector<MetricState>& states, absl::Time now);

struct SlaWatchStep {
  std::vector<SlaNotice> fresh;        // due and not told yet: tell them now
  std::vector<std::string> told;       // keys to keep: those of the current cycles
  std::optional<absl::Time> next_due;  // NextDue(states, now)
};

// One step: `told` are the keys stored before. Keys of cycles no longer
// reported (a next reply answered and a new one opened) are dropped, so
// what is stored stays a handful per ticket.
//
// `since`: when the policy the states were evaluated under began to apply
// to the ticket (its write, or for a ticket the desk tracks for the first
// time, now). Nothing is told as having happened before it: a notice of a
// cycle fulfilled before `since` is kept as told without being told (a
// stricter policy does not breach replies that met the old one), and one
// of a cycle still open is told at `since` (revealed by the change, like a
// priority raise: never back-dated).
SlaWatchStep Watch(const std::vector<MetricState>& states, absl::Time now,
                   const std::vector<std::string>& told, absl::Time since = absl::InfinitePast());

}  // namespace crm::service_desk::domain
