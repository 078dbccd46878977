#include "services/customer_store/app/purchases.h"

#include <map>
#include <string>

#include "libs/common/errors.h"
#include "libs/common/id.h"
#include "libs/common/status_macros.h"

namespace crm::customer_store::app {

namespace {
absl::Status CheckFact(const domain::OrderFact& fact) {
  if (!common::IsUuid(fact.tenant_id) || !common::IsUuid(fact.order_id) ||
      !common::IsUuid(fact.customer_id) || fact.currency_code.size() != 3 ||
      fact.version <= 0 || fact.total_minor < 0) {
    return absl::InvalidArgumentError("order event without the fields a purchase needs");
  }
  return absl::OkStatus();
}
}  // namespace

void PurchaseProjector::Invalidate(const domain::OrderFact& fact,
                                   const PurchaseRepository::Change& change) {
  if (!change.changed) return;
  cache_.Invalidate(fact.tenant_id, fact.customer_id);
  if (!change.view_owner.empty() && change.view_owner != fact.customer_id) {
    cache_.Invalidate(fact.tenant_id, change.view_owner);
  }
}

absl::Status PurchaseProjector::Apply(const domain::OrderFact& fact) {
  CRM_RETURN_IF_ERROR(CheckFact(fact));
  CRM_ASSIGN_OR_RETURN(PurchaseRepository::Change change, repository_.RecordOrder(fact));
  Invalidate(fact, change);
  return absl::OkStatus();
}

std::vector<absl::Status> PurchaseProjector::ApplyBatch(
    const std::vector<domain::OrderFact>& facts) {
  std::vector<absl::Status> out(facts.size());
  // Valid facts by tenant, in their order (positions in `facts`).
  std::map<std::string, std::vector<size_t>> by_tenant;
  for (size_t i = 0; i < facts.size(); ++i) {
    out[i] = CheckFact(facts[i]);
    if (out[i].ok()) by_tenant[facts[i].tenant_id].push_back(i);
  }
  for (const auto& [tenant, positions] : by_tenant) {
    if (positions.size() > 1) {
      std::vector<domain::OrderFact> group;
      group.reserve(positions.size());
      for (size_t i : positions) group.push_back(facts[i]);
      absl::StatusOr<std::vector<PurchaseRepository::Change>> changes =
          repository_.RecordOrders(group);
      if (changes.ok() && changes->size() == group.size()) {
        for (size_t j = 0; j < group.size(); ++j) Invalidate(group[j], (*changes)[j]);
        continue;
      }
    }
    // One fact, or the batch's transaction failed (and was rolled back
    // whole): each fact in a transaction of its own, so only a fact that
    // fails on its own is retried.
    for (size_t i : positions) out[i] = Apply(facts[i]);
  }
  return out;
}

}  // namespace crm::customer_store::app
