#include "services/segmentation/domain/ownership.h"

#include "absl/strings/str_cat.h"
#include "libs/common/id.h"

namespace crm::segmentation::domain {

bool Ownership::Owns(std::string_view customer_id) const {
  if (all()) return true;
  return common::PartitionOf(customer_id, partitions) % replicas == ordinal;
}

absl::Status Ownership::Check() const {
  if (partitions < 1) return absl::InvalidArgumentError("the event partitions must be at least 1");
  if (replicas < 1 || replicas > partitions) {
    return absl::InvalidArgumentError(
        absl::StrCat("replicas must be between 1 and the event partitions (", partitions,
                     "): a replica without a partition would hold no customer"));
  }
  if (ordinal < 0 || ordinal >= replicas) {
    return absl::InvalidArgumentError(
        absl::StrCat("the replica ordinal must be between 0 and ", replicas - 1));
  }
  return absl::OkStatus();
}

}  // namespace crm::segmentation::domain
