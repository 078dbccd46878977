#include "services/personalization/domain/item_similarity.h"

#include <catch2/catch.hpp>
#include <cmath>
#include <random>
#include <tuple>
#include <vector>

namespace {

using crm::personalization::domain::CoOccurrenceModel;
using crm::personalization::domain::ItemIndex;
using crm::personalization::domain::RecommendOptions;
using crm::personalization::domain::ScoredItem;
using crm::personalization::domain::SimilarityKind;
using crm::personalization::domain::SimilarityParams;

constexpr std::int64_t kDay = 86400;

SimilarityParams Plain(SimilarityKind kind) {
  SimilarityParams p;
  p.kind = kind;
  p.locality = 1;
  return p;
}

std::vector<ItemIndex> Items(const std::vector<ScoredItem>& s) {
  std::vector<ItemIndex> out;
  for (const auto& x : s) out.push_back(x.item);
  return out;
}

// Users 0..2: 0 has {0, 1, 2}, 1 has {0, 1}, 2 has {1, 3}.
CoOccurrenceModel Small(SimilarityParams p) {
  CoOccurrenceModel m(p);
  m.Add(0, 0, 1, 10);
  m.Add(0, 1, 1, 10);
  m.Add(0, 2, 1, 10);
  m.Add(1, 0, 1, 10);
  m.Add(1, 1, 1, 10);
  m.Add(2, 1, 1, 10);
  m.Add(2, 3, 1, 10);
  return m;
}

}  // namespace

TEST_CASE("Co-occurrence counts customers per item and per pair") {
  CoOccurrenceModel m = Small(Plain(SimilarityKind::kJaccard));
  CHECK(m.ItemUsers(0) == 2);
  CHECK(m.ItemUsers(1) == 3);
  CHECK(m.ItemUsers(3) == 1);
  CHECK(m.CoCount(0, 1) == 2);
  CHECK(m.CoCount(1, 0) == 2);
  CHECK(m.CoCount(1, 3) == 1);
  CHECK(m.CoCount(0, 3) == 0);
  CHECK(m.CoCount(1, 1) == 3);
  CHECK(m.PairCount() == 8);  // (0,1) (0,2) (1,2) (1,3), both halves
  // A repeated purchase adds affinity, not co-occurrence.
  CHECK_FALSE(m.Add(1, 0, 1, 20));
  CHECK(m.CoCount(0, 1) == 2);
  CHECK(m.Add(1, 3, 1, 20, 2));
  CHECK(m.CoCount(0, 3) == 1);
  // Tags gather by OR.
  CHECK(m.Tags(1, 3) == 2);
  m.Add(1, 3, 1, 21, 1);
  CHECK(m.Tags(1, 3) == 3);
  CHECK(m.Tags(1, 2) == 0);
  CHECK(m.Tags(99, 0) == 0);
}

TEST_CASE("Similarity kinds follow their formulas") {
  // C01 = 2, C00 = 2, C11 = 3.
  CHECK(Small(Plain(SimilarityKind::kJaccard)).Similarity(0, 1) == Approx(2.0 / 3.0));
  CHECK(Small(Plain(SimilarityKind::kCosine)).Similarity(0, 1) == Approx(2.0 / std::sqrt(6.0)));
  CHECK(Small(Plain(SimilarityKind::kLift)).Similarity(0, 1) == Approx(2.0 / 6.0));
  SimilarityParams damped = Plain(SimilarityKind::kDamped);
  damped.alpha = 1;
  damped.beta = 0;
  CHECK(Small(damped).Similarity(0, 1) == Approx(1.0));  // P(1 | 0)
  CHECK(Small(damped).Similarity(1, 0) == Approx(2.0 / 3.0));
  SimilarityParams local = Plain(SimilarityKind::kJaccard);
  local.locality = 3;
  CHECK(Small(local).Similarity(0, 1) == Approx(8.0 / 27.0));
  CHECK(Small(local).Similarity(0, 3) == 0);
}

TEST_CASE("Recommend scores unseen items by the customer's items and names the strongest") {
  CoOccurrenceModel m = Small(Plain(SimilarityKind::kJaccard));
  RecommendOptions o;
  o.now = 10;
  // User 1 has {0, 1}: item 2 (with 0: 1/2, with 1: 1/3) and item 3 (with 1: 1/3).
  auto r = m.Recommend(1, o);
  REQUIRE(r.size() == 2);
  CHECK(r[0].item == 2);
  CHECK(r[0].score == Approx(0.5 + 1.0 / 3.0));
  CHECK(r[0].because == 0);
  CHECK(r[1].item == 3);
  CHECK(r[1].score == Approx(1.0 / 3.0));
  CHECK(r[1].because == 1);

  o.exclude_seen = false;
  CHECK(m.Recommend(1, o).size() == 4);
  o.exclude_seen = true;
  o.accept = [](ItemIndex i) { return i != 2; };
  CHECK(Items(m.Recommend(1, o)) == std::vector<ItemIndex>{3});
  o.accept = nullptr;
  o.count = 1;
  CHECK(Items(m.Recommend(1, o)) == std::vector<ItemIndex>{2});
  CHECK(m.Recommend(99, o).empty());  // unknown customer: the caller falls back
}

