#include "services/personalization/domain/rec_eval.h"

#include <algorithm>
#include <cmath>
#include <random>
#include <utility>

namespace crm::personalization::domain {

std::vector<Interaction> DistinctPairs(std::vector<Interaction> rows) {
  std::stable_sort(rows.begin(), rows.end(), [](const Interaction& a, const Interaction& b) {
    return a.user != b.user ? a.user < b.user : a.item < b.item;
  });
  std::vector<Interaction> out;
  for (const Interaction& r : rows) {
    if (!out.empty() && out.back().user == r.user && out.back().item == r.item) {
      out.back().rating += r.rating;
      out.back().rows += r.rows;
      out.back().time = std::max(out.back().time, r.time);
    } else {
      out.push_back(r);
    }
  }
  return out;
}

TrainTestSplit SplitPerUser(const std::vector<Interaction>& pairs, double train_fraction,
                            std::uint64_t seed) {
  TrainTestSplit split;
  std::mt19937_64 rng(seed);
  std::size_t begin = 0;
  std::vector<Interaction> mine;
  while (begin < pairs.size()) {
    std::size_t end = begin;
    while (end < pairs.size() && pairs[end].user == pairs[begin].user) ++end;
    mine.assign(pairs.begin() + static_cast<std::ptrdiff_t>(begin),
                pairs.begin() + static_cast<std::ptrdiff_t>(end));
    // Fisher-Yates with a modulo draw: std::shuffle's draws differ between
    // standard libraries, this one does not.
    for (std::size_t i = mine.size(); i > 1; --i) {
      std::swap(mine[i - 1], mine[static_cast<std::size_t>(rng() % i)]);
    }
    const auto n = static_cast<double>(mine.size());
    const auto train =
        std::min(mine.size(), static_cast<std::size_t>(std::floor(train_fraction * n + 0.5)));
    split.train.insert(split.train.end(), mine.begin(),
                       mine.begin() + static_cast<std::ptrdiff_t>(train));
    split.test.insert(split.test.end(), mine.begin() + static_cast<std::ptrdiff_t>(train),
                      mine.end());
    begin = end;
  }
  return split;
}

void MetricsAccumulator::Add(const std::vector<ItemIndex>& ranked,
                             const absl::flat_hash_set<ItemIndex>& relevant) {
  if (relevant.empty()) return;
  const std::size_t n = std::min(ranked.size(), k_);
  std::size_t hits = 0;
  double dcg = 0;
  double ap = 0;
  for (std::size_t r = 0; r < n; ++r) {
    recommended_.insert(ranked[r]);
    if (!relevant.contains(ranked[r])) continue;
    ++hits;
    dcg += 1.0 / std::log2(static_cast<double>(r) + 2.0);
    ap += static_cast<double>(hits) / static_cast<double>(r + 1);
  }
  const std::size_t ideal_n = std::min(k_, relevant.size());
  double idcg = 0;
  for (std::size_t r = 0; r < ideal_n; ++r) idcg += 1.0 / std::log2(static_cast<double>(r) + 2.0);
  sum_.precision += static_cast<double>(hits) / static_cast<double>(k_);
  sum_.recall += static_cast<double>(hits) / static_cast<double>(relevant.size());
  sum_.ndcg += dcg / idcg;
  sum_.map += ap / static_cast<double>(ideal_n);
  ++sum_.users;
}

RankingMetrics MetricsAccumulator::Result() const {
  RankingMetrics m = sum_;
  if (m.users == 0) return m;
  const auto u = static_cast<double>(m.users);
  m.precision /= u;
  m.recall /= u;
  m.ndcg /= u;
  m.map /= u;
  return m;
}

}  // namespace crm::personalization::domain
