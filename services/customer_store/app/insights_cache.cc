#include "services/customer_store/app/insights_cache.h"

#include <algorithm>

namespace crm::customer_store::app {

template <typename T>
std::optional<T> InsightsCache::Read(const std::string& tenant, const std::string& customer,
                                     Slot<T> slot) {
  const absl::Time now = clock_.Now();
  absl::MutexLock l(&mu_);
  auto it = entries_.find({tenant, customer});
  if (it == entries_.end()) return std::nullopt;
  const Kept<T>& kept = it->second.*slot;
  if (!kept.value || kept.until <= now) return std::nullopt;
  return kept.value;
}

template <typename T>
void InsightsCache::Write(const std::string& tenant, const std::string& customer, const T& value,
                          Slot<T> slot) {
  if (ttl_ <= absl::ZeroDuration() || !Definitive(value.status())) return;
  const absl::Time now = clock_.Now();
  absl::MutexLock l(&mu_);
  Key key{tenant, customer};
  if (!entries_.count(key)) MakeRoomLocked(now);
  Kept<T>& kept = entries_[std::move(key)].*slot;
  kept.value = value;
  kept.until = now + ttl_;
}

std::optional<InsightsCache::Scores> InsightsCache::ScoresOf(const std::string& tenant,
                                                             const std::string& customer) {
  return Read(tenant, customer, &Entry::scores);
}

std::optional<InsightsCache::Segments> InsightsCache::SegmentsOf(const std::string& tenant,
                                                                 const std::string& customer) {
  return Read(tenant, customer, &Entry::segments);
}

void InsightsCache::Keep(const std::string& tenant, const std::string& customer,
                         const Scores& scores) {
  Write(tenant, customer, scores, &Entry::scores);
}

void InsightsCache::Keep(const std::string& tenant, const std::string& customer,
                         const Segments& segments) {
  Write(tenant, customer, segments, &Entry::segments);
}

size_t InsightsCache::size() const {
  absl::MutexLock l(&mu_);
  return entries_.size();
}

void InsightsCache::MakeRoomLocked(absl::Time now) {
  if (entries_.size() < max_entries_) return;
  for (auto it = entries_.begin(); it != entries_.end();) {
    it = it->second.Until() <= now ? entries_.erase(it) : std::next(it);
  }
  while (!entries_.empty() && entries_.size() >= max_entries_) {
    auto oldest = entries_.begin();
    for (auto it = entries_.begin(); it != entries_.end(); ++it) {
      if (it->second.Until() < oldest->second.Until()) oldest = it;
    }
    entries_.erase(oldest);
  }
}

}  // namespace crm::customer_store::app
