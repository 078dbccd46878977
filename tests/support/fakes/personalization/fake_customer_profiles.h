#pragma once
// In-memory CustomerProfiles: what customer-store would answer, per tenant
// and customer; `down` makes every call fail with it.
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "libs/common/errors.h"
#include "services/personalization/app/ports.h"

namespace crm::testing {

class FakeCustomerProfiles final : public personalization::app::CustomerProfiles {
 public:
  absl::StatusOr<personalization::app::CustomerProfile> Get(
      const std::string& tenant, const std::string& customer_id) override {
    ++calls;
    if (!down.ok()) return down;
    auto it = profiles.find({tenant, customer_id});
    if (it == profiles.end()) {
      return common::WithReason(absl::NotFoundError("customer not found"), "CUSTOMER_NOT_FOUND");
    }
    return it->second;
  }
  absl::StatusOr<std::map<std::string, personalization::app::CustomerProfile>> GetMany(
      const std::string& tenant, const std::vector<std::string>& customer_ids) override {
    ++batch_calls;
    if (!down.ok()) return down;
    std::map<std::string, personalization::app::CustomerProfile> out;
    for (const std::string& id : customer_ids) {
      auto it = profiles.find({tenant, id});
      if (it != profiles.end()) out[id] = it->second;
    }
    return out;
  }
  std::map<std::pair<std::string, std::string>, personalization::app::CustomerProfile> profiles;
  int batch_calls = 0;
  absl::Status down;
  int calls = 0;
};

}  // namespace crm::testing
