#include "services/segmentation/domain/bgnbd.h"

#include <algorithm>
#include <cmath>
#include <string>
#include <tuple>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "libs/common/errors.h"
#include "libs/common/status_macros.h"

namespace crm::segmentation::domain {
namespace {

absl::Status CheckParams(const BgNbdParams& p) {
  const std::pair<const char*, double> all[] = {
      {"params.r", p.r}, {"params.alpha", p.alpha}, {"params.a", p.a}, {"params.b", p.b}};
  for (const auto& [name, v] : all) {
    CRM_RETURN_IF_ERROR(CheckFinite(v, name));
    if (!(v > 0)) return common::InvalidField(name, absl::StrCat(name, " must be > 0, got ", v));
  }
  return absl::OkStatus();
}

absl::Status CheckCustomer(const FrequencyRecency& c, const std::string& where) {
  CRM_RETURN_IF_ERROR(CheckFinite(c.x, where + ".x"));
  CRM_RETURN_IF_ERROR(CheckFinite(c.t_x, where + ".t_x"));
  CRM_RETURN_IF_ERROR(CheckFinite(c.T, where + ".T"));
  if (c.x < 0 || c.x != std::floor(c.x)) {
    return common::InvalidField(where + ".x", "x must be a whole number >= 0");
  }
  if (c.T < 0 || c.t_x < 0 || c.t_x > c.T) {
    return common::InvalidField(where + ".t_x", "need 0 <= t_x <= T");
  }
  if (c.x == 0 && c.t_x != 0) {
    return common::InvalidField(where + ".t_x", "t_x must be 0 when x = 0");
  }
  return absl::OkStatus();
}

// Customers with the same (x, t_x, T) contribute the same term: a fit sums
// each distinct summary once, times its count. Purchase days are whole days,
// so a large customer base has far fewer distinct summaries than customers
// (x is small, t_x <= T, T is bounded by the history's length in days).
struct Distinct {
  FrequencyRecency summary;
  double count = 0;
};

std::vector<Distinct> DistinctSummaries(const std::vector<FrequencyRecency>& customers) {
  std::vector<FrequencyRecency> sorted = customers;
  auto key = [](const FrequencyRecency& c) { return std::make_tuple(c.x, c.t_x, c.T); };
  std::sort(sorted.begin(), sorted.end(),
            [&](const FrequencyRecency& l, const FrequencyRecency& r) { return key(l) < key(r); });
  std::vector<Distinct> out;
  for (const FrequencyRecency& c : sorted) {
    if (out.empty() || key(out.back().summary) != key(c)) out.push_back({c, 0});
    out.back().count += 1;
  }
  return out;
}

// Σ_i ln L_i (eq. 6), each distinct summary once times its count:
//   L = B(a, b+x)/B(a, b) · Γ(r+x) α^r / (Γ(r) (α+T)^(r+x))
//     + [x > 0] B(a+1, b+x-1)/B(a, b) · Γ(r+x) α^r / (Γ(r) (α+t_x)^(r+x)),
// the two terms added in logs (log-sum-exp), the special functions (which
// depend on x only) computed once per x: `distinct` is sorted by x.
double SumLogLikelihood(const BgNbdParams& p, const std::vector<Distinct>& distinct) {
  const double lbeta_ab = LogBeta(p.a, p.b);
  const double head = -LogGamma(p.r) + p.r * std::log(p.alpha) - lbeta_ab;
  double sum = 0;
  double x = -1, common = 0, beta1 = 0, beta2 = 0;
  for (const Distinct& d : distinct) {
    const FrequencyRecency& c = d.summary;
    if (c.x != x) {
      x = c.x;
      common = head + LogGamma(p.r + x);
      beta1 = LogBeta(p.a, p.b + x);
      beta2 = x > 0 ? LogBeta(p.a + 1, p.b + x - 1) : 0;
    }
    const double rx = p.r + x;
    const double t1 = beta1 - rx * std::log(p.alpha + c.T);
    double one = common + t1;
    if (x > 0) {
      const double t2 = beta2 - rx * std::log(p.alpha + c.t_x);
      const double m = std::max(t1, t2);
      one = common + m + std::log(std::exp(t1 - m) + std::exp(t2 - m));
    }
    sum += d.count * one;
  }
  return sum;
}

absl::Status CheckAll(const std::vector<FrequencyRecency>& customers) {
  for (size_t i = 0; i < customers.size(); ++i) {
    CRM_RETURN_IF_ERROR(CheckCustomer(customers[i], absl::StrCat("customers[", i, "]")));
  }
  return absl::OkStatus();
}

BgNbdParams FromVector(const std::vector<double>& v) { return {v[0], v[1], v[2], v[3]}; }

// ln of the odds a/(b+x-1) · ((α+T)/(α+t_x))^(r+x) that a customer with
// x > 0 dropped out right after the last purchase; P(alive) = 1/(1+odds).
double LogDeadOdds(const BgNbdParams& p, const FrequencyRecency& c) {
  return std::log(p.a) - std::log(p.b + c.x - 1) +
         (p.r + c.x) * (std::log(p.alpha + c.T) - std::log(p.alpha + c.t_x));
}

// (a+b+x-1)/(a-1) · [1 - ((α+T)/(α+T+t))^(r+x) · 2F1(r+x, b+x; a+b+x-1; z)],
// z = t/(α+T+t): the bracket of eqs. 9 (x = 0, T = 0) and 10. Euler's
// transformation 2F1(A, B; C; z) = (1-z)^(C-A-B) 2F1(C-A, C-B; C; z) turns
// (1-z)^(r+x) 2F1(r+x, b+x; c; z) into (1-z)^(a-1) 2F1(a+b-1-r, a-1; c; z):
// x leaves the numerator parameters, so the series' terms no longer grow
// like (r+x)_n (b+x)_n / n! before they shrink (no overflow for large x), and
// from the second term on they all have one sign (no cancellation).
absl::StatusOr<double> ExpectedBracket(const BgNbdParams& p, double x, double T, double t) {
  const double c = p.a + p.b + x - 1;
  if (!(c > 0)) {
    return absl::FailedPreconditionError(
        absl::StrFormat("E[X(t)] needs a + b + x > 1 (a = %g, b = %g, x = %g)", p.a, p.b, x));
  }
  if (std::abs(p.a - 1) < 1e-9) {
    return absl::FailedPreconditionError("E[X(t)] is not evaluated at a = 1 exactly");
  }
  if (t == 0) return 0.0;
  const double z = t / (p.alpha + T + t);
  CRM_ASSIGN_OR_RETURN(double f, Hyp2F1(p.a + p.b - 1 - p.r, p.a - 1, c, z));
  const double scaled = std::exp((p.a - 1) * std::log1p(-z)) * f;
  return c / (p.a - 1) * (1 - scaled);
}

}  // namespace

absl::StatusOr<double> BgNbdLogLikelihood(const BgNbdParams& params,
                                          const std::vector<FrequencyRecency>& customers) {
  CRM_RETURN_IF_ERROR(CheckParams(params));
  CRM_RETURN_IF_ERROR(CheckAll(customers));
  return SumLogLikelihood(params, DistinctSummaries(customers));
}

absl::StatusOr<BgNbdFit> FitBgNbd(const std::vector<FrequencyRecency>& customers,
                                  const FitOptions& options) {
  CRM_RETURN_IF_ERROR(CheckAll(customers));
  BgNbdFit fit;
  fit.customers = static_cast<int>(customers.size());
  double mean_T = 0;
  for (const FrequencyRecency& c : customers) {
    if (c.x > 0) ++fit.repeat_customers;
    mean_T += c.T;
  }
  if (fit.repeat_customers < options.min_repeat_customers) {
    return InsufficientData(absl::StrFormat(
        "BG/NBD needs at least %d customers with a repeat purchase (x > 0) to estimate its 4 "
        "parameters; got %d of %d customers",
        options.min_repeat_customers, fit.repeat_customers, fit.customers));
  }
  mean_T /= fit.customers;
  if (!(mean_T > 0)) return InsufficientData("BG/NBD needs customers observed for T > 0");
  // Log-parameters; start r = a = b = 1 and α = mean T (α is a time scale),
  // box ±kLogBoxHalfWidth around the start.
  const std::vector<double> start = {0, std::log(mean_T), 0, 0};
  std::vector<double> lower(4), upper(4);
  for (int i = 0; i < 4; ++i) {
    lower[i] = start[i] - kLogBoxHalfWidth;
    upper[i] = start[i] + kLogBoxHalfWidth;
  }
  const std::vector<Distinct> distinct = DistinctSummaries(customers);
  auto negative_ll = [&](const std::vector<double>& v) {
    return -SumLogLikelihood({std::exp(v[0]), std::exp(v[1]), std::exp(v[2]), std::exp(v[3])},
                             distinct);
  };
  CRM_ASSIGN_OR_RETURN(Minimum m, MinimizeInBox(negative_ll, start, lower, upper, options, "BG/NBD",
                                                {"r", "alpha", "a", "b"}));
  std::vector<double> theta = {std::exp(m.x[0]), std::exp(m.x[1]), std::exp(m.x[2]),
                               std::exp(m.x[3])};
  fit.params = FromVector(theta);
  fit.log_likelihood = -m.value;
  fit.evaluations = m.evaluations;
  CRM_ASSIGN_OR_RETURN(
      std::vector<double> se,
      StandardErrors(
          [&](const std::vector<double>& p) { return SumLogLikelihood(FromVector(p), distinct); },
          theta, "BG/NBD"));
  fit.standard_errors = FromVector(se);
  return fit;
}

absl::StatusOr<double> BgNbdExpectedPurchases(const BgNbdParams& params, double t) {
  CRM_RETURN_IF_ERROR(CheckParams(params));
  CRM_RETURN_IF_ERROR(CheckFinite(t, "t"));
  if (t < 0) return common::InvalidField("t", "t must be >= 0");
  return ExpectedBracket(params, 0, 0, t);
}

absl::StatusOr<double> BgNbdConditionalExpectedPurchases(const BgNbdParams& params,
                                                         const FrequencyRecency& customer,
                                                         double t) {
  CRM_ASSIGN_OR_RETURN(double alive, BgNbdProbabilityAlive(params, customer));
  CRM_RETURN_IF_ERROR(CheckFinite(t, "t"));
  if (t < 0) return common::InvalidField("t", "t must be >= 0");
  CRM_ASSIGN_OR_RETURN(double bracket, ExpectedBracket(params, customer.x, customer.T, t));
  return alive * bracket;
}

absl::StatusOr<double> BgNbdProbabilityAlive(const BgNbdParams& params,
                                             const FrequencyRecency& customer) {
  CRM_RETURN_IF_ERROR(CheckParams(params));
  CRM_RETURN_IF_ERROR(CheckCustomer(customer, "customer"));
  if (customer.x == 0) return 1.0;
  // 1/(1+e^L) computed without overflow for large L.
  const double l = LogDeadOdds(params, customer);
  return l > 0 ? std::exp(-l) / (1 + std::exp(-l)) : 1 / (1 + std::exp(l));
}

}  // namespace crm::segmentation::domain
