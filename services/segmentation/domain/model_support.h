#pragma once
// Shared numerics of the segmentation models: input checks, the NLopt
// minimiser every maximum-likelihood fit uses, the numerical Hessian for
// standard errors, and the error statuses of a fit. NLopt and Boost stay in
// the .cc files: callers see only std and Abseil types.
#include <functional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace crm::segmentation::domain {

// How a maximum-likelihood fit runs. The defaults are what the published
// CDNOW figures were reproduced with (tests/unit/segmentation).
struct FitOptions {
  // Fewer customers with a repeat purchase (x > 0) than this is refused with
  // FAILED_PRECONDITION / INSUFFICIENT_DATA: the parameters of the repeat
  // process are not identified by a handful of repeaters.
  int min_repeat_customers = 20;
  // NLopt LN_BOBYQA on the logarithms of the parameters (all are positive).
  double xtol_rel = 1e-10;  // relative step on the log-parameters
  double ftol_abs = 1e-9;   // absolute change of the log-likelihood
  int max_evaluations = 20000;
};

// Fits search each log-parameter within ±10 of its start (a factor e^10 ≈
// 22,000 either way). An estimate on that edge means the data push the
// parameter towards 0 or infinity (e.g. no drop-out ever seen): the model is
// not identified and the fit reports MODEL_NOT_CONVERGED.
inline constexpr double kLogBoxHalfWidth = 10;

// INVALID_ARGUMENT / INVALID_FIELD naming `field` when v is NaN or infinite.
absl::Status CheckFinite(double v, absl::string_view field);

// FAILED_PRECONDITION with reason INSUFFICIENT_DATA.
absl::Status InsufficientData(absl::string_view message);
// FAILED_PRECONDITION with reason MODEL_NOT_CONVERGED.
absl::Status NotConverged(absl::string_view message);

struct Minimum {
  std::vector<double> x;  // the minimiser (log-parameters)
  double value = 0;       // objective at x
  int evaluations = 0;
};

// Minimises f over the box [lower, upper] from `start` with NLopt's LN_BOBYQA
// (derivative-free, deterministic), `options` giving the tolerances. Returns
// MODEL_NOT_CONVERGED when NLopt stops on its evaluation limit or fails, and
// when the minimum lies within 1e-3 of the box's edge (the data do not
// identify the model).
// f may return +inf/NaN where it is undefined; those points count as +1e300.
// `names` name the parameters in messages.
absl::StatusOr<Minimum> MinimizeInBox(const std::function<double(const std::vector<double>&)>& f,
                                      const std::vector<double>& start,
                                      const std::vector<double>& lower,
                                      const std::vector<double>& upper, const FitOptions& options,
                                      absl::string_view model,
                                      const std::vector<std::string>& names);

// Standard errors sqrt(diag((-H)^-1)) where H is the Hessian of the
// log-likelihood ll at theta, by central differences with step 1e-4 * |theta_i|.
// MODEL_NOT_CONVERGED when -H is not positive definite (not at a maximum).
absl::StatusOr<std::vector<double>> StandardErrors(
    const std::function<double(const std::vector<double>&)>& ll, const std::vector<double>& theta,
    absl::string_view model);

// ln Γ(x) and ln B(x, y) (Boost.Math: thread-safe, unlike std::lgamma's signgam).
double LogGamma(double x);
double LogBeta(double x, double y);
// Gauss hypergeometric 2F1(a, b; c; z) for 0 <= z < 1 by its power series
// (Boost.Math hypergeometric_pFq); an error status instead of an exception.
absl::StatusOr<double> Hyp2F1(double a, double b, double c, double z);

}  // namespace crm::segmentation::domain
