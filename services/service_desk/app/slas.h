#pragma once
// SLAs on tickets (docs/service-desk.md, "SLA on tickets"): the tenant's
// policy (written whole under its etag) and a ticket's SLA, evaluated from
// its stored history by the SLA clock at the moment it is asked for.
#include <optional>
#include <string>
#include <vector>

#include "absl/functional/function_ref.h"
#include "libs/common/clock.h"
#include "services/service_desk/app/ports.h"

namespace crm::service_desk::app {

struct TicketSla {
  int64_t policy_version = 0;  // 0: no policy applies to the ticket (no metrics)
  std::string policy;          // the id of the one it is under ("default", ...); "": none
  std::vector<domain::MetricState> metrics;
  std::optional<absl::Time> next_due;
  absl::Time evaluated_at = absl::InfinitePast();
};

// The SLA step of a ticket write, in its transaction after its changes:
// the ticket's SLA evaluated at `now` under the tenant's policy, the
// notices now due told (events), its next instant stored
// (docs/service-desk.md, "SLA sweeper").
// Answers the stored instant (Ticket::sla_due).
absl::StatusOr<std::optional<absl::Time>> TrackSla(TicketTx& tx, const std::string& ticket_id,
                                                   absl::Time now);
// The same for a ticket its write creates, from what the write holds (its
// history is its first message): nothing to read back.
absl::StatusOr<std::optional<absl::Time>> TrackNewSla(TicketTx& tx, const domain::Ticket& ticket,
                                                      const domain::TicketMessage& first);

struct SweepRound {
  int evaluated = 0;     // tickets; 0: nothing was due
  int notices = 0;       // told
  absl::Status failure;  // the round's first
};

class Slas final {
 public:
  Slas(TicketRepository& repository, const common::Clock& clock)
      : repository_(repository), clock_(clock) {}

  // The default policy: NOT_FOUND SLA_POLICY_NOT_FOUND before its first
  // write. Its etag is the policies' (one version for both).
  absl::StatusOr<domain::SlaPolicySpec> GetPolicy(const std::string& tenant);
  // The whole default policy; if_match against the etag ("0" before the first).
  absl::StatusOr<domain::SlaPolicySpec> UpdatePolicy(const Actor& actor, domain::SlaPolicySpec spec,
                                                     const std::string& if_match);
  // The policies chosen by conditions (empty before the first write).
  absl::StatusOr<domain::SlaPolicies> GetPolicies(const std::string& tenant);
  // The whole ordered list; if_match against the etag.
  absl::StatusOr<domain::SlaPolicies> UpdatePolicies(
      const Actor& actor, std::vector<domain::ConditionalSlaPolicy> policies,
      const std::string& if_match);
  absl::StatusOr<TicketSla> ForTicket(const std::string& tenant, const std::string& ticket_id);
  // The report over the tickets created in q's range (INVALID_ARGUMENT for
  // a bad range or queue).
  absl::StatusOr<domain::SlaReport> Report(const std::string& tenant,
                                           const domain::SlaReportQuery& q);

  // One round of the sweeper: up to `batch` tickets whose instant has come
  // (every tenant, earliest first), then a page of `batch` of each
  // re-evaluation after a policy change (two tenants' a round). A ticket
  // whose evaluation fails is looked at again a minute later and holds
  // nothing else back.
  SweepRound Sweep(int batch);

 private:
  absl::Time Now() const;
  // A write of the policies (`change` of what is stored) under the etag,
  // a new version, its event, and every ticket's re-evaluation started.
  absl::StatusOr<domain::SlaPolicies> Write(const Actor& actor, const std::string& if_match,
                                            absl::FunctionRef<void(domain::SlaPolicies&)> change);
  absl::StatusOr<SlaSweep> SweepDue(const std::string& tenant, const std::vector<std::string>& ids,
                                    int batch, absl::Time now);
  // A page of a rebase: `ids` re-evaluated (those still under an older
  // version), then the pass moved to `move_to` ("" at its end: ended, or
  // from the start again); nothing when another replica holds the rebase.
  absl::StatusOr<SlaSweep> RebasePage(const SlaRebase& rebase, const std::vector<std::string>& ids,
                                      const std::optional<std::string>& move_to, absl::Time now);
  absl::StatusOr<SlaSweep> Rebase(const SlaRebase& rebase, int batch, absl::Time now);
  // The tickets' instants put a minute later after a failure (with
  // `version`: marked evaluated under it, so a rebase pass goes on).
  absl::Status Defer(const std::string& tenant, const std::vector<std::string>& ids, absl::Time now,
                     std::optional<int64_t> version);

  TicketRepository& repository_;
  const common::Clock& clock_;
};

}  // namespace crm::service_desk::app
