#include "services/customer_store/app/purchases.h"

#include "libs/common/errors.h"
#include "libs/common/id.h"
#include "libs/common/status_macros.h"

namespace crm::customer_store::app {

absl::Status PurchaseProjector::Apply(const domain::OrderFact& fact) {
  if (!common::IsUuid(fact.tenant_id) || !common::IsUuid(fact.order_id) ||
      !common::IsUuid(fact.customer_id) || fact.currency_code.size() != 3 ||
      fact.version <= 0 || fact.total_minor < 0) {
    return absl::InvalidArgumentError("order event without the fields a purchase needs");
  }
  CRM_ASSIGN_OR_RETURN(PurchaseRepository::Change change, repository_.RecordOrder(fact));
  if (change.changed) {
    cache_.Invalidate(fact.tenant_id, fact.customer_id);
    if (!change.view_owner.empty() && change.view_owner != fact.customer_id) {
      cache_.Invalidate(fact.tenant_id, change.view_owner);
    }
  }
  return absl::OkStatus();
}

}  // namespace crm::customer_store::app
