// Calibration / holdout tracking on CDNOW: calibration to 1997-09-30,
// holdout to 1998-06-30 (39 weeks).
#include "services/segmentation/domain/holdout.h"

#include <catch2/catch.hpp>
#include <chrono>
#include <cmath>

#include "tests/unit/segmentation/reference_data.h"

namespace {

using namespace crm::segmentation::domain;  // NOLINT

TEST_CASE("BG/NBD tracks CDNOW's holdout repeat purchases") {
  std::vector<CustomerSummary> customers = crm::segmentation::testing::CdnowSummaries();
  auto start = std::chrono::steady_clock::now();
  absl::StatusOr<HoldoutEvaluation> e = EvaluateHoldout(customers, 39, 1.0);
  const double ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
  INFO(e.status());
  REQUIRE(e.ok());
  REQUIRE(e->points.size() == 39);
  const HoldoutPoint& last = e->points.back();
  WARN("holdout week 39: expected "
       << last.expected_cumulative << ", actual " << last.actual_cumulative << "; MAPE "
       << e->mean_absolute_percentage_error << ", final error " << e->final_relative_error << " ("
       << ms << " ms)");
  CHECK(last.actual_cumulative == 1882);  // every holdout purchase day counted by week 39
  CHECK(last.t == 39.0);
  double prev_expected = 0;
  double prev_actual = 0;
  for (const HoldoutPoint& p : e->points) {
    CHECK(p.expected_cumulative > prev_expected);
    CHECK(p.actual_cumulative >= prev_actual);
    prev_expected = p.expected_cumulative;
    prev_actual = p.actual_cumulative;
  }
  // Regression figures computed here (no published total to compare with):
  // the cohort's conditional expectation over the 39 holdout weeks is
  // 1,653.4 repeat purchase days against 1,882 made, about 12 % short (the
  // unconditional curve, Σ_i E[X(T_i + 39)] - E[X(T_i)], gives 1,666.7, so the
  // shortfall is the model's, not the conditional formula's).
  CHECK_THAT(last.expected_cumulative, Catch::Matchers::WithinAbs(1653.4, 0.5));
  CHECK_THAT(e->final_relative_error, Catch::Matchers::WithinAbs(-0.1215, 0.001));
  CHECK_THAT(e->mean_absolute_percentage_error, Catch::Matchers::WithinAbs(0.1188, 0.001));
}

TEST_CASE("Holdout evaluation refuses bad periods") {
  CHECK(absl::IsInvalidArgument(EvaluateHoldout({}, 0, 1.0).status()));
  CHECK(absl::IsInvalidArgument(EvaluateHoldout({}, 3, -1.0).status()));
  CHECK(absl::IsFailedPrecondition(EvaluateHoldout({}, 3, 1.0).status()));  // too little data
}

}  // namespace
