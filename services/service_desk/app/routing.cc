#include "services/service_desk/app/routing.h"

#include "libs/common/request_id.h"
#include "libs/common/status_macros.h"
#include "services/service_desk/app/documents.h"

namespace crm::service_desk::app {

absl::StatusOr<domain::RoutingRules> Routing::Get(const std::string& tenant) {
  return repository_.GetRoutingRules(tenant);
}

absl::StatusOr<domain::RoutingRules> Routing::Update(const Actor& actor, domain::RoutingRules rules,
                                                     const std::string& if_match) {
  CRM_RETURN_IF_ERROR(common::RequireRequestId(actor.idempotency_key));
  CRM_RETURN_IF_ERROR(domain::NormalizeAndValidate(rules));
  return WriteDocument(repository_, clock_, actor, rules, if_match, "routing rules",
                       "routing_rules", &TicketTx::LoadRoutingRules, &TicketTx::SaveRoutingRules);
}

}  // namespace crm::service_desk::app
