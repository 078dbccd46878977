#include "services/transaction/app/known_customers.h"

#include <algorithm>

namespace crm::transaction::app {

std::optional<std::string> KnownCustomers::Find(const std::string& tenant,
                                                const std::string& customer_id) {
  if (!enabled()) return std::nullopt;
  const absl::Time now = clock_.Now();
  absl::MutexLock lock(&mu_);
  auto it = index_.find(Key(tenant, customer_id));
  if (it == index_.end()) {
    ++stats_.misses;
    return std::nullopt;
  }
  if (it->second->expires <= now) {
    lru_.erase(it->second);
    index_.erase(it);
    ++stats_.expired;
    ++stats_.misses;
    return std::nullopt;
  }
  lru_.splice(lru_.begin(), lru_, it->second);
  ++stats_.hits;
  return it->second->reads_as;
}

uint64_t KnownCustomers::Epoch() const {
  absl::MutexLock lock(&mu_);
  return epoch_;
}

void KnownCustomers::Remember(uint64_t epoch, const std::string& tenant,
                              const std::string& customer_id, const std::string& reads_as) {
  if (!enabled()) return;
  const absl::Time expires = clock_.Now() + options_.ttl;
  absl::MutexLock lock(&mu_);
  if (epoch != epoch_) return;  // invalidated while customer-store was being asked
  std::string key = Key(tenant, customer_id);
  auto it = index_.find(key);
  if (it != index_.end()) {
    it->second->reads_as = reads_as;
    it->second->expires = expires;
    lru_.splice(lru_.begin(), lru_, it->second);
    return;
  }
  lru_.push_front(Entry{key, tenant, reads_as, expires});
  index_.emplace(std::move(key), lru_.begin());
  while (index_.size() > options_.capacity) {
    index_.erase(lru_.back().key);
    lru_.pop_back();
    ++stats_.evicted;
  }
}

void KnownCustomers::Forget(const std::string& tenant, const std::vector<std::string>& ids) {
  absl::MutexLock lock(&mu_);
  // Every invalidation moves the epoch, even one that finds nothing: an
  // answer being fetched right now may be about one of `ids`.
  ++epoch_;
  if (ids.empty() || index_.empty()) return;
  // Entries reading as one of `ids` (merged into it) have other keys: one
  // pass over the cache. Events that forget are rare (erasures, merges).
  for (auto it = lru_.begin(); it != lru_.end();) {
    const bool hit =
        it->tenant == tenant &&
        (std::find(ids.begin(), ids.end(), it->reads_as) != ids.end() ||
         std::find_if(ids.begin(), ids.end(), [&](const std::string& id) {
           return it->key.size() == tenant.size() + 1 + id.size() &&
                  it->key.compare(tenant.size() + 1, id.size(), id) == 0;
         }) != ids.end());
    if (!hit) {
      ++it;
      continue;
    }
    index_.erase(it->key);
    it = lru_.erase(it);
    ++stats_.forgotten;
  }
}

void KnownCustomers::ForgetTenant(const std::string& tenant) {
  absl::MutexLock lock(&mu_);
  ++epoch_;
  for (auto it = lru_.begin(); it != lru_.end();) {
    if (it->tenant != tenant) {
      ++it;
      continue;
    }
    index_.erase(it->key);
    it = lru_.erase(it);
    ++stats_.forgotten;
  }
}

void KnownCustomers::Clear() {
  absl::MutexLock lock(&mu_);
  ++epoch_;
  stats_.forgotten += index_.size();
  index_.clear();
  lru_.clear();
}

size_t KnownCustomers::size() const {
  absl::MutexLock lock(&mu_);
  return index_.size();
}

KnownCustomers::Stats KnownCustomers::stats() const {
  absl::MutexLock lock(&mu_);
  return stats_;
}

}  // namespace crm::transaction::app
