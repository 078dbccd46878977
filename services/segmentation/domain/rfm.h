#pragma once
// RFM scoring: recency, frequency and monetary value in 5 bins each,
// score = 100·R + 10·F + M (5 = most recent / most frequent / highest spend).
//
// Binning (the convention of the R package `rfm`, reproduced exactly):
//   breakpoints b1..b4 = (20/40/60/80 % quantile, linear interpolation as
//   R's type 7) + 1; a value v falls in bin 1 + #{i : v >= b_i};
//   F and M score = bin; R score = 6 - bin of recency in days.
// Equal values always share a bin, so bins can be unequal in size.
#include <array>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/civil_time.h"

namespace crm::segmentation::domain {

// How ties between customers are binned. One policy is implemented: the one
// above, where equal values share a bin (rank-based binning, which splits ties
// arbitrarily to get equal bins, is not).
enum class RfmTiePolicy { kEqualValuesShareBin };

struct RfmInput {
  std::string customer_id;
  double recency_days = 0;  // analysis date - last order date
  double frequency = 0;     // number of orders
  double monetary = 0;      // sum of revenue
};

using RfmBreakpoints = std::array<double, 4>;

struct RfmScore {
  std::string customer_id;
  int r = 0;
  int f = 0;
  int m = 0;
  int score() const { return 100 * r + 10 * f + m; }
};

struct RfmResult {
  RfmBreakpoints recency{};
  RfmBreakpoints frequency{};
  RfmBreakpoints monetary{};
  std::vector<RfmScore> scores;  // in input order
};

// Linear-interpolation quantile (R type 7) of ascending `sorted` (not empty):
// h = (n-1)·prob, x[floor h] + (h - floor h)·(x[floor h + 1] - x[floor h]).
double QuantileType7(const std::vector<double>& sorted, double prob);
// b_i = type-7 quantile at 20/40/60/80 % + 1.
RfmBreakpoints RfmBreakpointsOf(std::vector<double> values);
// 1 + #{i : v >= b_i}, in 1..5.
int RfmBin(double v, const RfmBreakpoints& b);

// One customer's score against breakpoints already computed (those of a
// ScoreRfm over the population the customer is in): what ScoreRfm gives it.
RfmScore RfmScoreOf(const RfmInput& customer, const RfmResult& breakpoints);

// Scores every customer. INVALID_ARGUMENT for an empty input or a
// non-finite / negative value (INVALID_FIELD naming it).
absl::StatusOr<RfmResult> ScoreRfm(const std::vector<RfmInput>& customers,
                                   RfmTiePolicy ties = RfmTiePolicy::kEqualValuesShareBin);

struct Order {
  std::string customer_id;
  absl::CivilDay day;
  double revenue = 0;
};

// Per customer: recency = analysis_date - last order day (days), frequency =
// number of orders (not merged by day), monetary = sum of revenue; ordered by
// customer_id. INVALID_ARGUMENT for an order after analysis_date or a
// non-finite revenue.
absl::StatusOr<std::vector<RfmInput>> RfmInputsFromOrders(const std::vector<Order>& orders,
                                                          absl::CivilDay analysis_date);

// The named segments, from the scores. Rule table (inclusive score ranges,
// first row that matches wins; a combination no row matches is kOthers):
//
//   segment              R      F      M
//   Champions            4-5    4-5    4-5
//   Loyal                2-5    3-5    3-5
//   New                  4-5    1      1
//   Promising            3-4    1      1
//   Potential loyalist   3-5    1-3    1-3
//   Need attention       2-3    2-3    2-3
//   About to sleep       2-3    1-2    1-2
//   Can't lose them      1      4-5    4-5
//   At risk              1-2    2-5    2-5
//   Lost                 1      1      1
//   Hibernating          1-2    1-2    1-2
//
// The ranges are the ones commonly published for these segment names; the
// order makes each row reachable (e.g. New before Potential loyalist, Can't
// lose them before At risk, Lost before Hibernating).
enum class RfmSegment {
  kChampions,
  kLoyal,
  kNew,
  kPromising,
  kPotentialLoyalist,
  kNeedAttention,
  kAboutToSleep,
  kCantLoseThem,
  kAtRisk,
  kLost,
  kHibernating,
  kOthers,
};

RfmSegment SegmentOf(int r, int f, int m);
absl::string_view SegmentName(RfmSegment segment);

}  // namespace crm::segmentation::domain
