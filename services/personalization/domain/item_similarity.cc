#include "services/personalization/domain/item_similarity.h"

#include <algorithm>
#include <cmath>
#include <utility>

namespace crm::personalization::domain {
namespace {

// Best first: score desc, then item asc (a total order, so answers are
// deterministic).
bool Better(const ScoredItem& a, const ScoredItem& b) {
  if (a.score != b.score) return a.score > b.score;
  return a.item < b.item;
}

void KeepBest(std::vector<ScoredItem>& items, std::size_t count) {
  if (items.size() > count) {
    std::partial_sort(items.begin(), items.begin() + static_cast<std::ptrdiff_t>(count),
                      items.end(), Better);
    items.resize(count);
  } else {
    std::sort(items.begin(), items.end(), Better);
  }
}

// Per-thread scoring scratch, sized to the catalog: a dense score per item
// and the list of items touched, reset after each use.
struct Scratch {
  std::vector<double> score;
  std::vector<double> best;
  std::vector<ItemIndex> because;
  std::vector<char> marked;
  std::vector<ItemIndex> touched;
};

Scratch& ScratchFor(std::size_t items) {
  thread_local Scratch s;
  if (s.score.size() < items) {
    s.score.resize(items, 0);
    s.best.resize(items, 0);
    s.because.resize(items, 0);
    s.marked.resize(items, 0);
  }
  return s;
}

}  // namespace

CoOccurrenceModel::CoOccurrenceModel(SimilarityParams params, std::int64_t half_life_seconds)
    : params_(params), half_life_(half_life_seconds) {}

bool CoOccurrenceModel::Add(UserIndex user, ItemIndex item, double weight, std::int64_t time,
                            std::uint8_t tags) {
  if (user >= users_.size()) users_.resize(static_cast<std::size_t>(user) + 1);
  if (item >= rows_.size()) {
    rows_.resize(static_cast<std::size_t>(item) + 1);
    item_users_.resize(rows_.size(), 0);
    std::lock_guard<std::mutex> l(*neighbours_mu_);
    neighbours_.resize(rows_.size());
  }
  auto& mine = users_[user];
  auto it = mine.find(item);
  if (it != mine.end()) {
    Decaying& a = it->second;
    a.tags |= tags;
    if (time >= a.anchor) {
      a.value = Decayed(a, time) + weight;
      a.anchor = time;
    } else {
      a.value += Decayed(Decaying{weight, time, 0}, a.anchor);
    }
    return false;
  }
  Row& row = rows_[item];
  for (const auto& [other, unused] : mine) {
    ++row.co[other];
    Row& theirs = rows_[other];
    ++theirs.co[item];
    ++theirs.version;
  }
  ++row.version;
  ++item_users_[item];
  mine.emplace(item, Decaying{weight, time, tags});
  return true;
}

void CoOccurrenceModel::RemoveUser(UserIndex user) {
  if (user >= users_.size()) return;
  auto& mine = users_[user];
  for (const auto& [i, unused] : mine) {
    Row& row = rows_[i];
    --item_users_[i];
    ++row.version;
    for (const auto& [j, unused2] : mine) {
      if (j == i) continue;
      auto c = row.co.find(j);
      if (--c->second == 0) row.co.erase(c);
    }
  }
  mine.clear();
}

std::uint32_t CoOccurrenceModel::ItemUsers(ItemIndex item) const {
  return item < item_users_.size() ? item_users_[item] : 0;
}

std::uint32_t CoOccurrenceModel::CoCount(ItemIndex i, ItemIndex j) const {
  if (i >= rows_.size() || j >= rows_.size()) return 0;
  if (i == j) return item_users_[i];
  auto it = rows_[i].co.find(j);
  return it == rows_[i].co.end() ? 0 : it->second;
}

namespace {
double RawSimilarity(const SimilarityParams& p, double cij, double cii, double cjj) {
  switch (p.kind) {
    case SimilarityKind::kJaccard:
      return cij / (cii + cjj - cij);
    case SimilarityKind::kCosine:
      return cij / std::sqrt(cii * cjj);
    case SimilarityKind::kLift:
      return cij / (cii * cjj);
    case SimilarityKind::kDamped:
      return cij / (std::pow(cii, p.alpha) * std::pow(cjj, p.beta));
  }
  return 0;
}

double SimilarityOf(const SimilarityParams& p, double cij, double cii, double cjj) {
  if (cij <= 0) return 0;
  const double s = RawSimilarity(p, cij, cii, cjj);
  // Small whole powers by multiplication: pow() is the hot loop's cost.
  if (p.locality == 1) return s;
  if (p.locality == 2) return s * s;
  if (p.locality == 3) return s * s * s;
  return std::pow(s, p.locality);
}
}  // namespace

double CoOccurrenceModel::Similarity(ItemIndex i, ItemIndex j) const {
  return SimilarityOf(params_, CoCount(i, j), ItemUsers(i), ItemUsers(j));
}

double CoOccurrenceModel::Decayed(const Decaying& a, std::int64_t now) const {
  if (half_life_ <= 0 || now <= a.anchor) return a.value;
  return a.value *
         std::exp2(-static_cast<double>(now - a.anchor) / static_cast<double>(half_life_));
}

double CoOccurrenceModel::Affinity(UserIndex user, ItemIndex item, std::int64_t now) const {
  if (user >= users_.size()) return 0;
  auto it = users_[user].find(item);
  return it == users_[user].end() ? 0 : Decayed(it->second, now);
}

bool CoOccurrenceModel::Has(UserIndex user, ItemIndex item) const {
  return user < users_.size() && users_[user].contains(item);
}

std::uint8_t CoOccurrenceModel::Tags(UserIndex user, ItemIndex item) const {
  if (user >= users_.size()) return 0;
  auto it = users_[user].find(item);
  return it == users_[user].end() ? 0 : it->second.tags;
}

std::size_t CoOccurrenceModel::UserItemCount(UserIndex user) const {
  return user < users_.size() ? users_[user].size() : 0;
}

void CoOccurrenceModel::ForEachItem(
    UserIndex user, const std::function<void(ItemIndex, double, std::int64_t)>& fn) const {
  if (user >= users_.size()) return;
  for (const auto& [item, a] : users_[user]) fn(item, a.value, a.anchor);
}

std::size_t CoOccurrenceModel::PairCount() const {
  std::size_t n = 0;
  for (const Row& r : rows_) n += r.co.size();
  return n;
}

std::vector<ScoredItem> CoOccurrenceModel::Score(
    const std::vector<std::pair<ItemIndex, double>>& history, std::size_t count,
    const std::function<bool(ItemIndex)>& skip) const {
  Scratch& s = ScratchFor(rows_.size());
  // The default similarity inline (Jaccard cubed); the others through SimilarityOf.
  const bool jaccard3 = params_.kind == SimilarityKind::kJaccard && params_.locality == 3;
  const std::uint32_t* users = item_users_.data();
  auto score_row = [&](ItemIndex i, double weight, const auto& entries) {
    const double cii = users[i];
    for (const auto& [j, cij] : entries) {
      double sim;
      if (jaccard3) {
        const double t = cij / (cii + users[j] - cij);
        sim = t * t * t;
      } else {
        sim = SimilarityOf(params_, cij, cii, users[j]);
      }
      const double contribution = weight * sim;
      if (!s.marked[j]) {
        s.marked[j] = 1;
        s.because[j] = i;
        s.touched.push_back(j);
      }
      s.score[j] += contribution;
      if (contribution > s.best[j] || (contribution == s.best[j] && i < s.because[j])) {
        s.best[j] = contribution;
        s.because[j] = i;
      }
    }
  };
  for (const auto& [i, weight] : history) {
    if (users[i] == 0) continue;
    const Row& row = rows_[i];
    if (params_.neighbours == 0 || row.co.size() <= params_.neighbours) {
      score_row(i, weight, row.co);
    } else {
      score_row(i, weight, *NeighboursOf(i));
    }
  }
  std::vector<ScoredItem> out;
  out.reserve(s.touched.size());
  for (ItemIndex j : s.touched) {
    if (s.score[j] > 0 && !skip(j)) out.push_back(ScoredItem{j, s.score[j], s.because[j]});
    s.score[j] = 0;
    s.best[j] = 0;
    s.because[j] = 0;
    s.marked[j] = 0;
  }
  s.touched.clear();
  KeepBest(out, count);
  return out;
}

std::shared_ptr<const CoOccurrenceModel::Neighbours> CoOccurrenceModel::NeighboursOf(
    ItemIndex i) const {
  const Row& row = rows_[i];
  {
    std::lock_guard<std::mutex> l(*neighbours_mu_);
    const CachedNeighbours& c = neighbours_[i];
    if (c.list != nullptr && c.version == row.version) return c.list;
  }
  // Built outside the lock (two calls may both build it: the same list).
  auto list = std::make_shared<Neighbours>(row.co.begin(), row.co.end());
  auto most = [](const auto& a, const auto& b) {
    return a.second != b.second ? a.second > b.second : a.first < b.first;
  };
  const auto k = static_cast<std::ptrdiff_t>(params_.neighbours);
  std::nth_element(list->begin(), list->begin() + k, list->end(), most);
  list->resize(params_.neighbours);
  // In item order: the scores add up the same way whatever the row's order.
  std::sort(list->begin(), list->end());
  std::lock_guard<std::mutex> l(*neighbours_mu_);
  neighbours_[i] = CachedNeighbours{list, row.version};
  return list;
}

std::vector<ScoredItem> CoOccurrenceModel::Recommend(UserIndex user,
                                                     const RecommendOptions& options) const {
  if (user >= users_.size() || users_[user].empty() || options.count == 0) return {};
  const auto& mine = users_[user];
  std::int64_t now = options.now;
  if (now == 0) {
    for (const auto& [item, a] : mine) now = std::max(now, a.anchor);
  }
  std::vector<std::pair<ItemIndex, double>> history;
  history.reserve(mine.size());
  for (const auto& [item, a] : mine) history.emplace_back(item, Decayed(a, now));
  if (history.size() > options.max_history) {
    auto by_weight = [](const auto& a, const auto& b) {
      return a.second != b.second ? a.second > b.second : a.first < b.first;
    };
    std::nth_element(history.begin(),
                     history.begin() + static_cast<std::ptrdiff_t>(options.max_history),
                     history.end(), by_weight);
    history.resize(options.max_history);
  }
  // Sum in item order: the same history gives bit-identical scores whatever
  // the hash map's iteration order.
  std::sort(history.begin(), history.end());
  return Score(history, options.count, [&](ItemIndex j) {
    if (options.exclude_seen && mine.contains(j)) return true;
    return options.accept && !options.accept(j);
  });
}

std::vector<ScoredItem> CoOccurrenceModel::ForItems(
    const std::vector<ItemIndex>& items, std::size_t count,
    const std::function<bool(ItemIndex)>& accept) const {
  std::vector<std::pair<ItemIndex, double>> history;
  for (ItemIndex i : items) {
    if (i < rows_.size()) history.emplace_back(i, 1.0);
  }
  std::sort(history.begin(), history.end());
  history.erase(std::unique(history.begin(), history.end()), history.end());
  if (history.empty() || count == 0) return {};
  return Score(history, count, [&](ItemIndex j) {
    if (std::binary_search(history.begin(), history.end(), std::make_pair(j, 1.0))) return true;
    return accept && !accept(j);
  });
}

std::vector<ScoredItem> CoOccurrenceModel::Popular(
    std::size_t count, const std::function<bool(ItemIndex)>& accept) const {
  std::vector<ScoredItem> out;
  for (ItemIndex i = 0; i < rows_.size(); ++i) {
    if (item_users_[i] == 0 || (accept && !accept(i))) continue;
    out.push_back(ScoredItem{i, static_cast<double>(item_users_[i]), i});
  }
  KeepBest(out, count);
  return out;
}

bool CoOccurrenceModel::SameCountsAs(const CoOccurrenceModel& other) const {
  const std::size_t n = std::max(rows_.size(), other.rows_.size());
  for (ItemIndex i = 0; i < n; ++i) {
    const Row empty;
    const Row& a = i < rows_.size() ? rows_[i] : empty;
    const Row& b = i < other.rows_.size() ? other.rows_[i] : empty;
    if (ItemUsers(i) != other.ItemUsers(i) || a.co != b.co) return false;
  }
  const std::size_t u = std::max(users_.size(), other.users_.size());
  for (UserIndex x = 0; x < u; ++x) {
    const absl::flat_hash_map<ItemIndex, Decaying> none;
    const auto& a = x < users_.size() ? users_[x] : none;
    const auto& b = x < other.users_.size() ? other.users_[x] : none;
    if (a.size() != b.size()) return false;
    for (const auto& [item, aff] : a) {
      auto it = b.find(item);
      if (it == b.end() || it->second.value != aff.value || it->second.anchor != aff.anchor ||
          it->second.tags != aff.tags) {
        return false;
      }
    }
  }
  return true;
}

}  // namespace crm::personalization::domain
