#pragma once
// The tenants' delivery policies as the senders read them: each read from
// the repository at most once per `ttl` per tenant (a change reaches the
// other replicas within it; this replica's own updates at once).
#include <map>
#include <string>

#include "absl/synchronization/mutex.h"
#include "libs/common/clock.h"
#include "services/delivery/app/ports.h"

namespace crm::delivery::app {

class PolicyCache final {
 public:
  PolicyCache(DeliveryRepository& repository, const common::Clock& clock,
              absl::Duration ttl = absl::Seconds(5))
      : repository_(repository), clock_(clock), ttl_(ttl) {}

  // The tenant's policy (an empty one when never written).
  absl::StatusOr<domain::DeliveryPolicy> Get(const std::string& tenant) {
    const absl::Time now = clock_.Now();
    {
      absl::MutexLock lock(&mu_);
      auto it = entries_.find(tenant);
      if (it != entries_.end() && now < it->second.expires) return it->second.policy;
    }
    absl::StatusOr<std::optional<domain::DeliveryPolicy>> read = repository_.GetPolicy(tenant);
    if (!read.ok()) return read.status();
    domain::DeliveryPolicy p = read->value_or(domain::DeliveryPolicy{});
    absl::MutexLock lock(&mu_);
    entries_[tenant] = Entry{p, now + ttl_};
    return p;
  }
  void Put(const std::string& tenant, const domain::DeliveryPolicy& p) {
    absl::MutexLock lock(&mu_);
    entries_[tenant] = Entry{p, clock_.Now() + ttl_};
  }

 private:
  struct Entry {
    domain::DeliveryPolicy policy;
    absl::Time expires;
  };
  DeliveryRepository& repository_;
  const common::Clock& clock_;
  const absl::Duration ttl_;
  absl::Mutex mu_;
  std::map<std::string, Entry> entries_ ABSL_GUARDED_BY(mu_);
};

}  // namespace crm::delivery::app