TEST_CASE("Affinity decays by half each half-life and weighs the customer's items") {
  CoOccurrenceModel m(Plain(SimilarityKind::kJaccard), 10 * kDay);
  m.Add(0, 0, 2, 0);
  CHECK(m.Affinity(0, 0, 10 * kDay) == Approx(1.0));
  CHECK(m.Affinity(0, 0, 20 * kDay) == Approx(0.5));
  m.Add(0, 0, 1, 10 * kDay);  // 1 left + 1
  CHECK(m.Affinity(0, 0, 10 * kDay) == Approx(2.0));
  m.Add(0, 0, 4, 0);  // late event: decayed to the anchor
  CHECK(m.Affinity(0, 0, 10 * kDay) == Approx(4.0));

  // Two histories: a recent item's neighbours outrank an old item's.
  CoOccurrenceModel d(Plain(SimilarityKind::kJaccard), 10 * kDay);
  d.Add(1, 0, 1, 0);
  d.Add(1, 10, 1, 0);
  d.Add(2, 1, 1, 0);
  d.Add(2, 11, 1, 0);
  d.Add(3, 0, 1, 0);          // customer 3: item 0 long ago
  d.Add(3, 1, 1, 40 * kDay);  // and item 1 lately
  RecommendOptions o;
  o.now = 40 * kDay;
  auto r = d.Recommend(3, o);
  REQUIRE(r.size() == 2);
  CHECK(r[0].item == 11);
  CHECK(r[0].because == 1);
  CHECK(r[1].item == 10);
}

TEST_CASE("ForItems ranks what goes with a cart and Popular what most customers have") {
  CoOccurrenceModel m = Small(Plain(SimilarityKind::kJaccard));
  auto cart = m.ForItems({0, 0, 2}, 10, nullptr);
  CHECK(Items(cart) == std::vector<ItemIndex>{1});
  CHECK(m.ForItems({}, 10, nullptr).empty());
  CHECK(m.ForItems({42}, 10, nullptr).empty());
  // 1 (3 customers), 0 (2), then 2 and 3 (1 each: index order).
  CHECK(Items(m.Popular(10, nullptr)) == std::vector<ItemIndex>{1, 0, 2, 3});
  CHECK(Items(m.Popular(2, [](ItemIndex i) { return i != 1; })) == std::vector<ItemIndex>{0, 2});
}

TEST_CASE("RemoveUser takes the customer out of every count") {
  CoOccurrenceModel with = Small(Plain(SimilarityKind::kJaccard));
  with.Add(7, 0, 1, 5);
  with.Add(7, 3, 1, 5);
  with.Add(7, 5, 1, 5);
  with.RemoveUser(7);
  CHECK(with.SameCountsAs(Small(Plain(SimilarityKind::kJaccard))));
  CHECK(with.UserItemCount(7) == 0);
  CHECK(with.CoCount(0, 5) == 0);
  with.RemoveUser(7);   // twice: nothing
  with.RemoveUser(99);  // unknown: nothing
  CHECK(with.SameCountsAs(Small(Plain(SimilarityKind::kJaccard))));
}

TEST_CASE("A model fed event by event equals one rebuilt from the same events") {
  std::mt19937_64 rng(7);
  std::vector<std::tuple<std::uint32_t, std::uint32_t, std::int64_t>> events;
  for (int e = 0; e < 4000; ++e) {
    // Skewed items: popular ones co-occur with much.
    const auto item = static_cast<std::uint32_t>(std::min<std::uint64_t>(rng() % 300, rng() % 300));
    events.emplace_back(static_cast<std::uint32_t>(rng() % 200), item,
                        static_cast<std::int64_t>(e) * 3600);
  }
  SimilarityParams p;  // the defaults: Jaccard with locality
  CoOccurrenceModel live(p, 30 * kDay);
  RecommendOptions o;
  o.now = static_cast<std::int64_t>(events.size()) * 3600;
  std::vector<std::vector<ScoredItem>> answers_mid;
  for (std::size_t e = 0; e < events.size(); ++e) {
    const auto& [u, i, t] = events[e];
    // An order touches only its items' rows: the others keep their counts.
    const std::uint32_t before_other = live.CoCount(299, 298);
    live.Add(u, i, 1, t);
    if (i != 299 && i != 298) CHECK(live.CoCount(299, 298) == before_other);
    if (e % 500 == 0) answers_mid.push_back(live.Recommend(u, o));
  }
  CoOccurrenceModel rebuilt(p, 30 * kDay);
  for (const auto& [u, i, t] : events) rebuilt.Add(u, i, 1, t);
  CHECK(live.SameCountsAs(rebuilt));
  for (std::uint32_t u = 0; u < 200; ++u) {
    const auto a = live.Recommend(u, o);
    const auto b = rebuilt.Recommend(u, o);
    REQUIRE(a.size() == b.size());
    for (std::size_t k = 0; k < a.size(); ++k) {
      CHECK(a[k].item == b[k].item);
      CHECK(a[k].score == b[k].score);  // bit-identical
      CHECK(a[k].because == b[k].because);
    }
  }
  CHECK_FALSE(answers_mid.empty());
}

