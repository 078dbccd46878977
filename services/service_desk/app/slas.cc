#include "services/service_desk/app/slas.h"

#include <algorithm>
#include <map>
#include <utility>

#include "absl/strings/str_cat.h"
#include "libs/common/errors.h"
#include "libs/common/etag.h"
#include "libs/common/id.h"
#include "libs/common/request_id.h"
#include "libs/common/status_macros.h"
#include "services/service_desk/app/triggers.h"

namespace crm::service_desk::app {
namespace {

constexpr absl::Duration kRetryAfter = absl::Minutes(1);
// Due tickets read per round for each `batch` taken: replicas reading the
// same earliest ones each lock a different `batch` of them.
constexpr int kCandidatesPerBatch = 4;
// Tenants' re-evaluations advanced a page each per round (at random, so
// every tenant's advances), after the due tickets: due notices come first.
constexpr int kRebasesPerRound = 2;

// The sweeper writes as itself, without an idempotency key: a batch runs
// again only when its tickets are due again.
Actor SweeperActor(const std::string& tenant) {
  return Actor{tenant, "sla-sweeper", "", "SweepSla", "", ""};
}

// Tells a step's fresh notices and keeps its told keys.
void Tell(TicketTx& tx, SlaRecord& r, domain::SlaWatchStep& step, absl::Time at, SlaSweep& out) {
  for (const domain::SlaNotice& n : step.fresh) {
    tx.EmitSlaNotice(r.inputs.ticket, n, r.policy_version, at);
  }
  out.notices += static_cast<int>(step.fresh.size());
  r.told = std::move(step.told);
}

// What evaluates: a ticket's creation, another write of it, the sweeper.
enum class Step { kCreation, kWrite, kSweep };

// The actor of the audit rows that record a ticket's move to another SLA
// policy (its fields changed, or the policies did).
constexpr char kSlaActor[] = "sla";

// The policies compiled; a stored configuration was checked when written,
// so a failure here is data loss.
absl::StatusOr<domain::SlaPolicyBook> BookOf(const domain::SlaPolicies& p) {
  absl::StatusOr<domain::SlaPolicyBook> book = domain::SlaPolicyBook::Compile(p);
  if (!book.ok()) return absl::DataLossError("the stored SLA policies do not compile");
  return book;
}

// The record's ticket under the policy its fields choose now: a move is
// an audit row (field sla_policy, actor "sla") at `at`, and a kPolicy
// event of its timeline from then. A new ticket's first policy is its
// creation policy (no row: the record keeps it).
void Choose(TicketTx& tx, const domain::SlaPolicyBook& book, SlaRecord& r, absl::Time at,
            bool creation) {
  std::string id = book.Match(r.inputs.ticket);
  if (id == r.inputs.policy) return;
  if (!creation) {
    domain::TicketChange c{0, "sla_policy", r.inputs.policy, id, kSlaActor, at};
    tx.AppendChanges(r.inputs.ticket.id, {c});
    r.inputs.changes.push_back(std::move(c));
  }
  r.inputs.policy = std::move(id);
}

domain::TriggerEvent EventOf(const domain::SlaNotice& n) {
  switch (n.kind) {
    case domain::SlaNotice::Kind::kWarning:
      return domain::TriggerEvent::kSlaWarning;
    case domain::SlaNotice::Kind::kEscalation:
      return domain::TriggerEvent::kSlaEscalation;
    case domain::SlaNotice::Kind::kBreach:
      break;
  }
  return domain::TriggerEvent::kSlaBreach;
}

// Escalation actions: the triggers of the SLA events the sweeper told, run
// on each ticket in the sweep's write (its row is locked there). A ticket
// they change is saved as an update by its triggers (audit, notes,
// events) and due again at once, so the next round evaluates its SLA with
// the new fields (a priority raised: other targets).
absl::Status Escalate(TicketTx& tx, std::vector<SlaRecord>& records,
                      const std::map<std::string, std::vector<domain::TriggerEvent>>& events,
                      absl::Time now) {
  CRM_ASSIGN_OR_RETURN(domain::Triggers triggers, tx.ReadTriggers());
  if (triggers.triggers.empty()) return absl::OkStatus();
  common::RandomIdGenerator ids;
  for (SlaRecord& r : records) {
    const auto e = events.find(r.inputs.ticket.id);
    if (e == events.end()) continue;
    const domain::Ticket& before = r.inputs.ticket;
    const absl::Time at = std::max(now, before.update_time);
    domain::Ticket t = before;
    t.update_time = at;
    CRM_ASSIGN_OR_RETURN(TriggerEffects fx,
                         RunTriggersInWrite(triggers, e->second, &before, t, at, ids));
    if (!WriteTriggerEffects(tx, before, t, fx)) continue;
    r.next_due = at;
  }
  return absl::OkStatus();
}

// The records evaluated at `now` (never before a ticket's last write)
// under the tenant's policies, each under the one its fields choose: the
// fresh notices told, the next instants and the told keys saved. A ticket
// under no policy has nothing due. In a ticket write, what was due just
// before the write's own events is told first: a reply a moment after a
// deadline the sweeper has not reached yet still tells the breach, which
// the reply's new cycle would hide.
absl::StatusOr<SlaSweep> Reevaluate(TicketTx& tx, std::vector<SlaRecord>& records, absl::Time now,
                                    Step step_kind) {
  SlaSweep out;
  std::map<std::string, std::vector<domain::TriggerEvent>> events;  // of the sweep's notices
  CRM_ASSIGN_OR_RETURN(domain::SlaPolicies policies, tx.ShareSlaPolicies());
  CRM_ASSIGN_OR_RETURN(domain::SlaPolicyBook book, BookOf(policies));
  for (SlaRecord& r : records) {
    const bool tracked = r.policy_version >= 0;
    r.policy_version = policies.version;
    const absl::Time at = std::max(now, r.inputs.ticket.update_time);
    if (step_kind == Step::kWrite && tracked && !r.inputs.policy.empty() && !book.empty() &&
        at > r.inputs.ticket.create_time) {
      // Told under the policy it was under until this write.
      const absl::Time before = at - absl::Microseconds(1);
      const domain::TicketTimeline timeline = domain::SlaTimelineOf(
          r.inputs.ticket, r.inputs.changes, r.inputs.messages, r.inputs.policy);
      domain::SlaWatchStep step = domain::Watch(domain::Evaluate(book.all(), timeline, before),
                                                before, r.told, policies.update_time);
      Tell(tx, r, step, at, out);
    }
    const bool was_under_none = r.inputs.policy.empty();
    Choose(tx, book, r, at, step_kind == Step::kCreation);
    if (r.inputs.policy.empty()) {
      r.next_due.reset();
      continue;
    }
    // Nothing is told as having happened before the policies applied to the
    // ticket: their write, or now for a ticket tracked for the first time
    // or coming under a policy from none.
    const absl::Time since = tracked && !was_under_none ? policies.update_time : at;
    const domain::TicketTimeline timeline = domain::SlaTimelineOf(
        r.inputs.ticket, r.inputs.changes, r.inputs.messages, r.inputs.policy);
    domain::SlaWatchStep step =
        domain::Watch(domain::Evaluate(book.all(), timeline, at), at, r.told, since);
    if (step_kind == Step::kSweep) {
      for (const domain::SlaNotice& n : step.fresh)
        events[r.inputs.ticket.id].push_back(EventOf(n));
    }
    Tell(tx, r, step, at, out);
    r.next_due = step.next_due;
  }
  if (!events.empty()) CRM_RETURN_IF_ERROR(Escalate(tx, records, events, now));
  tx.SaveSlas(records, now);
  out.records = static_cast<int>(records.size());
  return out;
}

absl::Status NoPolicy() {
  return common::NotFound("SLA_POLICY_NOT_FOUND",
                          "the tenant has no SLA policy yet; write one with PUT /v1/slaPolicy");
}

// The default policy as its own resource: the configuration's etag.
absl::StatusOr<domain::SlaPolicySpec> DefaultOf(const domain::SlaPolicies& p) {
  if (!p.fallback) return NoPolicy();
  domain::SlaPolicySpec out = *p.fallback;
  out.version = p.version;
  out.update_time = p.update_time;
  return out;
}

}  // namespace

absl::Time Slas::Now() const { return absl::FromUnixMicros(absl::ToUnixMicros(clock_.Now())); }

absl::StatusOr<domain::SlaPolicySpec> Slas::GetPolicy(const std::string& tenant) {
  CRM_ASSIGN_OR_RETURN(domain::SlaPolicies p, repository_.GetSlaPolicies(tenant));
  return DefaultOf(p);
}

absl::StatusOr<domain::SlaPolicies> Slas::GetPolicies(const std::string& tenant) {
  return repository_.GetSlaPolicies(tenant);
}

absl::StatusOr<domain::SlaPolicies> Slas::Write(
    const Actor& actor, const std::string& if_match,
    absl::FunctionRef<void(domain::SlaPolicies&)> change) {
  CRM_RETURN_IF_ERROR(common::RequireRequestId(actor.idempotency_key));
  const absl::Time now = Now();
  return repository_.Run<domain::SlaPolicies>(
      actor, "sla_policy", [&](TicketTx& tx) -> absl::StatusOr<domain::SlaPolicies> {
        CRM_ASSIGN_OR_RETURN(domain::SlaPolicies p, tx.LoadSlaPolicies());
        CRM_RETURN_IF_ERROR(common::CheckEtag("SLA policy", absl::StrCat(p.version), if_match));
        change(p);
        p.version += 1;
        p.update_time = now;
        tx.SaveSlaPolicies(p);
        tx.EmitSlaPolicies(p);
        tx.StartSlaRebase(p.version);
        return p;
      });
}

absl::StatusOr<domain::SlaPolicySpec> Slas::UpdatePolicy(const Actor& actor,
                                                         domain::SlaPolicySpec spec,
                                                         const std::string& if_match) {
  CRM_RETURN_IF_ERROR(domain::CompileSlaPolicy(spec).status());
  CRM_ASSIGN_OR_RETURN(domain::SlaPolicies p, Write(actor, if_match, [&](domain::SlaPolicies& all) {
                         all.fallback = spec;
                       }));
  return DefaultOf(p);
}

absl::StatusOr<domain::SlaPolicies> Slas::UpdatePolicies(
    const Actor& actor, std::vector<domain::ConditionalSlaPolicy> policies,
    const std::string& if_match) {
  CRM_RETURN_IF_ERROR(domain::NormalizeAndValidate(policies));
  return Write(actor, if_match, [&](domain::SlaPolicies& all) { all.conditional = policies; });
}

absl::StatusOr<TicketSla> Slas::ForTicket(const std::string& tenant, const std::string& ticket_id) {
  if (!common::IsUuid(ticket_id)) {
    return common::InvalidField("ticket_id", "ticket_id must be a UUID");
  }
  TicketSla out;
  CRM_ASSIGN_OR_RETURN(SlaInputs in, repository_.GetSlaInputs(tenant, ticket_id));
  // After the read, and never before the ticket's last write: every event
  // read is known at the instant of the evaluation.
  out.evaluated_at = std::max(Now(), in.ticket.update_time);
  CRM_ASSIGN_OR_RETURN(domain::SlaPolicies policies, repository_.GetSlaPolicies(tenant));
  CRM_ASSIGN_OR_RETURN(domain::SlaPolicyBook book, BookOf(policies));
  // The policy its fields choose now: the one the next write or the
  // re-evaluation of a policy change records.
  out.policy = book.Match(in.ticket);
  if (out.policy.empty()) return out;
  out.policy_version = policies.version;
  if (out.policy != in.policy) {
    in.changes.push_back({0, "sla_policy", in.policy, out.policy, kSlaActor, out.evaluated_at});
  }
  out.metrics = domain::Evaluate(
      book.all(), domain::SlaTimelineOf(in.ticket, in.changes, in.messages, out.policy),
      out.evaluated_at);
  out.next_due = domain::NextDue(out.metrics, out.evaluated_at);
  return out;
}

absl::StatusOr<domain::SlaReport> Slas::Report(const std::string& tenant,
                                               const domain::SlaReportQuery& q) {
  CRM_RETURN_IF_ERROR(domain::CheckReportQuery(q));
  return repository_.SlaReportOf(tenant, q);
}

absl::StatusOr<std::optional<absl::Time>> TrackSla(TicketTx& tx, const std::string& ticket_id,
                                                   absl::Time now) {
  CRM_ASSIGN_OR_RETURN(std::vector<SlaRecord> records, tx.LockSlas({ticket_id}, false));
  CRM_RETURN_IF_ERROR(Reevaluate(tx, records, now, Step::kWrite).status());
  if (records.empty()) return std::optional<absl::Time>();
  return records.front().next_due;
}

absl::StatusOr<std::optional<absl::Time>> TrackNewSla(TicketTx& tx, const domain::Ticket& ticket,
                                                      const domain::TicketMessage& first) {
  std::vector<SlaRecord> records(1);
  records[0].inputs.ticket = ticket;
  records[0].inputs.messages = {first};
  CRM_RETURN_IF_ERROR(Reevaluate(tx, records, ticket.update_time, Step::kCreation).status());
  return records.front().next_due;
}

SweepRound Slas::Sweep(int batch) {
  const absl::Time now = Now();
  SweepRound round;
  const auto count = [&](const absl::StatusOr<SlaSweep>& s) {
    if (s.ok()) {
      round.evaluated += s->records;
      round.notices += s->notices;
    } else if (round.failure.ok()) {
      round.failure = s.status();
    }
    return s.ok();
  };
  absl::StatusOr<std::vector<SlaDue>> due = repository_.DueSlas(now, batch * kCandidatesPerBatch);
  if (!due.ok()) round.failure = due.status();
  std::map<std::string, std::vector<std::string>> by_tenant;
  for (SlaDue& d : due.value_or(std::vector<SlaDue>())) {
    by_tenant[d.tenant].push_back(std::move(d.ticket_id));
  }
  for (const auto& [tenant, ids] : by_tenant) {
    if (count(SweepDue(tenant, ids, batch, now))) continue;
    // One ticket that cannot be evaluated must not hold the others back:
    // ticket by ticket, a failing one looked at again a minute later.
    for (const std::string& id : ids) {
      if (!count(SweepDue(tenant, {id}, 1, now))) {
        Defer(tenant, {id}, now, std::nullopt).IgnoreError();
      }
    }
  }
  absl::StatusOr<std::vector<SlaRebase>> rebases = repository_.SlaRebases(kRebasesPerRound);
  if (!rebases.ok() && round.failure.ok()) round.failure = rebases.status();
  for (const SlaRebase& rebase : rebases.value_or(std::vector<SlaRebase>())) {
    count(Rebase(rebase, batch, now));
  }
  return round;
}

absl::StatusOr<SlaSweep> Slas::SweepDue(const std::string& tenant,
                                        const std::vector<std::string>& ids, int batch,
                                        absl::Time now) {
  return repository_.Run<SlaSweep>(
      SweeperActor(tenant), "sla", [&](TicketTx& tx) -> absl::StatusOr<SlaSweep> {
        // A ticket being written is left to its write (which evaluates
        // it), one another replica holds to that replica.
        CRM_ASSIGN_OR_RETURN(std::vector<SlaRecord> records, tx.LockSlas(ids, true, batch));
        // Still due: a write or a replica may have moved the instant since the read.
        records.erase(
            std::remove_if(records.begin(), records.end(),
                           [&](const SlaRecord& r) { return !r.next_due || *r.next_due > now; }),
            records.end());
        if (records.empty()) return SlaSweep{};
        return Reevaluate(tx, records, now, Step::kSweep);
      });
}

absl::StatusOr<SlaSweep> Slas::RebasePage(const SlaRebase& rebase,
                                          const std::vector<std::string>& ids,
                                          const std::optional<std::string>& move_to,
                                          absl::Time now) {
  return repository_.Run<SlaSweep>(
      SweeperActor(rebase.tenant), "sla", [&](TicketTx& tx) -> absl::StatusOr<SlaSweep> {
        CRM_ASSIGN_OR_RETURN(bool mine,
                             tx.ClaimSlaRebase(rebase.policy_version, rebase.after_ticket_id));
        if (!mine) return SlaSweep{};  // another replica's, or moved on
        SlaSweep out;
        if (!ids.empty()) {
          // Waits for the writes holding them: they read the policy before.
          CRM_ASSIGN_OR_RETURN(std::vector<SlaRecord> records, tx.LockSlas(ids, false));
          records.erase(std::remove_if(records.begin(), records.end(),
                                       [&](const SlaRecord& r) {
                                         return r.policy_version >= rebase.policy_version;
                                       }),
                        records.end());
          CRM_ASSIGN_OR_RETURN(out, Reevaluate(tx, records, now, Step::kSweep));
        }
        if (!move_to) return out;
        if (!move_to->empty()) {
          tx.MoveSlaRebase(rebase.policy_version, *move_to);
        } else if (rebase.after_ticket_id.empty()) {
          tx.EndSlaRebase(rebase.policy_version);  // a whole pass found nothing
        } else {
          // Once more from the start: a ticket another replica skipped, or
          // one a replica of the previous version wrote, is found then.
          tx.MoveSlaRebase(rebase.policy_version, "");
        }
        return out;
      });
}

absl::StatusOr<SlaSweep> Slas::Rebase(const SlaRebase& rebase, int batch, absl::Time now) {
  CRM_ASSIGN_OR_RETURN(
      std::vector<std::string> ids,
      repository_.StaleSlas(rebase.tenant, rebase.policy_version, rebase.after_ticket_id, batch));
  const std::string move_to = ids.empty() ? "" : ids.back();
  absl::StatusOr<SlaSweep> page = RebasePage(rebase, ids, move_to, now);
  if (page.ok() || ids.empty()) return page;
  // One ticket that cannot be evaluated must not stop the pass: ticket by
  // ticket; a failing one is marked evaluated under this version and looked
  // at again a minute later by the due sweep.
  SlaSweep out;
  for (const std::string& id : ids) {
    absl::StatusOr<SlaSweep> one = RebasePage(rebase, {id}, std::nullopt, now);
    if (one.ok()) {
      out.records += one->records;
      out.notices += one->notices;
    } else {
      Defer(rebase.tenant, {id}, now, rebase.policy_version).IgnoreError();
    }
  }
  CRM_RETURN_IF_ERROR(RebasePage(rebase, {}, move_to, now).status());
  return page.status();  // the page's failure is the round's to report
}

absl::Status Slas::Defer(const std::string& tenant, const std::vector<std::string>& ids,
                         absl::Time now, std::optional<int64_t> version) {
  return repository_
      .Run<SlaSweep>(SweeperActor(tenant), "sla",
                     [&](TicketTx& tx) -> absl::StatusOr<SlaSweep> {
                       CRM_ASSIGN_OR_RETURN(std::vector<SlaRecord> records, tx.LockSlas(ids, true));
                       std::vector<SlaRecord> deferred;
                       for (SlaRecord& r : records) {
                         // Only an instant still due (a write may have moved it).
                         if (!version && (!r.next_due || *r.next_due > now)) continue;
                         if (version) r.policy_version = *version;
                         r.next_due = now + kRetryAfter;
                         deferred.push_back(std::move(r));
                       }
                       tx.SaveSlas(deferred, now);
                       return SlaSweep{static_cast<int>(deferred.size()), 0};
                     })
      .status();
}

}  // namespace crm::service_desk::app
