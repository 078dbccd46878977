#include "services/service_desk/app/routing.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "libs/common/errors.h"
#include "libs/common/etag.h"
#include "libs/common/request_id.h"
#include "libs/common/status_macros.h"

namespace crm::service_desk::app {

absl::StatusOr<domain::RoutingRules> Routing::Get(const std::string& tenant) {
  return repository_.GetRoutingRules(tenant);
}

absl::StatusOr<domain::RoutingRules> Routing::Update(const Actor& actor, domain::RoutingRules rules,
                                                     const std::string& if_match) {
  CRM_RETURN_IF_ERROR(common::RequireRequestId(actor.idempotency_key));
  CRM_RETURN_IF_ERROR(domain::NormalizeAndValidate(rules));
  return repository_.Run<domain::RoutingRules>(
      actor, "routing_rules", [&](TicketTx& tx) -> absl::StatusOr<domain::RoutingRules> {
        CRM_ASSIGN_OR_RETURN(domain::RoutingRules current, tx.LoadRoutingRules());
        CRM_RETURN_IF_ERROR(
            common::CheckEtag("routing rules", absl::StrCat(current.version), if_match));
        domain::RoutingRules next = rules;
        next.version = current.version + 1;
        next.update_time =
            std::max(absl::FromUnixMicros(absl::ToUnixMicros(clock_.Now())), current.update_time);
        tx.SaveRoutingRules(next);
        return next;
      });
}

}  // namespace crm::service_desk::app
