#pragma once
// Calibration / holdout check of BG/NBD: fit on the calibration summaries,
// then compare, week by week of the holdout, the expected cumulative repeat
// purchases of the cohort, Σ_i E[Y(t) | x_i, t_x_i, T_i], with the purchase
// days actually made in (calibration end, calibration end + t].
#include <vector>

#include "absl/status/statusor.h"
#include "services/segmentation/domain/bgnbd.h"
#include "services/segmentation/domain/summary.h"

namespace crm::segmentation::domain {

struct HoldoutPoint {
  double t = 0;  // time since calibration end (summary unit)
  double expected_cumulative = 0;
  double actual_cumulative = 0;
};

struct HoldoutEvaluation {
  BgNbdFit fit;
  std::vector<HoldoutPoint> points;  // one per period, t = Δ, 2Δ, ..., KΔ
  // Mean over the points of |expected - actual| / actual (points with
  // actual = 0 skipped), and (expected - actual) / actual at the end.
  double mean_absolute_percentage_error = 0;
  double final_relative_error = 0;
};

// `customers` from SummarizeAll with a holdout_end; `periods` points of
// length `period_length` (e.g. 39 periods of 1 week for CDNOW).
absl::StatusOr<HoldoutEvaluation> EvaluateHoldout(const std::vector<CustomerSummary>& customers,
                                                  int periods, double period_length,
                                                  const FitOptions& options = {});

}  // namespace crm::segmentation::domain
