#include "services/segmentation/domain/holdout.h"

#include <algorithm>
#include <cmath>

#include "libs/common/errors.h"
#include "libs/common/status_macros.h"

namespace crm::segmentation::domain {

absl::StatusOr<HoldoutEvaluation> EvaluateHoldout(const std::vector<CustomerSummary>& customers,
                                                  int periods, double period_length,
                                                  const FitOptions& options) {
  if (periods < 1) return common::InvalidField("periods", "periods must be >= 1");
  if (!(period_length > 0) || !std::isfinite(period_length)) {
    return common::InvalidField("period_length", "period_length must be a finite number > 0");
  }
  std::vector<FrequencyRecency> calibration;
  calibration.reserve(customers.size());
  for (const CustomerSummary& c : customers) {
    calibration.push_back({static_cast<double>(c.x), c.t_x, c.T});
  }
  HoldoutEvaluation out;
  CRM_ASSIGN_OR_RETURN(out.fit, FitBgNbd(calibration, options));
  out.points.resize(periods);
  for (int k = 0; k < periods; ++k) out.points[k].t = (k + 1) * period_length;
  for (size_t i = 0; i < customers.size(); ++i) {
    const std::vector<double>& times = customers[i].holdout_purchase_times;
    for (HoldoutPoint& p : out.points) {
      CRM_ASSIGN_OR_RETURN(double e,
                           BgNbdConditionalExpectedPurchases(out.fit.params, calibration[i], p.t));
      p.expected_cumulative += e;
      // A tiny tolerance: t = k·Δ in floating point vs day/7 of the summary.
      p.actual_cumulative += static_cast<double>(
          std::upper_bound(times.begin(), times.end(), p.t + 1e-9) - times.begin());
    }
  }
  int counted = 0;
  for (const HoldoutPoint& p : out.points) {
    if (p.actual_cumulative > 0) {
      out.mean_absolute_percentage_error +=
          std::abs(p.expected_cumulative - p.actual_cumulative) / p.actual_cumulative;
      ++counted;
    }
  }
  if (counted > 0) out.mean_absolute_percentage_error /= counted;
  const HoldoutPoint& last = out.points.back();
  if (last.actual_cumulative > 0) {
    out.final_relative_error =
        (last.expected_cumulative - last.actual_cumulative) / last.actual_cumulative;
  }
  return out;
}

}  // namespace crm::segmentation::domain
