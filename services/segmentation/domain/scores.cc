#include "services/segmentation/domain/scores.h"

#include "libs/common/status_macros.h"

namespace crm::segmentation::domain {

absl::StatusOr<ModelScores> ScoreCustomer(const ClvModel& model, const CustomerSummary& s,
                                          const ScoreOptions& options) {
  const bool weeks = model.unit == TimeUnit::kWeeks;
  const FrequencyRecency fr{static_cast<double>(s.x), s.t_x, s.T};
  ModelScores out;
  out.horizon = options.horizon > 0 ? options.horizon : (weeks ? 52.0 : 365.0);
  CRM_ASSIGN_OR_RETURN(out.p_alive, BgNbdProbabilityAlive(model.purchases.params, fr));
  out.churn_risk = 1 - out.p_alive;
  CRM_ASSIGN_OR_RETURN(out.expected_purchases,
                       BgNbdConditionalExpectedPurchases(model.purchases.params, fr, out.horizon));
  CRM_ASSIGN_OR_RETURN(out.expected_spend, GammaGammaExpectedSpend(model.spend.params, s.x, s.m_x));
  ClvOptions clv = options.clv;
  if (clv.period_length <= 0) clv.period_length = weeks ? 52.0 / 12 : 365.0 / 12;
  CRM_ASSIGN_OR_RETURN(
      out.clv, CustomerLifetimeValue(model.purchases.params, model.spend.params, fr, s.m_x, clv));
  return out;
}

}  // namespace crm::segmentation::domain