TEST_CASE("Counts stay right through many additions and removals") {
  std::mt19937_64 rng(5);
  CoOccurrenceModel kept;
  CoOccurrenceModel with_gone;
  for (int e = 0; e < 6000; ++e) {
    const auto user = static_cast<std::uint32_t>(rng() % 300);
    const auto item = static_cast<std::uint32_t>(std::min(rng() % 120, rng() % 120));
    with_gone.Add(user, item, 1, e);
    if (user % 3 != 0) kept.Add(user, item, 1, e);
  }
  for (std::uint32_t u = 0; u < 300; u += 3) with_gone.RemoveUser(u);
  CHECK(with_gone.SameCountsAs(kept));
  for (ItemIndex i = 0; i < 120; ++i) {
    for (ItemIndex j = 0; j < 120; ++j) CHECK(with_gone.CoCount(i, j) == kept.CoCount(i, j));
  }
  RecommendOptions o;
  for (std::uint32_t u = 1; u < 300; u += 3) {
    CHECK(Items(with_gone.Recommend(u, o)) == Items(kept.Recommend(u, o)));
  }
}

TEST_CASE("Neighbourhoods keep each item's most co-occurring items, ties by index") {
  SimilarityParams p;
  p.locality = 1;
  p.neighbours = 2;
  CoOccurrenceModel m(p);
  // Item 0 with 1 (three customers), 2 and 3 (one each), 4 (two).
  m.Add(0, 0, 1, 1);
  m.Add(0, 1, 1, 1);
  m.Add(1, 0, 1, 1);
  m.Add(1, 1, 1, 1);
  m.Add(1, 4, 1, 1);
  m.Add(2, 0, 1, 1);
  m.Add(2, 1, 1, 1);
  m.Add(2, 4, 1, 1);
  m.Add(3, 0, 1, 1);
  m.Add(3, 2, 1, 1);
  m.Add(4, 0, 1, 1);
  m.Add(4, 3, 1, 1);
  // Item 0's row: 1 (3), 4 (2), 2 (1), 3 (1): its neighbours are 1 and 4.
  CHECK(Items(m.ForItems({0}, 10, nullptr)) == std::vector<ItemIndex>{1, 4});
  // A change of the row is seen at once: 3 now co-occurs twice, 4 too (tie: 3 < 4).
  m.Add(5, 0, 1, 2);
  m.Add(5, 3, 1, 2);
  CHECK(Items(m.ForItems({0}, 10, nullptr)) == std::vector<ItemIndex>{1, 3});
  // The same counts built in another order give the same neighbours.
  CoOccurrenceModel again(p);
  again.Add(5, 3, 1, 2);
  again.Add(5, 0, 1, 2);
  for (auto [u, i] : std::vector<std::pair<std::uint32_t, ItemIndex>>{{4, 3},
                                                                      {4, 0},
                                                                      {3, 2},
                                                                      {3, 0},
                                                                      {2, 4},
                                                                      {2, 1},
                                                                      {2, 0},
                                                                      {1, 4},
                                                                      {1, 1},
                                                                      {1, 0},
                                                                      {0, 1},
                                                                      {0, 0}}) {
    again.Add(u, i, 1, 1);
  }
  CHECK(Items(again.ForItems({0}, 10, nullptr)) == std::vector<ItemIndex>{1, 3});
  // Without a neighbourhood every co-occurring item counts.
  p.neighbours = 0;
  CoOccurrenceModel all(p);
  all.Add(0, 0, 1, 1);
  all.Add(0, 1, 1, 1);
  all.Add(0, 2, 1, 1);
  all.Add(0, 3, 1, 1);
  CHECK(all.ForItems({0}, 10, nullptr).size() == 3);
}
