#pragma once
// A customer's scores from the tenant's lifetime-value model: P(alive),
// churn risk, expected purchases and spend, discounted CLV.
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "services/segmentation/domain/clv.h"
#include "services/segmentation/domain/clv_model.h"
#include "services/segmentation/domain/summary.h"

namespace crm::segmentation::domain {

struct ScoreOptions {
  // Horizon of expected_purchases, in the model's time unit; 0 = one year
  // (52 weeks or 365 days).
  double horizon = 0;
  // 12 monthly periods at 1 % per period; period_length 0 = a month in the
  // model's unit (52/12 weeks or 365/12 days).
  ClvOptions clv{12, 0, 0.01};
};

struct ModelScores {
  double p_alive = 0;
  double churn_risk = 0;          // 1 - p_alive
  double expected_purchases = 0;  // purchase days in (as_of, as_of + horizon]
  double horizon = 0;             // model units
  double expected_spend = 0;      // per future purchase day (Gamma-Gamma)
  double clv = 0;                 // discounted, in the model's currency
};

// The scores of a customer whose summary at the scores' as_of is `s`
// (summarized in the model's unit). Spend of a customer without a repeat
// purchase is the population mean (Gamma-Gamma with x = 0).
absl::StatusOr<ModelScores> ScoreCustomer(const ClvModel& model, const CustomerSummary& s,
                                          const ScoreOptions& options = {});

}  // namespace crm::segmentation::domain
