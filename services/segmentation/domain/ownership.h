#pragma once
// Which customers one replica of the engine holds. A partitioned deployment
// splits the live state (customers, features, memberships, timers) by the
// event backbone's customer partitions (common::PartitionOf of the customer
// id, CRM_EVENT_PARTITIONS of them): replica k of n holds every partition p
// with p % n == k, so each customer has exactly one holder and the union of
// the replicas is the one-replica state.
#include <string_view>

#include "absl/status/status.h"

namespace crm::segmentation::domain {

struct Ownership {
  int partitions = 8;
  int replicas = 1;
  int ordinal = 0;

  // Every customer: one replica.
  bool all() const { return replicas <= 1; }
  bool Owns(std::string_view customer_id) const;
  // INVALID_ARGUMENT unless 1 <= replicas <= partitions (a replica without a
  // partition would hold nothing) and 0 <= ordinal < replicas.
  absl::Status Check() const;
};

}  // namespace crm::segmentation::domain
