#include "services/segmentation/domain/gamma_gamma.h"

#include <cmath>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "libs/common/errors.h"
#include "libs/common/status_macros.h"

namespace crm::segmentation::domain {
namespace {

absl::Status CheckParams(const GammaGammaParams& g) {
  const std::pair<const char*, double> all[] = {
      {"params.p", g.p}, {"params.q", g.q}, {"params.gamma", g.gamma}};
  for (const auto& [name, v] : all) {
    CRM_RETURN_IF_ERROR(CheckFinite(v, name));
    if (!(v > 0)) return common::InvalidField(name, absl::StrCat(name, " must be > 0, got ", v));
  }
  return absl::OkStatus();
}

absl::Status CheckAll(const std::vector<SpendObservation>& customers) {
  for (size_t i = 0; i < customers.size(); ++i) {
    const std::string where = absl::StrCat("customers[", i, "]");
    CRM_RETURN_IF_ERROR(CheckFinite(customers[i].x, where + ".x"));
    CRM_RETURN_IF_ERROR(CheckFinite(customers[i].m_x, where + ".m_x"));
    if (customers[i].x < 1 || customers[i].x != std::floor(customers[i].x)) {
      return common::InvalidField(where + ".x",
                                  "the Gamma-Gamma model takes repeat buyers only (whole x >= 1)");
    }
    if (!(customers[i].m_x > 0)) {
      return common::InvalidField(where + ".m_x", "mean spend m_x must be > 0");
    }
  }
  return absl::OkStatus();
}

double SumLogLikelihood(const GammaGammaParams& g, const std::vector<SpendObservation>& cs) {
  const double lgq = LogGamma(g.q);
  const double q_log_gamma = g.q * std::log(g.gamma);
  // ln Γ(px+q) - ln Γ(px) depends on x only (a whole number): once per x
  // (x beyond any count of purchase days gets no cache entry).
  std::vector<double> gammas;
  std::vector<bool> known;
  double sum = 0;
  for (const SpendObservation& c : cs) {
    const double px = g.p * c.x;
    const size_t xi = static_cast<size_t>(c.x);
    double lg = 0;
    if (xi > 100000) {
      lg = LogGamma(px + g.q) - LogGamma(px);
    } else {
      if (xi >= gammas.size()) {
        gammas.resize(xi + 1);
        known.resize(xi + 1, false);
      }
      if (!known[xi]) {
        gammas[xi] = LogGamma(px + g.q) - LogGamma(px);
        known[xi] = true;
      }
      lg = gammas[xi];
    }
    sum += lg - lgq + q_log_gamma + (px - 1) * std::log(c.m_x) + px * std::log(c.x) -
           (px + g.q) * std::log(g.gamma + c.x * c.m_x);
  }
  return sum;
}

GammaGammaParams FromVector(const std::vector<double>& v) { return {v[0], v[1], v[2]}; }

}  // namespace

absl::StatusOr<double> GammaGammaLogLikelihood(const GammaGammaParams& params,
                                               const std::vector<SpendObservation>& customers) {
  CRM_RETURN_IF_ERROR(CheckParams(params));
  CRM_RETURN_IF_ERROR(CheckAll(customers));
  return SumLogLikelihood(params, customers);
}

absl::StatusOr<GammaGammaFit> FitGammaGamma(const std::vector<SpendObservation>& customers,
                                            const FitOptions& options) {
  CRM_RETURN_IF_ERROR(CheckAll(customers));
  const int n = static_cast<int>(customers.size());
  if (n < options.min_repeat_customers) {
    return InsufficientData(absl::StrFormat(
        "Gamma-Gamma needs at least %d customers with a repeat purchase (x > 0) to estimate its "
        "3 parameters; got %d",
        options.min_repeat_customers, n));
  }
  double mean_m = 0;
  for (const SpendObservation& c : customers) mean_m += c.m_x;
  mean_m /= n;
  // Log-parameters; start p = q = 1 and γ = mean m_x (γ is a money scale),
  // box ±kLogBoxHalfWidth around the start.
  const std::vector<double> start = {0, 0, std::log(mean_m)};
  std::vector<double> lower(3), upper(3);
  for (int i = 0; i < 3; ++i) {
    lower[i] = start[i] - kLogBoxHalfWidth;
    upper[i] = start[i] + kLogBoxHalfWidth;
  }
  auto negative_ll = [&](const std::vector<double>& v) {
    return -SumLogLikelihood({std::exp(v[0]), std::exp(v[1]), std::exp(v[2])}, customers);
  };
  CRM_ASSIGN_OR_RETURN(Minimum m, MinimizeInBox(negative_ll, start, lower, upper, options,
                                                "Gamma-Gamma", {"p", "q", "gamma"}));
  std::vector<double> theta = {std::exp(m.x[0]), std::exp(m.x[1]), std::exp(m.x[2])};
  GammaGammaFit fit;
  fit.params = FromVector(theta);
  fit.log_likelihood = -m.value;
  fit.evaluations = m.evaluations;
  fit.customers = n;
  CRM_ASSIGN_OR_RETURN(
      std::vector<double> se,
      StandardErrors(
          [&](const std::vector<double>& v) { return SumLogLikelihood(FromVector(v), customers); },
          theta, "Gamma-Gamma"));
  fit.standard_errors = FromVector(se);
  return fit;
}

absl::StatusOr<double> GammaGammaExpectedSpend(const GammaGammaParams& params, double x,
                                               double m_x) {
  CRM_RETURN_IF_ERROR(CheckParams(params));
  CRM_RETURN_IF_ERROR(CheckFinite(x, "x"));
  CRM_RETURN_IF_ERROR(CheckFinite(m_x, "m_x"));
  if (x < 0) return common::InvalidField("x", "x must be >= 0");
  if (x > 0 && m_x < 0) return common::InvalidField("m_x", "m_x must be >= 0");
  if (!(params.q > 1)) {
    return absl::FailedPreconditionError(absl::StrFormat(
        "expected spend needs q > 1 (the population mean pγ/(q-1) is infinite; q = %g)", params.q));
  }
  const double px = params.p * x;
  const double w = px / (px + params.q - 1);  // weight of the customer's own mean
  const double population = params.p * params.gamma / (params.q - 1);
  return (1 - w) * population + (x > 0 ? w * m_x : 0.0);
}

}  // namespace crm::segmentation::domain
