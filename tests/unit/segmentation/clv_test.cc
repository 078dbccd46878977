// Discounted CLV: a hand-checkable case, then the BG/NBD x Gamma-Gamma one.
#include "services/segmentation/domain/clv.h"

#include <catch2/catch.hpp>
#include <cmath>
#include <limits>

#include "libs/common/errors.h"

namespace {

using crm::common::FieldOf;
using namespace crm::segmentation::domain;  // NOLINT
using Catch::Matchers::WithinRel;

TEST_CASE("Discounted value by hand: a straight line of purchases") {
  // 2 purchases per period, spend 10, 3 periods at 10 %:
  // 10 · 2 · (1/1.1 + 1/1.21 + 1/1.331) = 20 · 2.486852... = 49.7370...
  ClvOptions options;
  options.periods = 3;
  options.period_length = 4;
  options.discount_rate = 0.10;
  absl::StatusOr<double> v =
      DiscountedValue([](double t) -> absl::StatusOr<double> { return 0.5 * t; }, 10, options);
  REQUIRE(v.ok());
  CHECK_THAT(*v, WithinRel(20 * (1 / 1.1 + 1 / 1.21 + 1 / 1.331), 1e-14));
  CHECK_THAT(*v, WithinRel(49.73703981968445, 1e-12));
  // No discounting: spend x all expected purchases.
  options.discount_rate = 0;
  CHECK_THAT(
      *DiscountedValue([](double t) -> absl::StatusOr<double> { return 0.5 * t; }, 10, options),
      WithinRel(60.0, 1e-14));
}

TEST_CASE("CLV of a customer: undiscounted it is E[Z] times E[Y(horizon)]") {
  const BgNbdParams bg{0.2426, 4.4137, 0.7930, 2.4262};
  const GammaGammaParams gg{6.2496, 3.7442, 15.4435};
  const FrequencyRecency c{2, 30.43, 38.86};
  ClvOptions options;
  options.periods = 12;
  options.period_length = 52.0 / 12;
  options.discount_rate = 0;
  absl::StatusOr<double> clv = CustomerLifetimeValue(bg, gg, c, 40, options);
  REQUIRE(clv.ok());
  const double spend = *GammaGammaExpectedSpend(gg, 2, 40);
  const double purchases = *BgNbdConditionalExpectedPurchases(bg, c, 52);
  CHECK_THAT(*clv, WithinRel(spend * purchases, 1e-12));
  // Discounting lowers it, a longer horizon raises it.
  options.discount_rate = 0.01;
  const double discounted = *CustomerLifetimeValue(bg, gg, c, 40, options);
  CHECK(discounted < *clv);
  options.periods = 24;
  CHECK(*CustomerLifetimeValue(bg, gg, c, 40, options) > discounted);
}

TEST_CASE("CLV refuses bad options") {
  auto line = [](double t) -> absl::StatusOr<double> { return t; };
  ClvOptions bad;
  bad.periods = 0;
  CHECK(FieldOf(DiscountedValue(line, 1, bad).status()) == "options.periods");
  bad = {};
  bad.discount_rate = std::numeric_limits<double>::quiet_NaN();
  CHECK(FieldOf(DiscountedValue(line, 1, bad).status()) == "options.discount_rate");
  bad = {};
  bad.period_length = -1;
  CHECK(FieldOf(DiscountedValue(line, 1, bad).status()) == "options.period_length");
  CHECK(FieldOf(DiscountedValue(line, std::numeric_limits<double>::infinity(), {}).status()) ==
        "expected_spend");
}

}  // namespace
