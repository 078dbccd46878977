// BG/NBD against the published CDNOW figures (Fader, Hardie & Lee 2005) and
// the refusals of bad input.
#include "services/segmentation/domain/bgnbd.h"

#include <catch2/catch.hpp>
#include <chrono>
#include <cmath>
#include <iomanip>
#include <limits>
#include <vector>

#include "libs/common/errors.h"
#include "tests/unit/segmentation/reference_data.h"

namespace {

using crm::common::FieldOf;
using crm::common::ReasonOf;
using namespace crm::segmentation::domain;  // NOLINT
using Catch::Matchers::WithinAbs;
using Catch::Matchers::WithinRel;

std::vector<FrequencyRecency> CdnowCalibration() {
  std::vector<FrequencyRecency> out;
  for (const CustomerSummary& s : crm::segmentation::testing::CdnowSummaries()) {
    out.push_back({static_cast<double>(s.x), s.t_x, s.T});
  }
  return out;
}

const BgNbdFit& CdnowFit() {
  static const BgNbdFit fit = [] {
    std::vector<FrequencyRecency> data = CdnowCalibration();
    auto start = std::chrono::steady_clock::now();
    absl::StatusOr<BgNbdFit> f = FitBgNbd(data);
    double ms =
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
    INFO(f.status());
    REQUIRE(f.ok());
    WARN(std::setprecision(10) << "BG/NBD on CDNOW: r=" << f->params.r
                               << " alpha=" << f->params.alpha << " a=" << f->params.a
                               << " b=" << f->params.b << " LL=" << f->log_likelihood << " ("
                               << f->evaluations << " evaluations, " << ms << " ms)");
    return *f;
  }();
  return fit;
}

// The full-precision MLE the README's conditional figures are quoted at.
constexpr BgNbdParams kPublished{0.2426, 4.4137, 0.7930, 2.4262};

TEST_CASE("BG/NBD MLE on CDNOW reproduces Fader, Hardie & Lee 2005") {
  const BgNbdFit& fit = CdnowFit();
  CHECK_THAT(fit.params.r, WithinRel(0.2426, 1e-3));
  CHECK_THAT(fit.params.alpha, WithinRel(4.4137, 1e-3));
  CHECK_THAT(fit.params.a, WithinRel(0.7930, 1e-3));
  CHECK_THAT(fit.params.b, WithinRel(2.4262, 1e-3));
  CHECK_THAT(fit.log_likelihood, WithinAbs(-9582.43, 0.01));
  CHECK(fit.customers == 2357);
  CHECK(fit.repeat_customers == 946);
  // Standard errors: positive and small next to the estimates.
  CHECK(fit.standard_errors.r > 0);
  CHECK(fit.standard_errors.r < 0.1 * fit.params.r);
  CHECK(fit.standard_errors.alpha < 0.2 * fit.params.alpha);
  CHECK(fit.standard_errors.a < 0.5 * fit.params.a);
  CHECK(fit.standard_errors.b < 0.5 * fit.params.b);
  WARN("standard errors: r " << fit.standard_errors.r << " alpha " << fit.standard_errors.alpha
                             << " a " << fit.standard_errors.a << " b " << fit.standard_errors.b);
}

TEST_CASE("BG/NBD log-likelihood at the published MLE") {
  absl::StatusOr<double> ll = BgNbdLogLikelihood(kPublished, CdnowCalibration());
  REQUIRE(ll.ok());
  CHECK_THAT(*ll, WithinAbs(-9582.43, 0.05));
}

TEST_CASE("BG/NBD expectations for a new customer") {
  const BgNbdParams& p = CdnowFit().params;
  const std::pair<double, double> published[] = {
      {52, 1.4440}, {1, 0.0532}, {3, 0.1506}, {78, 1.8576}};
  for (const auto& [t, want] : published) {
    absl::StatusOr<double> e = BgNbdExpectedPurchases(p, t);
    REQUIRE(e.ok());
    INFO("E[X(" << t << ")] = " << *e);
    CHECK_THAT(*e, WithinRel(want, 5e-4));
  }
  CHECK(*BgNbdExpectedPurchases(p, 0) == 0);
}

TEST_CASE("BG/NBD conditional expectation and P(alive) of the paper's customers") {
  const BgNbdParams& p = CdnowFit().params;
  absl::StatusOr<double> e39 = BgNbdConditionalExpectedPurchases(p, {2, 30.43, 38.86}, 39);
  REQUIRE(e39.ok());
  CHECK_THAT(*e39, WithinRel(1.226, 5e-4));

  absl::StatusOr<double> e52 = BgNbdConditionalExpectedPurchases(p, {26, 30.85714, 31}, 52);
  absl::StatusOr<double> alive = BgNbdProbabilityAlive(p, {26, 30.85714, 31});
  REQUIRE(e52.ok());
  REQUIRE(alive.ok());
  CHECK_THAT(*e52, WithinRel(25.7566, 5e-4));
  CHECK_THAT(*alive, WithinRel(0.96885, 5e-4));
  WARN("E[Y(39) | 2, 30.43, 38.86] = " << *e39 << "; E[Y(52) | 26, 30.857, 31] = " << *e52
                                       << "; P(alive) = " << *alive);
}

TEST_CASE("BG/NBD conditional expectation stays finite for extreme customers") {
  // Large x and long horizons: the Euler-transformed series neither
  // overflows nor loses its sign.
  const BgNbdParams& p = kPublished;
  for (double x : {0.0, 1.0, 50.0, 500.0}) {
    double prev = 0;
    for (double t : {1.0, 52.0, 520.0, 5200.0}) {
      absl::StatusOr<double> e =
          BgNbdConditionalExpectedPurchases(p, {x, x > 0 ? 30.0 : 0.0, 39}, t);
      INFO("x=" << x << " t=" << t << " " << e.status());
      REQUIRE(e.ok());
      CHECK(std::isfinite(*e));
      CHECK(*e > prev);
      prev = *e;
    }
  }
  // P(alive) of a heavy buyer long silent underflows to 0, not NaN.
  absl::StatusOr<double> alive = BgNbdProbabilityAlive(p, {500, 1, 1000});
  REQUIRE(alive.ok());
  CHECK(*alive >= 0);
  CHECK(*alive < 1e-10);
  CHECK(*BgNbdProbabilityAlive(p, {0, 0, 10}) == 1.0);
}

TEST_CASE("BG/NBD conditional expectation equals the new-customer curve at x = 0, T = 0") {
  const BgNbdParams& p = kPublished;
  for (double t : {1.0, 10.0, 100.0}) {
    CHECK_THAT(*BgNbdConditionalExpectedPurchases(p, {0, 0, 0}, t),
               WithinRel(*BgNbdExpectedPurchases(p, t), 1e-12));
  }
}

TEST_CASE("BG/NBD refuses too little data, saying how much it needs") {
  std::vector<FrequencyRecency> few = {{0, 0, 30}, {1, 5, 30}, {2, 20, 30}, {0, 0, 20}};
  absl::StatusOr<BgNbdFit> fit = FitBgNbd(few);
  REQUIRE(absl::IsFailedPrecondition(fit.status()));
  CHECK(ReasonOf(fit.status()) == "INSUFFICIENT_DATA");
  CHECK_THAT(std::string(fit.status().message()),
             Catch::Contains("at least 20 customers with a repeat purchase") &&
                 Catch::Contains("got 2 of 4"));
}

TEST_CASE("BG/NBD reports non-convergence instead of a bad fit") {
  std::vector<FrequencyRecency> data = CdnowCalibration();
  FitOptions options;
  options.max_evaluations = 10;
  absl::StatusOr<BgNbdFit> fit = FitBgNbd(data, options);
  REQUIRE(absl::IsFailedPrecondition(fit.status()));
  CHECK(ReasonOf(fit.status()) == "MODEL_NOT_CONVERGED");
  CHECK_THAT(std::string(fit.status().message()), Catch::Contains("10 likelihood evaluations"));

  // Every repeat buyer bought again right at the end: no drop-out is ever
  // seen, so the drop-out probability runs to 0 (a -> 0 or b -> infinity) and
  // the fit must not report an interior maximum.
  std::vector<FrequencyRecency> never_die;
  for (int i = 0; i < 40; ++i) never_die.push_back({static_cast<double>(1 + i % 5), 30, 30});
  absl::StatusOr<BgNbdFit> degenerate = FitBgNbd(never_die);
  INFO(degenerate.status());
  REQUIRE(!degenerate.ok());
  CHECK(ReasonOf(degenerate.status()) == "MODEL_NOT_CONVERGED");
  CHECK_THAT(std::string(degenerate.status().message()),
             Catch::Contains("ran to the edge of its search range"));
}

TEST_CASE("BG/NBD refuses NaN, infinity and impossible rows") {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  const double inf = std::numeric_limits<double>::infinity();
  std::vector<FrequencyRecency> data = CdnowCalibration();
  data[7].t_x = nan;
  absl::StatusOr<BgNbdFit> fit = FitBgNbd(data);
  REQUIRE(absl::IsInvalidArgument(fit.status()));
  CHECK(ReasonOf(fit.status()) == "INVALID_FIELD");
  CHECK(FieldOf(fit.status()) == "customers[7].t_x");

  CHECK(FieldOf(BgNbdLogLikelihood(kPublished, {{1, 2, inf}}).status()) == "customers[0].T");
  CHECK(FieldOf(BgNbdLogLikelihood(kPublished, {{1.5, 2, 3}}).status()) == "customers[0].x");
  CHECK(FieldOf(BgNbdLogLikelihood(kPublished, {{1, 4, 3}}).status()) == "customers[0].t_x");
  CHECK(FieldOf(BgNbdLogLikelihood({0.2, -1, 0.8, 2.4}, {{1, 2, 3}}).status()) == "params.alpha");
  CHECK(FieldOf(BgNbdLogLikelihood({nan, 4, 0.8, 2.4}, {{1, 2, 3}}).status()) == "params.r");
  CHECK(FieldOf(BgNbdExpectedPurchases(kPublished, inf).status()) == "t");
  CHECK(FieldOf(BgNbdConditionalExpectedPurchases(kPublished, {1, 2, 3}, nan).status()) == "t");
}

}  // namespace
