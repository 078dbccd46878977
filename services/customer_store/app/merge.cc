#include "services/customer_store/app/merge.h"

#include "absl/strings/str_cat.h"
#include "libs/common/errors.h"
#include "libs/common/id.h"
#include "libs/common/status_macros.h"
#include "services/customer_store/domain/merge_rules.h"
#include "services/customer_store/domain/rules.h"

namespace crm::customer_store::app {

absl::StatusOr<MergeOutcome> CustomerMerger::Merge(const Actor& actor,
                                                   const std::string& survivor_id,
                                                   const std::string& source_id) {
  if (!common::IsUuid(survivor_id)) {
    return common::InvalidField("customer_id", "customer_id must be a UUID");
  }
  if (!common::IsUuid(source_id)) {
    return common::InvalidField("source_customer_id", "source_customer_id must be a UUID");
  }
  if (survivor_id == source_id) {
    return common::InvalidField("source_customer_id", "a customer cannot be merged into itself");
  }
  absl::Time now = clock_.Now();
  auto out = repository_.Merge(
      actor, survivor_id, source_id,
      [&](const domain::Customer& survivor, const domain::Customer& source,
          const std::vector<domain::Consent>& survivor_current,
          const std::vector<domain::Consent>& source_current) -> absl::StatusOr<MergeDecision> {
        domain::MergePlan plan = domain::PlanMerge(survivor, source);
        CRM_RETURN_IF_ERROR(domain::NormalizeAndValidate(plan.merged));
        plan.merged.update_time = now;
        return MergeDecision{std::move(plan.merged), std::move(plan.filled_paths),
                             domain::ResolveConsents(survivor_current, source_current, now,
                                                     absl::StrCat("merge:", source_id))};
      });
  if (out.ok()) {
    cache_.Invalidate(actor.tenant_id, survivor_id);
    cache_.Invalidate(actor.tenant_id, source_id);
  }
  return out;
}

absl::StatusOr<UnmergeOutcome> CustomerMerger::Unmerge(const Actor& actor,
                                                       const std::string& survivor_id,
                                                       const std::string& merge_id) {
  if (!common::IsUuid(survivor_id)) {
    return common::InvalidField("customer_id", "customer_id must be a UUID");
  }
  if (!common::IsUuid(merge_id)) return common::InvalidField("merge_id", "merge_id must be a UUID");
  auto out = repository_.Unmerge(
      actor, survivor_id, merge_id, [](const domain::Customer& now, const MergeRecord& rec) {
        return domain::UndoMergeProfile(now, rec.survivor_before, rec.survivor_after,
                                        rec.filled_paths);
      });
  if (out.ok()) {
    cache_.Invalidate(actor.tenant_id, survivor_id);
    cache_.Invalidate(actor.tenant_id, out->restored.id);
  }
  return out;
}

}  // namespace crm::customer_store::app
