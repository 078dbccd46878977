// RFM scores on rfm_data_orders.csv (the R package `rfm`'s convention and
// figures, README of the shared data) and the named segments' rule table.
#include "services/segmentation/domain/rfm.h"

#include <catch2/catch.hpp>
#include <limits>
#include <map>
#include <set>
#include <vector>

#include "libs/common/errors.h"
#include "tests/unit/segmentation/reference_data.h"

namespace {

using crm::common::FieldOf;
using namespace crm::segmentation::domain;  // NOLINT
using Catch::Matchers::WithinAbs;

RfmResult ScoreReference() {
  absl::StatusOr<std::vector<RfmInput>> inputs = RfmInputsFromOrders(
      crm::segmentation::testing::LoadRfmOrders(), absl::CivilDay(2006, 12, 31));
  REQUIRE(inputs.ok());
  REQUIRE(inputs->size() == 995);
  absl::StatusOr<RfmResult> result = ScoreRfm(*inputs);
  REQUIRE(result.ok());
  return *result;
}

TEST_CASE("RFM breakpoints on rfm_data_orders.csv") {
  RfmResult r = ScoreReference();
  const RfmBreakpoints recency = {115, 181, 297.4, 482};
  const RfmBreakpoints frequency = {4, 5, 6, 8};
  const RfmBreakpoints monetary = {255.8, 382, 506.4, 666};
  for (int i = 0; i < 4; ++i) {
    CHECK_THAT(r.recency[i], WithinAbs(recency[i], 1e-9));
    CHECK_THAT(r.frequency[i], WithinAbs(frequency[i], 1e-9));
    CHECK_THAT(r.monetary[i], WithinAbs(monetary[i], 1e-9));
  }
}

TEST_CASE("RFM scores of the named customers and the unequal F bins") {
  RfmResult r = ScoreReference();
  std::map<std::string, int> score;
  std::map<int, int> f_bins;
  for (const RfmScore& s : r.scores) {
    score[s.customer_id] = s.score();
    ++f_bins[s.f];
  }
  CHECK(score["Abbey O'Reilly"] == 343);
  CHECK(score["Add Senger"] == 412);
  CHECK(score["Aden Lesch"] == 323);
  CHECK(score["Aden Murphy"] == 544);
  CHECK(score["Admiral Senger"] == 433);
  CHECK(f_bins == std::map<int, int>{{1, 268}, {2, 187}, {3, 176}, {4, 244}, {5, 120}});
}

TEST_CASE("Type-7 quantiles and binning: equal values share a bin") {
  CHECK(QuantileType7({1, 2, 3, 4, 5}, 0.2) == 1.8);
  CHECK(QuantileType7({7}, 0.8) == 7);
  CHECK(QuantileType7({1, 3}, 1.0) == 3);
  // Many ties: every 2 lands in one bin, whatever its rank.
  RfmBreakpoints b = RfmBreakpointsOf({1, 2, 2, 2, 2, 2, 2, 2, 3, 9});
  std::set<int> bins_of_two;
  for (int i = 0; i < 7; ++i) bins_of_two.insert(RfmBin(2, b));
  CHECK(bins_of_two.size() == 1);
  // 1 + #{i : v >= b_i}: a value equal to a breakpoint goes up.
  CHECK(RfmBin(4, {4, 5, 6, 8}) == 2);
  CHECK(RfmBin(3.99, {4, 5, 6, 8}) == 1);
  CHECK(RfmBin(100, {4, 5, 6, 8}) == 5);
}

TEST_CASE("Recency scores are reversed: recent customers score 5") {
  std::vector<RfmInput> in;
  for (int i = 0; i < 10; ++i) in.push_back({std::to_string(i), 10.0 * i, 1, 1});
  RfmResult r = *ScoreRfm(in);
  CHECK(r.scores.front().r == 5);
  CHECK(r.scores.back().r == 1);
  CHECK(r.scores.front().customer_id == "0");  // input order kept
}

TEST_CASE("RFM segments follow the rule table, first match wins") {
  CHECK(SegmentOf(5, 5, 5) == RfmSegment::kChampions);
  CHECK(SegmentOf(4, 4, 4) == RfmSegment::kChampions);
  CHECK(SegmentOf(3, 4, 4) == RfmSegment::kLoyal);
  CHECK(SegmentOf(2, 3, 3) == RfmSegment::kLoyal);
  CHECK(SegmentOf(5, 1, 1) == RfmSegment::kNew);
  CHECK(SegmentOf(3, 1, 1) == RfmSegment::kPromising);
  CHECK(SegmentOf(5, 2, 3) == RfmSegment::kPotentialLoyalist);
  CHECK(SegmentOf(2, 2, 3) == RfmSegment::kNeedAttention);
  CHECK(SegmentOf(2, 1, 2) == RfmSegment::kAboutToSleep);
  CHECK(SegmentOf(1, 5, 4) == RfmSegment::kCantLoseThem);
  CHECK(SegmentOf(1, 3, 2) == RfmSegment::kAtRisk);
  CHECK(SegmentOf(2, 5, 2) == RfmSegment::kAtRisk);
  CHECK(SegmentOf(1, 1, 1) == RfmSegment::kLost);
  CHECK(SegmentOf(1, 2, 1) == RfmSegment::kHibernating);
  CHECK(SegmentOf(5, 1, 5) == RfmSegment::kOthers);
  // Every named segment is reachable from some score.
  std::set<RfmSegment> seen;
  for (int r = 1; r <= 5; ++r) {
    for (int f = 1; f <= 5; ++f) {
      for (int m = 1; m <= 5; ++m) seen.insert(SegmentOf(r, f, m));
    }
  }
  CHECK(seen.size() == 12);
  CHECK(SegmentName(RfmSegment::kCantLoseThem) == "Can't lose them");
  CHECK(SegmentName(RfmSegment::kPotentialLoyalist) == "Potential loyalist");
}

TEST_CASE("RFM refuses empty, non-finite and future input") {
  CHECK(absl::IsInvalidArgument(ScoreRfm({}).status()));
  const double nan = std::numeric_limits<double>::quiet_NaN();
  absl::StatusOr<RfmResult> r = ScoreRfm({{"a", 1, 1, 1}, {"b", 1, 1, nan}});
  REQUIRE(absl::IsInvalidArgument(r.status()));
  CHECK(FieldOf(r.status()) == "customers[1].monetary");
  CHECK(FieldOf(ScoreRfm({{"a", -1, 1, 1}}).status()) == "customers[0].recency_days");
  absl::StatusOr<std::vector<RfmInput>> in =
      RfmInputsFromOrders({{"a", absl::CivilDay(2007, 1, 1), 5}}, absl::CivilDay(2006, 12, 31));
  CHECK(FieldOf(in.status()) == "orders[0].day");
}

}  // namespace
