#pragma once
// Discounted customer lifetime value from BG/NBD (how many purchases) and
// Gamma-Gamma (how much each one is worth). The standard discrete
// approximation: split the horizon into K periods of length Δ (model time
// unit, e.g. weeks) and discount each period's expected purchases at its end,
//
//   CLV = E[Z | x, m_x] · Σ_{k=1..K} (E[Y(kΔ)] - E[Y((k-1)Δ)]) / (1 + d)^k,
//
// where E[Y(t)] = E[Y(t) | x, t_x, T] is the BG/NBD conditional expectation
// of purchases in (T, T + t] and d is the discount rate per period (a yearly
// rate D over monthly periods is d = (1 + D)^(1/12) - 1). Spend and purchase
// counts are independent in the Gamma-Gamma model, so the product of the two
// expectations is the expected revenue.
#include <functional>

#include "absl/status/statusor.h"
#include "services/segmentation/domain/bgnbd.h"
#include "services/segmentation/domain/gamma_gamma.h"

namespace crm::segmentation::domain {

struct ClvOptions {
  int periods = 12;             // K
  double period_length = 4.35;  // Δ in the model's time unit (4.35 weeks ≈ a month)
  double discount_rate = 0.01;  // d per period, >= 0
};

// spend · Σ_k (cumulative(kΔ) - cumulative((k-1)Δ)) / (1 + d)^k for any
// cumulative expected-purchases curve (cumulative(0) is taken as given).
absl::StatusOr<double> DiscountedValue(
    const std::function<absl::StatusOr<double>(double)>& cumulative_purchases,
    double expected_spend, const ClvOptions& options);

// The CLV above for one customer with summary (x, t_x, T) and mean repeat
// spend m_x (ignored when x = 0: the population mean spend is used).
absl::StatusOr<double> CustomerLifetimeValue(const BgNbdParams& purchases,
                                             const GammaGammaParams& spend,
                                             const FrequencyRecency& customer, double m_x,
                                             const ClvOptions& options = {});

}  // namespace crm::segmentation::domain
