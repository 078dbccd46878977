#pragma once
// Merge and unmerge use cases (survivorship rules in domain/merge_rules.h).
#include <string>

#include "absl/status/statusor.h"
#include "libs/common/clock.h"
#include "services/customer_store/app/ports.h"

namespace crm::customer_store::app {

class CustomerMerger final {
 public:
  CustomerMerger(CustomerRepository& repository, ViewCache& cache, const common::Clock& clock)
      : repository_(repository), cache_(cache), clock_(clock) {}

  absl::StatusOr<MergeOutcome> Merge(const Actor& actor, const std::string& survivor_id,
                                     const std::string& source_id);
  absl::StatusOr<UnmergeOutcome> Unmerge(const Actor& actor, const std::string& survivor_id,
                                         const std::string& merge_id);

 private:
  CustomerRepository& repository_;
  ViewCache& cache_;
  const common::Clock& clock_;
};

}  // namespace crm::customer_store::app
