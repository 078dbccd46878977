#pragma once
// Item-to-item recommendations from customer-item co-occurrence (the model
// behind "customers who bought this also bought", Linden, Smith & York 2003;
// scored as in SAR, Microsoft's Smart Adaptive Recommendations): C[i][j] is
// the number of customers who interacted with both i and j (C[i][i]: with i).
// A customer's affinity to an item sums the weights of their interactions
// with it, each halved every `half_life` before the scoring time; a candidate
// j scores sum over the customer's items i of affinity(i) * sim(i, j).
//
// Items and customers are dense indices given by the caller (the service
// interns SKUs and customer ids). The counts are integers, updated in place
// by each interaction: adding a customer's new item touches only that item's
// row and its entry in the rows of the customer's other items, so a model
// fed event by event equals one rebuilt from the same events.
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"

namespace crm::personalization::domain {

using ItemIndex = std::uint32_t;
using UserIndex = std::uint32_t;

// How co-occurrence counts become a similarity. With Cij the pair's count
// and Cii, Cjj the items' own counts (i: what the customer has, j: the
// candidate):
//   kJaccard: Cij / (Cii + Cjj - Cij)
//   kCosine:  Cij / sqrt(Cii * Cjj)
//   kLift:    Cij / (Cii * Cjj)
//   kDamped:  Cij / (Cii^alpha * Cjj^beta); beta damps popular candidates
//             (alpha = beta = 0.5 is kCosine, 1 and 1 is kLift).
enum class SimilarityKind { kJaccard, kCosine, kLift, kDamped };

struct SimilarityParams {
  SimilarityKind kind = SimilarityKind::kJaccard;
  double alpha = 0.5;
  double beta = 0.5;
  // Locality (Aiolli 2013): each similarity is raised to this power before
  // it is summed, so a few strong neighbours outweigh many weak ones.
  double locality = 3;
  // Neighbourhood (item-kNN): an item's score counts only through the
  // `neighbours` items it was bought with most often (most co-occurrences
  // first, then the lower index: a set fixed by the counts alone, so a
  // rebuilt model has the same); 0 = every co-occurring item. With 200 the
  // offline figures are those of every item (docs/personalization.md) and a
  // list costs a few hundred entries per item of the customer, not a
  // popular item's whole row.
  std::size_t neighbours = 200;
};

// A recommended item with its score and the customer's item that contributed
// most to it (the "because you bought X"; for Similar, the item asked about).
struct ScoredItem {
  ItemIndex item = 0;
  double score = 0;
  ItemIndex because = 0;
};

struct RecommendOptions {
  std::size_t count = 10;
  // Unix seconds; affinities decay up to here. 0: the customer's latest
  // interaction, so that scores do not drift with the clock (the order of
  // the list does not depend on it: every affinity decays by the same factor).
  std::int64_t now = 0;
  bool exclude_seen = true;               // leave out what the customer already has
  std::size_t max_history = 200;          // the customer's most affine items used
  std::function<bool(ItemIndex)> accept;  // optional filter (category, active...)
};

class CoOccurrenceModel {
 public:
  // half_life_seconds <= 0: no decay (affinity is the plain sum of weights).
  explicit CoOccurrenceModel(SimilarityParams params = {}, std::int64_t half_life_seconds = 0);

  // Records one interaction; `tags` (caller-defined bits, e.g. "bought") are
  // OR-ed into the pair's. Returns true when the pair (user, item) is new,
  // i.e. when the co-occurrence counts changed.
  bool Add(UserIndex user, ItemIndex item, double weight, std::int64_t time, std::uint8_t tags = 0);

  // Forgets every interaction of `user` (erasure): counts and affinities.
  void RemoveUser(UserIndex user);

  std::uint32_t ItemUsers(ItemIndex item) const;  // Cii
  std::uint32_t CoCount(ItemIndex i, ItemIndex j) const;
  double Similarity(ItemIndex i, ItemIndex j) const;
  // The customer's affinity to `item` at `now` (0 when none).
  double Affinity(UserIndex user, ItemIndex item, std::int64_t now) const;
  bool Has(UserIndex user, ItemIndex item) const;
  std::uint8_t Tags(UserIndex user, ItemIndex item) const;  // 0 when none
  std::size_t UserItemCount(UserIndex user) const;
  // Each item of the customer with its affinity as of its latest
  // interaction (the time passed), in no particular order.
  void ForEachItem(UserIndex user,
                   const std::function<void(ItemIndex, double, std::int64_t)>& fn) const;
  std::size_t ItemCapacity() const { return rows_.size(); }
  std::size_t PairCount() const;  // stored off-diagonal counts (both halves)

  // Top items for the customer, best first (score desc, then item asc).
  // Empty when the customer has no interactions.
  std::vector<ScoredItem> Recommend(UserIndex user, const RecommendOptions& options) const;

  // Top items for a set of items with equal weight (a cart, a product page):
  // the items themselves excluded.
  std::vector<ScoredItem> ForItems(const std::vector<ItemIndex>& items, std::size_t count,
                                   const std::function<bool(ItemIndex)>& accept) const;

  // Items by the number of customers who have them, most first (item asc on
  // ties), skipping what `accept` refuses.
  std::vector<ScoredItem> Popular(std::size_t count,
                                  const std::function<bool(ItemIndex)>& accept) const;

  // Equal counts and affinities (the incremental-vs-rebuild check).
  bool SameCountsAs(const CoOccurrenceModel& other) const;

 private:
  struct Row {
    absl::flat_hash_map<ItemIndex, std::uint32_t> co;  // Cij, j != i
    std::uint64_t version = 0;                         // +1 on every change of co
  };
  // An item's neighbours (params_.neighbours of them) as of its row's
  // version, computed when first needed after a change.
  using Neighbours = std::vector<std::pair<ItemIndex, std::uint32_t>>;
  struct CachedNeighbours {
    std::shared_ptr<const Neighbours> list;
    std::uint64_t version = 0;
  };
  std::shared_ptr<const Neighbours> NeighboursOf(ItemIndex i) const;
  struct Decaying {
    double value = 0;         // decayed to `anchor`
    std::int64_t anchor = 0;  // time of the latest interaction
    std::uint8_t tags = 0;
  };
  double Decayed(const Decaying& a, std::int64_t now) const;
  std::vector<ScoredItem> Score(const std::vector<std::pair<ItemIndex, double>>& history,
                                std::size_t count,
                                const std::function<bool(ItemIndex)>& skip) const;

  SimilarityParams params_;
  std::int64_t half_life_;
  std::vector<Row> rows_;
  // Cii by item, apart from the rows: the scoring loop reads it for every
  // co-occurring item, and a dense array of counts stays in cache.
  std::vector<std::uint32_t> item_users_;
  std::vector<absl::flat_hash_map<ItemIndex, Decaying>> users_;
  // Calls may run concurrently (const); the model's changes may not.
  std::unique_ptr<std::mutex> neighbours_mu_ = std::make_unique<std::mutex>();  // movable model
  mutable std::vector<CachedNeighbours> neighbours_;  // by item, under neighbours_mu_
};

}  // namespace crm::personalization::domain
