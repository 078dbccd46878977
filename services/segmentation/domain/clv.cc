#include "services/segmentation/domain/clv.h"

#include <cmath>

#include "libs/common/errors.h"
#include "libs/common/status_macros.h"
#include "services/segmentation/domain/model_support.h"

namespace crm::segmentation::domain {

absl::StatusOr<double> DiscountedValue(
    const std::function<absl::StatusOr<double>(double)>& cumulative_purchases,
    double expected_spend, const ClvOptions& options) {
  CRM_RETURN_IF_ERROR(CheckFinite(expected_spend, "expected_spend"));
  CRM_RETURN_IF_ERROR(CheckFinite(options.period_length, "options.period_length"));
  CRM_RETURN_IF_ERROR(CheckFinite(options.discount_rate, "options.discount_rate"));
  if (options.periods < 1) return common::InvalidField("options.periods", "periods must be >= 1");
  if (!(options.period_length > 0)) {
    return common::InvalidField("options.period_length", "period_length must be > 0");
  }
  if (options.discount_rate < 0) {
    return common::InvalidField("options.discount_rate", "discount_rate must be >= 0");
  }
  CRM_ASSIGN_OR_RETURN(double previous, cumulative_purchases(0));
  double value = 0;
  double discount = 1;
  for (int k = 1; k <= options.periods; ++k) {
    CRM_ASSIGN_OR_RETURN(double now, cumulative_purchases(k * options.period_length));
    discount /= 1 + options.discount_rate;
    value += (now - previous) * discount;
    previous = now;
  }
  return expected_spend * value;
}

absl::StatusOr<double> CustomerLifetimeValue(const BgNbdParams& purchases,
                                             const GammaGammaParams& spend,
                                             const FrequencyRecency& customer, double m_x,
                                             const ClvOptions& options) {
  CRM_ASSIGN_OR_RETURN(double z, GammaGammaExpectedSpend(spend, customer.x, m_x));
  return DiscountedValue(
      [&](double t) { return BgNbdConditionalExpectedPurchases(purchases, customer, t); }, z,
      options);
}

}  // namespace crm::segmentation::domain
