#pragma once
// Per-key token buckets kept in one process: the gateway's fallback when the
// shared (Redis) buckets cannot be reached. Each replica then limits on its
// own, so N replicas admit up to N times a key's rate: a looser limit, never
// no limit. Not thread-safe (the caller locks).
#include <cstddef>
#include <map>
#include <string>

#include "absl/time/time.h"

namespace crm::gateway::domain {

class LocalTokenBuckets final {
 public:
  explicit LocalTokenBuckets(size_t max_keys = 100000) : max_keys_(max_keys) {}

  // Takes one token from `key`'s bucket (refilled at `rate` per second, at
  // most `burst` tokens; a new bucket starts full). Returns zero when granted,
  // otherwise how long until a token is available.
  absl::Duration Take(const std::string& key, int rate, int burst, absl::Time now);

  size_t size() const { return buckets_.size(); }

 private:
  struct Bucket {
    double tokens = 0;
    absl::Time updated;
  };
  size_t max_keys_;
  std::map<std::string, Bucket> buckets_;
};

}  // namespace crm::gateway::domain
