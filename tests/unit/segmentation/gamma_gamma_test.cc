// Gamma-Gamma against the published CDNOW figures (Fader, Hardie & Lee 2005,
// "RFM and CLV"; Fader & Hardie, "The Gamma-Gamma model of monetary value").
#include "services/segmentation/domain/gamma_gamma.h"

#include <catch2/catch.hpp>
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

std::vector<SpendObservation> CdnowRepeatBuyers() {
  std::vector<SpendObservation> out;
  for (const CustomerSummary& s : crm::segmentation::testing::CdnowSummaries()) {
    if (s.x > 0) out.push_back({static_cast<double>(s.x), s.m_x});
  }
  return out;
}

TEST_CASE("Gamma-Gamma MLE on CDNOW reproduces the published fit") {
  std::vector<SpendObservation> data = CdnowRepeatBuyers();
  REQUIRE(data.size() == 946);
  absl::StatusOr<GammaGammaFit> fit = FitGammaGamma(data);
  INFO(fit.status());
  REQUIRE(fit.ok());
  WARN(std::setprecision(10) << "Gamma-Gamma on CDNOW: p=" << fit->params.p
                             << " q=" << fit->params.q << " gamma=" << fit->params.gamma
                             << " LL=" << fit->log_likelihood << " (" << fit->evaluations
                             << " evaluations); se p " << fit->standard_errors.p << " q "
                             << fit->standard_errors.q << " gamma " << fit->standard_errors.gamma);
  CHECK_THAT(fit->params.p, WithinRel(6.2496, 1e-3));
  CHECK_THAT(fit->params.q, WithinRel(3.7442, 1e-3));
  CHECK_THAT(fit->params.gamma, WithinRel(15.4435, 1e-3));
  CHECK_THAT(fit->log_likelihood, WithinAbs(-4055.918, 0.01));
  CHECK(fit->customers == 946);
  CHECK(fit->standard_errors.p > 0);
  CHECK(fit->standard_errors.q > 0);
  CHECK(fit->standard_errors.gamma > 0);

  // A customer without repeat purchases: the population mean pγ/(q-1).
  absl::StatusOr<double> mean = GammaGammaExpectedSpend(fit->params, 0, 0);
  REQUIRE(mean.ok());
  CHECK_THAT(*mean, WithinAbs(35.17, 0.005));
}

TEST_CASE("Gamma-Gamma expected spend weighs the customer's mean by px") {
  const GammaGammaParams g{6.25, 3.74, 15.44};
  const double population = 6.25 * 15.44 / 2.74;
  // x = 2, m_x = 100: weights (q-1)/(px+q-1) and px/(px+q-1).
  const double w = 12.5 / (12.5 + 2.74);
  CHECK_THAT(*GammaGammaExpectedSpend(g, 2, 100), WithinRel((1 - w) * population + w * 100, 1e-14));
  // Many purchases: close to the customer's own mean.
  CHECK_THAT(*GammaGammaExpectedSpend(g, 1000, 100), WithinRel(100, 1e-3));
  // q <= 1: the population mean is infinite.
  CHECK(absl::IsFailedPrecondition(GammaGammaExpectedSpend({6, 1, 15}, 2, 10).status()));
}

TEST_CASE("Gamma-Gamma refuses too little data, bad rows and NaN") {
  std::vector<SpendObservation> few(5, {2, 30});
  absl::StatusOr<GammaGammaFit> fit = FitGammaGamma(few);
  REQUIRE(absl::IsFailedPrecondition(fit.status()));
  CHECK(ReasonOf(fit.status()) == "INSUFFICIENT_DATA");
  CHECK_THAT(
      std::string(fit.status().message()),
      Catch::Contains("at least 20 customers with a repeat purchase") && Catch::Contains("got 5"));

  std::vector<SpendObservation> data = CdnowRepeatBuyers();
  data[3].m_x = std::numeric_limits<double>::infinity();
  CHECK(FieldOf(FitGammaGamma(data).status()) == "customers[3].m_x");
  data[3] = {0, 10};
  CHECK(FieldOf(FitGammaGamma(data).status()) == "customers[3].x");
  data[3] = {1, 0};
  CHECK(FieldOf(FitGammaGamma(data).status()) == "customers[3].m_x");
  CHECK(FieldOf(GammaGammaLogLikelihood({std::numeric_limits<double>::quiet_NaN(), 1, 1}, {{1, 2}})
                    .status()) == "params.p");
  CHECK(FieldOf(GammaGammaExpectedSpend({6, 3, 15}, 2, std::numeric_limits<double>::quiet_NaN())
                    .status()) == "m_x");
}

TEST_CASE("Gamma-Gamma reports non-convergence instead of a bad fit") {
  FitOptions options;
  options.max_evaluations = 5;
  absl::StatusOr<GammaGammaFit> fit = FitGammaGamma(CdnowRepeatBuyers(), options);
  REQUIRE(absl::IsFailedPrecondition(fit.status()));
  CHECK(ReasonOf(fit.status()) == "MODEL_NOT_CONVERGED");
}

}  // namespace
