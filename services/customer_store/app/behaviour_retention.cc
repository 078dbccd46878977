#include "services/customer_store/app/behaviour_retention.h"

#include <algorithm>

#include "libs/common/etag.h"
#include "libs/common/status_macros.h"

namespace crm::customer_store::app {

absl::StatusOr<domain::BehaviourSettings> BehaviourRetention::Settings(const std::string& tenant) {
  return store_.BehaviourSettingsOf(tenant);
}

absl::StatusOr<domain::BehaviourSettings> BehaviourRetention::UpdateSettings(
    const Actor& actor, int64_t retention_days, const std::string& if_match) {
  CRM_RETURN_IF_ERROR(domain::ValidateRetentionDays(retention_days));
  const absl::Time now = clock_.Now();
  return writes_.Run<domain::BehaviourSettings>(
      actor, "behaviour-settings",
      [&](BehaviourTx& tx) -> absl::StatusOr<domain::BehaviourSettings> {
        domain::BehaviourSettings s = tx.LoadSettings();
        CRM_RETURN_IF_ERROR(common::CheckEtag("behaviour settings", domain::EtagOf(s), if_match));
        if (!domain::ApplyRetention(s, retention_days, now)) return s;
        tx.SaveSettings(s);
        tx.EmitSettings(s);
        return s;
      });
}

absl::StatusOr<RetentionRound> BehaviourRetention::PurgeOnce() {
  const absl::Time now = clock_.Now();
  RetentionRound round;
  CRM_ASSIGN_OR_RETURN(auto tenants, store_.TenantsWithRetention());
  round.tenants = static_cast<int>(tenants.size());
  // Each tenant gets its share of the round's batches (at least one), so a
  // tenant with a large backlog does not hold the others back.
  const int share =
      tenants.empty() ? 0 : std::max(1, limits_.max_batches / static_cast<int>(tenants.size()));
  for (const auto& [tenant, settings] : tenants) {
    const absl::Time cutoff = domain::RetentionCutoff(settings, now);
    if (cutoff == absl::InfinitePast()) continue;
    for (int batch = 0;; ++batch) {
      if (batch == share) {
        round.complete = false;
        break;
      }
      CRM_ASSIGN_OR_RETURN(int64_t n,
                           store_.DeleteBehaviourBefore(tenant, cutoff, limits_.batch_size));
      round.deleted += n;
      if (n < limits_.batch_size) break;
    }
  }
  // No event older than kMaxEventAge is accepted any more, so a month that
  // ended before then and is empty stays empty.
  CRM_ASSIGN_OR_RETURN(round.partitions_dropped,
                       store_.DropEmptyBehaviourPartitions(now - domain::kMaxEventAge));
  return round;
}

}  // namespace crm::customer_store::app
