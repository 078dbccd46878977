#include "services/service_desk/app/slas.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "libs/common/errors.h"
#include "libs/common/etag.h"
#include "libs/common/id.h"
#include "libs/common/request_id.h"
#include "libs/common/status_macros.h"

namespace crm::service_desk::app {
namespace {

absl::Status NoPolicy() {
  return common::NotFound("SLA_POLICY_NOT_FOUND",
                          "the tenant has no SLA policy yet; write one with PUT /v1/slaPolicy");
}

}  // namespace

absl::Time Slas::Now() const { return absl::FromUnixMicros(absl::ToUnixMicros(clock_.Now())); }

absl::StatusOr<domain::SlaPolicySpec> Slas::GetPolicy(const std::string& tenant) {
  CRM_ASSIGN_OR_RETURN(std::optional<domain::SlaPolicySpec> spec, repository_.GetSlaPolicy(tenant));
  if (!spec) return NoPolicy();
  return *std::move(spec);
}

absl::StatusOr<domain::SlaPolicySpec> Slas::UpdatePolicy(const Actor& actor,
                                                         domain::SlaPolicySpec spec,
                                                         const std::string& if_match) {
  CRM_RETURN_IF_ERROR(common::RequireRequestId(actor.idempotency_key));
  CRM_RETURN_IF_ERROR(domain::CompileSlaPolicy(spec).status());
  const absl::Time now = Now();
  return repository_.Run<domain::SlaPolicySpec>(
      actor, "sla_policy", [&](TicketTx& tx) -> absl::StatusOr<domain::SlaPolicySpec> {
        CRM_ASSIGN_OR_RETURN(std::optional<domain::SlaPolicySpec> current, tx.LoadSlaPolicy());
        const int64_t version = current ? current->version : 0;
        CRM_RETURN_IF_ERROR(common::CheckEtag("SLA policy", absl::StrCat(version), if_match));
        domain::SlaPolicySpec out = spec;
        out.version = version + 1;
        out.update_time = now;
        tx.SaveSlaPolicy(out);
        tx.EmitSlaPolicy(out);
        return out;
      });
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
  CRM_ASSIGN_OR_RETURN(std::optional<domain::SlaPolicySpec> spec, repository_.GetSlaPolicy(tenant));
  if (!spec) return out;
  // A stored policy was checked when written: a failure here is data loss.
  absl::StatusOr<domain::SlaPolicy> policy = domain::CompileSlaPolicy(*spec);
  if (!policy.ok()) return absl::DataLossError("the stored SLA policy does not compile");
  out.policy_version = spec->version;
  out.metrics = domain::Evaluate(*policy, domain::SlaTimelineOf(in.ticket, in.changes, in.messages),
                                 out.evaluated_at);
  out.next_due = domain::NextDue(out.metrics, out.evaluated_at);
  return out;
}

}  // namespace crm::service_desk::app
