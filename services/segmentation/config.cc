#include "services/segmentation/config.h"

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "libs/common/errors.h"
#include "libs/common/status_macros.h"

namespace crm::segmentation {

absl::StatusOr<RefitScheduleConfig> LoadRefitScheduleConfig() {
  RefitScheduleConfig c;
  CRM_ASSIGN_OR_RETURN(c.refit_after, common::EnvDuration("CRM_CLV_REFIT_AFTER", c.refit_after));
  CRM_ASSIGN_OR_RETURN(c.check_every, common::EnvDuration("CRM_CLV_REFIT_CHECK", c.check_every));
  if (c.refit_after < absl::ZeroDuration()) {
    return absl::InvalidArgumentError("CRM_CLV_REFIT_AFTER must be >= 0 (0 turns it off)");
  }
  CRM_ASSIGN_OR_RETURN(c.on_demand_wait,
                       common::EnvDuration("CRM_CLV_REFIT_WAIT", c.on_demand_wait));
  if (c.on_demand_wait < absl::ZeroDuration() || c.on_demand_wait > absl::Minutes(10)) {
    return absl::InvalidArgumentError("CRM_CLV_REFIT_WAIT must be between 0 and 10m");
  }
  if (c.check_every < absl::Seconds(1)) {
    return absl::InvalidArgumentError("CRM_CLV_REFIT_CHECK must be at least 1s");
  }
  return c;
}

void RefitScheduleConfig::DumpTo(common::ConfigDump& dump) const {
  dump.Add("clv_refit_after", refit_after)
      .Add("clv_refit_check", check_every)
      .Add("clv_refit_wait", on_demand_wait);
}

absl::StatusOr<LiveSegmentsConfig> LoadLiveSegmentsConfig() {
  LiveSegmentsConfig c;
  CRM_ASSIGN_OR_RETURN(c.tick, common::EnvDuration("CRM_SEGMENT_TICK", c.tick));
  CRM_ASSIGN_OR_RETURN(c.refresh_every,
                       common::EnvDuration("CRM_SEGMENT_REFRESH", c.refresh_every));
  CRM_ASSIGN_OR_RETURN(c.behaviour_purge_every, common::EnvDuration("CRM_BEHAVIOUR_RETENTION_CHECK",
                                                                    c.behaviour_purge_every));
  if (c.tick < absl::Milliseconds(10) || c.tick > absl::Minutes(1)) {
    return absl::InvalidArgumentError("CRM_SEGMENT_TICK must be between 10ms and 1m");
  }
  if (c.refresh_every < absl::Minutes(1)) {
    return absl::InvalidArgumentError("CRM_SEGMENT_REFRESH must be at least 1m");
  }
  return c;
}

void LiveSegmentsConfig::DumpTo(common::ConfigDump& dump) const {
  dump.Add("segment_tick", tick)
      .Add("segment_refresh", refresh_every)
      .Add("behaviour_retention_check", behaviour_purge_every);
}

absl::StatusOr<ReplicaConfig> LoadReplicaConfig(int partitions) {
  ReplicaConfig c;
  c.partitions = partitions;
  CRM_ASSIGN_OR_RETURN(std::string list, common::EnvString("CRM_SEGMENTATION_REPLICAS", ""));
  for (absl::string_view a : absl::StrSplit(list, ',', absl::SkipWhitespace())) {
    a = absl::StripAsciiWhitespace(a);
    if (a.find(':') == absl::string_view::npos) {
      return absl::InvalidArgumentError(
          absl::StrCat("CRM_SEGMENTATION_REPLICAS: \"", a, "\" is not a host:port address"));
    }
    c.addresses.emplace_back(a);
  }
  CRM_ASSIGN_OR_RETURN(c.timeout,
                       common::EnvDuration("CRM_SEGMENTATION_REPLICA_TIMEOUT", c.timeout));
  if (c.timeout < absl::Milliseconds(10)) {
    return absl::InvalidArgumentError("CRM_SEGMENTATION_REPLICA_TIMEOUT must be at least 10ms");
  }
  if (c.addresses.size() <= 1) {
    c.addresses.clear();
    return c;
  }
  int fallback = -1;
  CRM_ASSIGN_OR_RETURN(std::string host, common::EnvString("HOSTNAME", ""));
  if (size_t dash = host.rfind('-'); dash != std::string::npos) {
    int n = 0;
    if (absl::SimpleAtoi(host.substr(dash + 1), &n)) fallback = n;
  }
  CRM_ASSIGN_OR_RETURN(int64_t ordinal,
                       common::EnvInt("CRM_SEGMENTATION_ORDINAL", fallback, -1, 1 << 20));
  if (ordinal < 0) {
    return absl::InvalidArgumentError(
        "CRM_SEGMENTATION_ORDINAL is required with CRM_SEGMENTATION_REPLICAS (or a HOSTNAME "
        "ending in -<ordinal>, as a StatefulSet's pods have)");
  }
  c.ordinal = static_cast<int>(ordinal);
  if (absl::Status s = c.ownership().Check(); !s.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("CRM_SEGMENTATION_REPLICAS / CRM_SEGMENTATION_ORDINAL: ", s.message()));
  }
  return c;
}

std::vector<std::string> ReplicaConfig::peers() const {
  std::vector<std::string> out;
  for (size_t i = 0; i < addresses.size(); ++i) {
    if (static_cast<int>(i) != ordinal) out.push_back(addresses[i]);
  }
  return out;
}

std::string ReplicaConfig::consumer_group() const {
  return ordinal == 0 ? "segmentation" : absl::StrCat("segmentation-", ordinal);
}

void ReplicaConfig::DumpTo(common::ConfigDump& dump) const {
  dump.Add("segmentation_replicas", static_cast<int64_t>(replicas()))
      .Add("segmentation_ordinal", static_cast<int64_t>(ordinal))
      .Add("segmentation_replica_addresses", absl::StrJoin(addresses, ","))
      .Add("segmentation_replica_timeout", timeout);
}

}  // namespace crm::segmentation
