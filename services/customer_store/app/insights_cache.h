#pragma once
// A short memory of the segmentation engine's answers for the 360 view's
// sections (CRM_VIEW_SECTIONS_TTL): a replica asks the engine at most once
// per customer and TTL, so a view read again and again costs the engine (and
// its database) nothing in between. Only definitive answers are kept (OK, or
// NOT_FOUND: the engine does not know the customer); a refusal, a failure or
// a missed deadline is asked again on the next read. A section read from it
// is at most TTL old; the TTL is the bound the docs state.
#include <algorithm>
#include <cstddef>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "libs/common/clock.h"
#include "services/customer_store/domain/insights.h"

namespace crm::customer_store::app {

class InsightsCache final {
 public:
  using Scores = absl::StatusOr<domain::CustomerScores>;
  using Segments = absl::StatusOr<std::vector<domain::SegmentMembership>>;

  // `ttl` zero: nothing is kept. At most `max_entries` customers (the
  // expired ones go first, then the oldest).
  InsightsCache(const common::Clock& clock, absl::Duration ttl, size_t max_entries = 100000)
      : clock_(clock), ttl_(ttl), max_entries_(max_entries) {}

  std::optional<Scores> ScoresOf(const std::string& tenant, const std::string& customer);
  std::optional<Segments> SegmentsOf(const std::string& tenant, const std::string& customer);
  // Kept only when OK or NOT_FOUND.
  void Keep(const std::string& tenant, const std::string& customer, const Scores& scores);
  void Keep(const std::string& tenant, const std::string& customer, const Segments& segments);
  size_t size() const;

 private:
  template <typename T>
  struct Kept {
    std::optional<T> value;
    absl::Time until = absl::InfinitePast();
  };
  struct Entry {
    Kept<Scores> scores;
    Kept<Segments> segments;
    absl::Time Until() const { return std::max(scores.until, segments.until); }
  };
  template <typename T>
  using Slot = Kept<T> Entry::*;
  using Key = std::pair<std::string, std::string>;  // (tenant, customer)

  static bool Definitive(const absl::Status& s) { return s.ok() || absl::IsNotFound(s); }
  template <typename T>
  std::optional<T> Read(const std::string& tenant, const std::string& customer, Slot<T> slot);
  template <typename T>
  void Write(const std::string& tenant, const std::string& customer, const T& value, Slot<T> slot);
  // Room for one more entry.
  void MakeRoomLocked(absl::Time now) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const common::Clock& clock_;
  const absl::Duration ttl_;
  const size_t max_entries_;
  mutable absl::Mutex mu_;
  std::map<Key, Entry> entries_ ABSL_GUARDED_BY(mu_);
};

}  // namespace crm::customer_store::app
