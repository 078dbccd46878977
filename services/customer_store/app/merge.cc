#include "services/customer_store/app/merge.h"

#include <algorithm>

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
  auto out = repository_.Run<MergeOutcome>(
      actor, survivor_id, [&](CustomerTx& tx) -> absl::StatusOr<MergeOutcome> {
        // Both rows locked in id order, so concurrent merges cannot deadlock.
        const std::string& first = std::min(survivor_id, source_id);
        const std::string& second = std::max(survivor_id, source_id);
        CRM_ASSIGN_OR_RETURN(domain::Customer a, tx.LoadCustomer(first));
        CRM_ASSIGN_OR_RETURN(domain::Customer b, tx.LoadCustomer(second));
        const domain::Customer& survivor = first == survivor_id ? a : b;
        const domain::Customer& source = first == survivor_id ? b : a;
        CRM_ASSIGN_OR_RETURN(std::vector<domain::Consent> survivor_history,
                             tx.ConsentHistory(survivor_id));
        CRM_ASSIGN_OR_RETURN(std::vector<domain::Consent> source_history,
                             tx.ConsentHistory(source_id));
        domain::MergePlan plan = domain::PlanMerge(survivor, source);
        CRM_RETURN_IF_ERROR(domain::NormalizeAndValidate(plan.merged));
        plan.merged.update_time = now;
        plan.merged.version = survivor.version + 1;
        std::vector<domain::Consent> resolutions = domain::ResolveConsents(
            domain::CurrentConsents(survivor_history), domain::CurrentConsents(source_history), now,
            absl::StrCat("merge:", source_id));
        MergeMoves moves = tx.MoveToSurvivor(survivor_id, source_id, resolutions);
        tx.SaveProfile(plan.merged, false);
        tx.DeleteMergedSource(source_id);
        MergeRecord record;
        record.survivor_id = survivor_id;
        record.source_id = source_id;
        record.source_snapshot = source;
        record.survivor_before = survivor;
        record.survivor_after = plan.merged;
        record.filled_paths = plan.filled_paths;
        MergeOutcome m;
        m.merge_id = tx.AppendMerge(record, moves);
        tx.EmitMerged(survivor_id, source_id, m.merge_id);
        // The survivor's profile is a new version (fields filled from the source).
        tx.EmitCustomer("customer.updated", plan.merged);
        CRM_ASSIGN_OR_RETURN(m.survivor, tx.ReadCustomer(survivor_id));
        m.identities_moved = static_cast<int64_t>(domain::IdentitiesOf(source).size());
        m.interactions_moved = static_cast<int64_t>(moves.interactions.size());
        m.consents_moved = static_cast<int64_t>(moves.consents.size());
        m.resolutions = std::move(resolutions);
        // As stored (microseconds), so the first answer and a replay agree.
        for (auto& c : m.resolutions) {
          c.record_time = absl::FromUnixMicros(absl::ToUnixMicros(c.record_time));
        }
        return m;
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
  absl::Time now = clock_.Now();
  auto out = repository_.Run<UnmergeOutcome>(
      actor, survivor_id, [&](CustomerTx& tx) -> absl::StatusOr<UnmergeOutcome> {
        CRM_ASSIGN_OR_RETURN(LoggedMerge merge, tx.LoadMerge(survivor_id, merge_id));
        if (merge.undone) {
          return common::WithReason(absl::FailedPreconditionError("this merge was already undone"),
                                    "NOT_MERGED");
        }
        const MergeRecord& rec = merge.record;
        CRM_ASSIGN_OR_RETURN(domain::Customer survivor, tx.LoadCustomer(survivor_id));
        domain::Customer restored = rec.source_snapshot;
        restored.version = rec.source_snapshot.version + 1;
        restored.update_time = now;
        tx.SaveProfile(restored, true);
        tx.MoveBack(merge);
        // Identities now reflect the moves; the profile goes back where
        // untouched since the merge.
        CRM_ASSIGN_OR_RETURN(domain::Customer survivor_now, tx.ReadCustomer(survivor_id));
        domain::Customer undone = domain::UndoMergeProfile(survivor_now, rec.survivor_before,
                                                           rec.survivor_after, rec.filled_paths);
        undone.version = survivor.version + 1;
        undone.update_time = now;
        tx.SaveProfile(undone, false);
        tx.MarkUnmerged(merge_id);
        tx.EmitUnmerged(survivor_id, restored.id, merge_id);
        // Both profiles are new versions: the restored one, the survivor's undone.
        tx.EmitCustomer("customer.updated", restored);
        tx.EmitCustomer("customer.updated", undone);
        UnmergeOutcome u;
        CRM_ASSIGN_OR_RETURN(u.survivor, tx.ReadCustomer(survivor_id));
        CRM_ASSIGN_OR_RETURN(u.restored, tx.ReadCustomer(restored.id));
        return u;
      });
  if (out.ok()) {
    cache_.Invalidate(actor.tenant_id, survivor_id);
    cache_.Invalidate(actor.tenant_id, out->restored.id);
  }
  return out;
}

}  // namespace crm::customer_store::app
