#include "services/customer_store/app/insights_cache.h"

#include <algorithm>

namespace crm::customer_store::app {

std::optional<InsightsCache::Scores> InsightsCache::ScoresOf(const std::string& tenant,
                                                             const std::string& customer) {
  const absl::Time now = clock_.Now();
  absl::MutexLock l(&mu_);
  auto it = entries_.find({tenant, customer});
  if (it == entries_.end() || !it->second.scores || it->second.scores_until <= now) {
    return std::nullopt;
  }
  return it->second.scores;
}

std::optional<InsightsCache::Segments> InsightsCache::SegmentsOf(const std::string& tenant,
                                                                 const std::string& customer) {
  const absl::Time now = clock_.Now();
  absl::MutexLock l(&mu_);
  auto it = entries_.find({tenant, customer});
  if (it == entries_.end() || !it->second.segments || it->second.segments_until <= now) {
    return std::nullopt;
  }
  return it->second.segments;
}

void InsightsCache::Keep(const std::string& tenant, const std::string& customer,
                         const Scores& scores) {
  if (ttl_ <= absl::ZeroDuration() || !Definitive(scores.status())) return;
  const absl::Time now = clock_.Now();
  absl::MutexLock l(&mu_);
  Key key{tenant, customer};
  if (!entries_.count(key)) MakeRoomLocked(now);
  Entry& e = entries_[std::move(key)];
  e.scores = scores;
  e.scores_until = now + ttl_;
}

void InsightsCache::Keep(const std::string& tenant, const std::string& customer,
                         const Segments& segments) {
  if (ttl_ <= absl::ZeroDuration() || !Definitive(segments.status())) return;
  const absl::Time now = clock_.Now();
  absl::MutexLock l(&mu_);
  Key key{tenant, customer};
  if (!entries_.count(key)) MakeRoomLocked(now);
  Entry& e = entries_[std::move(key)];
  e.segments = segments;
  e.segments_until = now + ttl_;
}

size_t InsightsCache::size() const {
  absl::MutexLock l(&mu_);
  return entries_.size();
}

void InsightsCache::MakeRoomLocked(absl::Time now) {
  if (entries_.size() < max_entries_) return;
  for (auto it = entries_.begin(); it != entries_.end();) {
    const bool expired = std::max(it->second.scores_until, it->second.segments_until) <= now;
    it = expired ? entries_.erase(it) : std::next(it);
  }
  while (!entries_.empty() && entries_.size() >= max_entries_) {
    auto oldest = entries_.begin();
    for (auto it = entries_.begin(); it != entries_.end(); ++it) {
      if (std::max(it->second.scores_until, it->second.segments_until) <
          std::max(oldest->second.scores_until, oldest->second.segments_until)) {
        oldest = it;
      }
    }
    entries_.erase(oldest);
  }
}

}  // namespace crm::customer_store::app
