#include "services/personalization/domain/rec_eval.h"

#include <catch2/catch.hpp>
#include <cmath>
#include <vector>

namespace {

using crm::personalization::domain::DistinctPairs;
using crm::personalization::domain::Interaction;
using crm::personalization::domain::ItemIndex;
using crm::personalization::domain::MetricsAccumulator;
using crm::personalization::domain::SplitPerUser;

Interaction Row(std::uint32_t u, std::uint32_t i, double rating, std::int64_t t) {
  Interaction r;
  r.user = u;
  r.item = i;
  r.rating = rating;
  r.time = t;
  return r;
}

}  // namespace

TEST_CASE("DistinctPairs keeps one interaction per user and item") {
  auto p = DistinctPairs({Row(2, 5, 1, 30), Row(1, 4, 2, 10), Row(2, 5, 3, 20), Row(1, 3, 1, 5)});
  REQUIRE(p.size() == 3);
  CHECK(p[0].user == 1);
  CHECK(p[0].item == 3);
  CHECK(p[1].item == 4);
  CHECK(p[2].user == 2);
  CHECK(p[2].rating == 4);
  CHECK(p[2].rows == 2);
  CHECK(p[2].time == 30);
}

TEST_CASE("SplitPerUser sends three quarters of each user's items to training, reproducibly") {
  std::vector<Interaction> rows;
  for (std::uint32_t i = 0; i < 8; ++i) rows.push_back(Row(0, i, 1, i));  // 8 -> 6 + 2
  rows.push_back(Row(1, 0, 1, 0));                                        // 1 -> 1 + 0
  for (std::uint32_t i = 0; i < 2; ++i) rows.push_back(Row(2, i, 1, i));  // 2 -> 2 (1.5 rounds up)
  for (std::uint32_t i = 0; i < 3; ++i) rows.push_back(Row(3, i, 1, i));  // 3 -> 2 + 1
  auto pairs = DistinctPairs(rows);
  auto a = SplitPerUser(pairs, 0.75, 42);
  auto b = SplitPerUser(pairs, 0.75, 42);
  auto count = [](const std::vector<Interaction>& v, std::uint32_t u) {
    return std::count_if(v.begin(), v.end(), [&](const Interaction& r) { return r.user == u; });
  };
  CHECK(count(a.train, 0) == 6);
  CHECK(count(a.test, 0) == 2);
  CHECK(count(a.train, 1) == 1);
  CHECK(count(a.test, 1) == 0);
  CHECK(count(a.train, 2) == 2);
  CHECK(count(a.train, 3) == 2);
  CHECK(count(a.test, 3) == 1);
  REQUIRE(a.test.size() == b.test.size());
  for (std::size_t k = 0; k < a.test.size(); ++k) CHECK(a.test[k].item == b.test[k].item);
  // Another seed draws another split of user 0's eight items (some seed does).
  bool differs = false;
  for (std::uint64_t seed = 1; seed < 20 && !differs; ++seed) {
    auto c = SplitPerUser(pairs, 0.75, seed);
    for (std::size_t k = 0; k < c.test.size(); ++k) differs |= c.test[k].item != a.test[k].item;
  }
  CHECK(differs);
}

TEST_CASE("Ranking metrics at k match a hand computation") {
  MetricsAccumulator m(4);
  // Relevant {1, 3, 9}; ranked 1, 2, 3, 4: hits at ranks 1 and 3.
  m.Add({1, 2, 3, 4}, {1, 3, 9});
  // Relevant {7}; ranked 5, 7: hit at rank 2 (a short list).
  m.Add({5, 7}, {7});
  m.Add({5, 7}, {});  // no relevant item: not counted
  auto r = m.Result();
  CHECK(r.users == 2);
  CHECK(r.precision == Approx((2.0 / 4 + 1.0 / 4) / 2));
  CHECK(r.recall == Approx((2.0 / 3 + 1.0) / 2));
  const double dcg1 = 1 + 1 / std::log2(4.0);
  const double idcg1 = 1 + 1 / std::log2(3.0) + 1 / std::log2(4.0);
  const double ndcg2 = (1 / std::log2(3.0)) / 1.0;
  CHECK(r.ndcg == Approx((dcg1 / idcg1 + ndcg2) / 2));
  // MAP: (1/1 + 2/3) / min(4, 3); (1/2) / 1.
  CHECK(r.map == Approx(((1 + 2.0 / 3) / 3 + 0.5) / 2));
  CHECK(m.DistinctRecommended() == 6);
}
