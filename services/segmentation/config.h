#pragma once
// The segmentation service's own settings (beyond common::ServiceConfig and
// its event consumer, which main reads with the shared loaders).
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "libs/common/env.h"
#include "services/segmentation/domain/ownership.h"

namespace crm::segmentation {

// The scheduled refit of lifetime-value models: CRM_CLV_REFIT_AFTER (a
// tenant's model older than this is refitted as of today with its own
// settings; default 24h, 0 turns scheduled refits off) and
// CRM_CLV_REFIT_CHECK (how often the service looks for such models; default
// 10m), and how long an on-demand refit's call waits for it before
// answering REFIT_RUNNING while it goes on in the background
// (CRM_CLV_REFIT_WAIT, default 8s: below the gateway's 10s deadline).
struct RefitScheduleConfig {
  absl::Duration refit_after = absl::Hours(24);
  absl::Duration check_every = absl::Minutes(10);
  absl::Duration on_demand_wait = absl::Seconds(8);
  void DumpTo(common::ConfigDump& dump) const;
};
absl::StatusOr<RefitScheduleConfig> LoadRefitScheduleConfig();

// Live segments: CRM_SEGMENT_TICK (how often due time-driven changes are
// looked for; default 1s, 10ms..1m) and CRM_SEGMENT_REFRESH (how old a
// tenant's features context, i.e. its model and RFM breakpoints, may get
// before everyone is re-evaluated against a fresh one; default 1h, >= 1m)
// and CRM_BEHAVIOUR_RETENTION_CHECK (how often behaviour facts older than
// their tenant's retention are purged; default 1h, 0 = not in this process).
struct LiveSegmentsConfig {
  absl::Duration tick = absl::Seconds(1);
  absl::Duration refresh_every = absl::Hours(1);
  absl::Duration behaviour_purge_every = absl::Hours(1);
  void DumpTo(common::ConfigDump& dump) const;
};

absl::StatusOr<LiveSegmentsConfig> LoadLiveSegmentsConfig();

// Replicas of a partitioned engine (README, "Replicas"):
//   CRM_SEGMENTATION_REPLICAS  every replica's gRPC address (host:port) in
//                              ordinal order, comma-separated; "" (default):
//                              one replica holding every customer
//   CRM_SEGMENTATION_ORDINAL   this replica's index in that list; default:
//                              the number after the last '-' of HOSTNAME (a
//                              StatefulSet's pod name, "segmentation-1")
//   CRM_SEGMENTATION_REPLICA_TIMEOUT  a peer's count or dry run (default 5s);
//                              a peer's re-evaluation after a write gets 12x
// Replica k of n holds the event partitions p with p % n == k, so n must not
// exceed CRM_EVENT_PARTITIONS (`partitions`).
struct ReplicaConfig {
  std::vector<std::string> addresses;
  int ordinal = 0;
  int partitions = 8;
  absl::Duration timeout = absl::Seconds(5);

  int replicas() const { return addresses.empty() ? 1 : static_cast<int>(addresses.size()); }
  domain::Ownership ownership() const { return {partitions, replicas(), ordinal}; }
  // A peer's re-evaluation after a write (it may evaluate every customer it holds).
  absl::Duration sync_timeout() const { return timeout * 12; }
  std::vector<std::string> peers() const;  // the addresses without this replica's
  // The consumer group: "segmentation" for replica 0 (and a single
  // replica), "segmentation-<k>" for the others: every replica reads every
  // event.
  std::string consumer_group() const;
  void DumpTo(common::ConfigDump& dump) const;
};
absl::StatusOr<ReplicaConfig> LoadReplicaConfig(int partitions);

}  // namespace crm::segmentation
