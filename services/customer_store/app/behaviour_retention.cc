#include "services/customer_store/app/behaviour_retention.h"

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
  std::vector<std::pair<std::string, absl::Time>> cutoffs;
  for (const auto& [tenant, settings] : tenants) {
    const absl::Time cutoff = domain::RetentionCutoff(settings, now);
    if (cutoff != absl::InfinitePast()) cutoffs.emplace_back(tenant, cutoff);
  }
  CRM_ASSIGN_OR_RETURN(
      common::TenantPurgeRound purged,
      purger_.Round(cutoffs, [&](const std::string& tenant, absl::Time cutoff, int64_t from) {
        return store_.DeleteBehaviourBefore(tenant, cutoff, from, limits_.window_blocks);
      }));
  static_cast<common::TenantPurgeRound&>(round) = purged;
  // No event older than kMaxEventAge is accepted any more, so a month that
  // ended before then and is empty stays empty.
  CRM_ASSIGN_OR_RETURN(round.partitions_dropped,
                       store_.DropEmptyBehaviourPartitions(now - domain::kMaxEventAge));
  return round;
}

}  // namespace crm::customer_store::app
