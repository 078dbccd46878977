#pragma once
// The offline evaluation protocol of the recommendations (docs/personalization.md):
// every user's distinct items split at random with a fixed seed, the model
// trained on one part, ranked lists of unseen items scored against the other.
#include <cstddef>
#include <cstdint>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "services/personalization/domain/item_similarity.h"

namespace crm::personalization::domain {

struct Interaction {
  UserIndex user = 0;
  ItemIndex item = 0;
  double rating = 0;
  std::int64_t time = 0;   // unix seconds
  std::uint32_t rows = 1;  // input rows collapsed into this one
};

// One interaction per (user, item): the pair's rows summed in rating and
// rows, the latest time kept. Sorted by user, then item.
std::vector<Interaction> DistinctPairs(std::vector<Interaction> rows);

struct TrainTestSplit {
  std::vector<Interaction> train;
  std::vector<Interaction> test;
};

// Per user (input sorted by user, as DistinctPairs returns it): the user's
// interactions shuffled by a Fisher-Yates pass driven by a 64-bit Mersenne
// Twister seeded with `seed` (one generator for the whole file, users in
// index order, so the split is the same on every platform), the first
// floor(train_fraction * n + 0.5) to training, the rest to test. A user with
// one interaction has none in test.
TrainTestSplit SplitPerUser(const std::vector<Interaction>& pairs, double train_fraction,
                            std::uint64_t seed);

struct RankingMetrics {
  double precision = 0;  // mean over users of hits / k
  double recall = 0;     // hits / |relevant|
  double ndcg = 0;       // binary gains, log2 discount, ideal over min(k, |relevant|)
  double map = 0;        // sum of precision at each hit / min(k, |relevant|)
  std::size_t users = 0;
};

// Means of the metrics at k over the users added (each user with at least
// one relevant item), and the items recommended to anyone.
class MetricsAccumulator {
 public:
  explicit MetricsAccumulator(std::size_t k) : k_(k) {}
  void Add(const std::vector<ItemIndex>& ranked, const absl::flat_hash_set<ItemIndex>& relevant);
  RankingMetrics Result() const;
  std::size_t DistinctRecommended() const { return recommended_.size(); }

 private:
  std::size_t k_;
  RankingMetrics sum_;
  absl::flat_hash_set<ItemIndex> recommended_;
};

}  // namespace crm::personalization::domain
