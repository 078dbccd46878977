#pragma once
// BG/NBD model of repeat buying (Fader, Hardie & Lee 2005, "Counting your
// customers the easy way: an alternative to the Pareto/NBD model",
// Marketing Science 24(2)). While active, a customer buys as a Poisson
// process with rate λ ~ Gamma(r, α); after each purchase they drop out with
// probability p ~ Beta(a, b). Formulas are in services/segmentation/README.md.
#include <vector>

#include "absl/status/statusor.h"
#include "services/segmentation/domain/model_support.h"

namespace crm::segmentation::domain {

// One customer's calibration summary: x repeat purchases, the last at t_x,
// observed for T (t_x and T in one time unit, from the first purchase).
struct FrequencyRecency {
  double x = 0;  // a whole number >= 0
  double t_x = 0;
  double T = 0;
};

struct BgNbdParams {
  double r = 0;
  double alpha = 0;
  double a = 0;
  double b = 0;
};

struct BgNbdFit {
  BgNbdParams params;
  BgNbdParams standard_errors;  // sqrt(diag(inverse observed information))
  double log_likelihood = 0;
  int evaluations = 0;  // likelihood evaluations the optimiser used
  int customers = 0;
  int repeat_customers = 0;
};

// Σ_i ln L(r, α, a, b | x_i, t_x_i, T_i) (FHL 2005 eq. 6, by log-sum-exp).
// INVALID_ARGUMENT (INVALID_FIELD) for a non-positive parameter or a bad row.
absl::StatusOr<double> BgNbdLogLikelihood(const BgNbdParams& params,
                                          const std::vector<FrequencyRecency>& customers);

// Maximum-likelihood fit (see FitOptions). FAILED_PRECONDITION with
// INSUFFICIENT_DATA below options.min_repeat_customers repeat buyers, and with
// MODEL_NOT_CONVERGED when the optimiser does not reach an interior maximum.
absl::StatusOr<BgNbdFit> FitBgNbd(const std::vector<FrequencyRecency>& customers,
                                  const FitOptions& options = {});

// E[X(t)]: expected purchases in (0, t] of a customer just acquired (eq. 9).
absl::StatusOr<double> BgNbdExpectedPurchases(const BgNbdParams& params, double t);

// E[Y(t) | x, t_x, T]: expected purchases in (T, T + t] (eq. 10).
absl::StatusOr<double> BgNbdConditionalExpectedPurchases(const BgNbdParams& params,
                                                         const FrequencyRecency& customer,
                                                         double t);

// P(alive | x, t_x, T) (FHL's note "Computing P(alive) using the BG/NBD model").
absl::StatusOr<double> BgNbdProbabilityAlive(const BgNbdParams& params,
                                             const FrequencyRecency& customer);

}  // namespace crm::segmentation::domain
