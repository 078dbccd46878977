#include "services/segmentation/domain/model_support.h"

#include <boost/math/special_functions/gamma.hpp>
#include <boost/math/special_functions/hypergeometric_pFq.hpp>
#include <cmath>
#include <exception>
#include <limits>
#include <nlopt.hpp>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "libs/common/errors.h"

namespace crm::segmentation::domain {
namespace {

constexpr double kUndefined = 1e300;

struct Objective {
  const std::function<double(const std::vector<double>&)>* f;
  std::vector<double> x;
  int evaluations = 0;
};

double CallObjective(unsigned n, const double* x, double* grad, void* data) {
  (void)grad;  // derivative-free algorithm: NLopt never asks for it
  auto* o = static_cast<Objective*>(data);
  o->x.assign(x, x + n);
  ++o->evaluations;
  double v = (*o->f)(o->x);
  return std::isfinite(v) ? v : kUndefined;
}

}  // namespace

absl::Status CheckFinite(double v, absl::string_view field) {
  if (std::isfinite(v)) return absl::OkStatus();
  return common::InvalidField(field, absl::StrCat(field, " must be a finite number, got ", v));
}

absl::Status InsufficientData(absl::string_view message) {
  return common::WithReason(absl::FailedPreconditionError(message), "INSUFFICIENT_DATA");
}

absl::Status NotConverged(absl::string_view message) {
  return common::WithReason(absl::FailedPreconditionError(message), "MODEL_NOT_CONVERGED");
}

absl::StatusOr<Minimum> MinimizeInBox(const std::function<double(const std::vector<double>&)>& f,
                                      const std::vector<double>& start,
                                      const std::vector<double>& lower,
                                      const std::vector<double>& upper, const FitOptions& options,
                                      absl::string_view model,
                                      const std::vector<std::string>& names) {
  const unsigned n = static_cast<unsigned>(start.size());
  Objective objective{&f, {}, 0};
  Minimum out;
  out.x = start;
  try {
    nlopt::opt opt(nlopt::LN_BOBYQA, n);
    opt.set_lower_bounds(lower);
    opt.set_upper_bounds(upper);
    opt.set_min_objective(&CallObjective, &objective);
    opt.set_xtol_rel(options.xtol_rel);
    opt.set_ftol_abs(options.ftol_abs);
    opt.set_maxeval(options.max_evaluations);
    nlopt::result result = opt.optimize(out.x, out.value);
    out.evaluations = objective.evaluations;
    if (result == nlopt::MAXEVAL_REACHED || result == nlopt::MAXTIME_REACHED) {
      return NotConverged(
          absl::StrFormat("%s fit did not converge within %d likelihood evaluations", model,
                          options.max_evaluations));
    }
    if (result < 0) {
      return NotConverged(
          absl::StrFormat("%s fit failed (NLopt result %d)", model, static_cast<int>(result)));
    }
  } catch (const std::exception& e) {
    // NLopt reports roundoff-limited and failed runs as exceptions.
    return NotConverged(absl::StrCat(model, " fit failed: NLopt stopped (", e.what(), ")"));
  }
  if (!(out.value < kUndefined)) {
    return NotConverged(absl::StrCat(model,
                                     " fit failed: the likelihood is undefined everywhere "
                                     "the optimiser looked"));
  }
  for (unsigned i = 0; i < n; ++i) {
    const double room = 1e-3;  // log-space: within 0.1 % of the edge
    if (out.x[i] - lower[i] < room || upper[i] - out.x[i] < room) {
      return NotConverged(absl::StrFormat(
          "%s fit did not converge: %s ran to the edge of its search range (%g); the "
          "data push it towards %s, so they do not identify the model",
          model, names[i], std::exp(out.x[i]), out.x[i] - lower[i] < room ? "0" : "infinity"));
    }
  }
  return out;
}

absl::StatusOr<std::vector<double>> StandardErrors(
    const std::function<double(const std::vector<double>&)>& ll, const std::vector<double>& theta,
    absl::string_view model) {
  const size_t n = theta.size();
  std::vector<double> h(n);
  for (size_t i = 0; i < n; ++i) h[i] = 1e-4 * std::max(std::abs(theta[i]), 1e-8);
  auto at = [&](size_t i, double di, size_t j, double dj) {
    std::vector<double> p = theta;
    p[i] += di;
    p[j] += dj;
    return ll(p);
  };
  const double f0 = ll(theta);
  // A = -H, the observed information.
  std::vector<std::vector<double>> a(n, std::vector<double>(n));
  for (size_t i = 0; i < n; ++i) {
    a[i][i] = -(at(i, h[i], i, 0) - 2 * f0 + at(i, -h[i], i, 0)) / (h[i] * h[i]);
    for (size_t j = 0; j < i; ++j) {
      double d = at(i, h[i], j, h[j]) - at(i, h[i], j, -h[j]) - at(i, -h[i], j, h[j]) +
                 at(i, -h[i], j, -h[j]);
      a[i][j] = a[j][i] = -d / (4 * h[i] * h[j]);
    }
  }
  // Cholesky A = L L^T; fails when A is not positive definite.
  std::vector<std::vector<double>> l(n, std::vector<double>(n, 0.0));
  for (size_t j = 0; j < n; ++j) {
    double d = a[j][j];
    for (size_t k = 0; k < j; ++k) d -= l[j][k] * l[j][k];
    if (!(d > 0) || !std::isfinite(d)) {
      return NotConverged(absl::StrCat(model,
                                       " fit is not at a maximum of the likelihood (the "
                                       "Hessian is not negative definite)"));
    }
    l[j][j] = std::sqrt(d);
    for (size_t i = j + 1; i < n; ++i) {
      double s = a[i][j];
      for (size_t k = 0; k < j; ++k) s -= l[i][k] * l[j][k];
      l[i][j] = s / l[j][j];
    }
  }
  // diag(A^-1)_i = sum_k (L^-1)_{k i}^2: solve L y = e_i for each i.
  std::vector<double> se(n);
  for (size_t i = 0; i < n; ++i) {
    std::vector<double> y(n, 0.0);
    for (size_t r = i; r < n; ++r) {
      double s = (r == i) ? 1.0 : 0.0;
      for (size_t k = i; k < r; ++k) s -= l[r][k] * y[k];
      y[r] = s / l[r][r];
    }
    double v = 0;
    for (size_t r = i; r < n; ++r) v += y[r] * y[r];
    se[i] = std::sqrt(v);
  }
  return se;
}

double LogGamma(double x) { return boost::math::lgamma(x); }

double LogBeta(double x, double y) { return LogGamma(x) + LogGamma(y) - LogGamma(x + y); }

absl::StatusOr<double> Hyp2F1(double a, double b, double c, double z) {
  if (!(z >= 0 && z < 1) || !(c > 0)) {
    return absl::InternalError(
        absl::StrFormat("2F1(%g, %g; %g; %g) is outside the series' domain", a, b, c, z));
  }
  try {
    double error = 0;
    double v = boost::math::hypergeometric_pFq({a, b}, {c}, z, &error);
    if (!std::isfinite(v) || !(error <= 1e-9 * std::abs(v) + 1e-300)) {
      return absl::InternalError(absl::StrFormat(
          "2F1(%g, %g; %g; %g) = %g with error %g: not accurate enough", a, b, c, z, v, error));
    }
    return v;
  } catch (const std::exception& e) {
    return absl::InternalError(
        absl::StrFormat("2F1(%g, %g; %g; %g) failed: %s", a, b, c, z, e.what()));
  }
}

}  // namespace crm::segmentation::domain
