#include "services/service_desk/app/ticket_context.h"

#include <utility>

#include "libs/common/status_macros.h"

namespace crm::service_desk::app {

common::SectionStatus ContextPartStatus(const absl::Status& s) {
  if (s.code() != absl::StatusCode::kNotFound) return common::SectionStatusOf(s, "customer-store");
  common::SectionStatus out;
  out.code = absl::StatusCode::kNotFound;
  out.reason = "CUSTOMER_NOT_FOUND";
  out.message =
      "customer-store no longer has the ticket's customer (erased, or merged into another)";
  out.retryable = false;
  return out;
}

absl::StatusOr<TicketContext> TicketContexts::Read(const std::string& tenant,
                                                   const std::string& ticket_id) {
  CRM_ASSIGN_OR_RETURN(domain::Ticket t, tickets_.Get(tenant, ticket_id));
  CustomerContext::Parts parts = customers_.Read(tenant, domain::VisitSubjectOf(t), t.customer_id);
  return TicketContext{std::move(t), std::move(parts)};
}

}  // namespace crm::service_desk::app
