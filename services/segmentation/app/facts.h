#pragma once
// Keeps the engine's facts from other engines' events: orders (newest
// version each, with the skus they bought), catalog products (newest version
// each, for their categories), customers (created, erased, merged, unmerged), behaviour
// events (once each) and visitors identified as customers.
#include <cstdint>
#include <functional>
#include <map>
#include <set>
#include <string>
#include <variant>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "libs/common/tenant_purge.h"
#include "services/segmentation/app/ports.h"

namespace crm::segmentation::app {

using Fact = std::variant<events::OrderFact, events::CustomerChange, events::BehaviourFact,
                          events::CustomerIdentified, events::ConsentFact, events::ProductFact,
                          events::BehaviourRetention>;

// The customers whose facts `fact` changes, by tenant: an order's customer
// (the live segments also read the survivor of a merged one), a merge's or
// unmerge's two customers, every erased id, a behaviour event's customer, an
// identified visitor's customer. A product fact touches no customer by
// itself: see AddChangedProducts.
void AddTouchedCustomers(const Fact& fact, std::map<std::string, std::set<std::string>>& out);
// The skus whose catalog facts `fact` changes, by tenant (product facts only).
void AddChangedProducts(const Fact& fact, std::map<std::string, std::set<std::string>>& out);

// Per tenant, how many times its purchases changed in this process (an
// order fact stored, a merge, unmerge or erasure applied): a cache of
// something computed from all of a tenant's purchases is current while the
// count is unchanged. Every replica applies every fact, so each counts them
// all. Thread-safe.
class PurchaseVersions {
 public:
  void Bump(const std::string& tenant) {
    absl::MutexLock l(&mu_);
    ++versions_[tenant];
  }
  uint64_t Of(const std::string& tenant) const {
    absl::MutexLock l(&mu_);
    auto it = versions_.find(tenant);
    return it == versions_.end() ? 0 : it->second;
  }

 private:
  mutable absl::Mutex mu_;
  std::map<std::string, uint64_t> versions_ ABSL_GUARDED_BY(mu_);
};

class Facts {
 public:
  // `versions` (optional, must outlive this): bumped for each tenant whose
  // purchases a call changed.
  explicit Facts(FactRepository& repository, PurchaseVersions* versions = nullptr)
      : repository_(repository), versions_(versions) {}
  // One status per fact, applied in order: a run of order and behaviour
  // facts is written per tenant and kind in one transaction (each fact alone
  // when that fails) before the next customer change or visitor link, which
  // applies once per event id. INVALID_ARGUMENT for a fact without the ids,
  // currency, version or time it needs (never retried by the consumer).
  std::vector<absl::Status> Apply(const std::vector<Fact>& facts);

  // One bounded round of the behaviour retention: the behaviour facts of
  // each tenant with a retention (behaviour.settings_updated) that occurred
  // longer ago than it at `now` are deleted, kPurgeWindowBlocks blocks per
  // transaction (common/tenant_purge.h). `purged` (optional) is told each
  // tenant's cutoff after the round.
  static constexpr int kPurgeWindowBlocks = 256;
  absl::StatusOr<common::TenantPurgeRound> PurgeExpiredBehaviour(
      absl::Time now,
      const std::function<void(const std::string& tenant, absl::Time cutoff)>& purged = nullptr);

 private:
  FactRepository& repository_;
  PurchaseVersions* const versions_;
  common::TenantPurger purger_;
};

}  // namespace crm::segmentation::app
