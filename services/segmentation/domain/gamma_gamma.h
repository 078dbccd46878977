#pragma once
// Gamma-Gamma model of spend per transaction (Fader, Hardie & Lee 2005,
// "RFM and CLV: using iso-value curves for customer base analysis", JMR
// 42(4); Fader & Hardie 2013, "The Gamma-Gamma model of monetary value").
// A customer's transaction values are Gamma(p, ν) with ν ~ Gamma(q, γ) across
// customers; m_x is the mean of their x repeat transactions.
#include <vector>

#include "absl/status/statusor.h"
#include "services/segmentation/domain/model_support.h"

namespace crm::segmentation::domain {

// A repeat buyer: x >= 1 repeat transactions with mean value m_x > 0.
struct SpendObservation {
  double x = 0;
  double m_x = 0;
};

struct GammaGammaParams {
  double p = 0;
  double q = 0;
  double gamma = 0;
};

struct GammaGammaFit {
  GammaGammaParams params;
  GammaGammaParams standard_errors;
  double log_likelihood = 0;
  int evaluations = 0;
  int customers = 0;
};

// Σ_i ln f(m_x_i | p, q, γ, x_i) with
//   f = Γ(px+q)/(Γ(px)Γ(q)) · γ^q m_x^(px-1) x^(px) / (γ + x m_x)^(px+q).
absl::StatusOr<double> GammaGammaLogLikelihood(const GammaGammaParams& params,
                                               const std::vector<SpendObservation>& customers);

// Maximum-likelihood fit on repeat buyers only (x >= 1, m_x > 0; pass no one
// else). INSUFFICIENT_DATA below options.min_repeat_customers rows;
// MODEL_NOT_CONVERGED when no interior maximum is reached.
absl::StatusOr<GammaGammaFit> FitGammaGamma(const std::vector<SpendObservation>& customers,
                                            const FitOptions& options = {});

// E[Z | x, m_x] = (q-1)/(px+q-1) · pγ/(q-1) + px/(px+q-1) · m_x, the
// expected value of a future transaction; x = 0 gives the population mean
// pγ/(q-1). Needs q > 1 (the mean spend is infinite otherwise).
absl::StatusOr<double> GammaGammaExpectedSpend(const GammaGammaParams& params, double x,
                                               double m_x);

}  // namespace crm::segmentation::domain
