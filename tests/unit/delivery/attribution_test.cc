#include "services/delivery/domain/attribution.h"

#include <catch2/catch.hpp>
#include <cmath>

namespace {

using crm::delivery::domain::AttributionPolicy;
using crm::delivery::domain::CreditedTouch;
using crm::delivery::domain::LiftOverHoldout;
using crm::delivery::domain::Touch;

const absl::Time kOrder = absl::FromUnixSeconds(1800000000);

Touch Clicked(const std::string& id, absl::Duration before) {
  Touch t;
  t.message_id = id;
  t.first_click_time = kOrder - before;
  t.last_click_time = kOrder - before;
  return t;
}

Touch Opened(const std::string& id, absl::Duration before) {
  Touch t;
  t.message_id = id;
  t.first_open_time = kOrder - before;
  t.last_open_time = kOrder - before;
  return t;
}

TEST_CASE("An order is credited to the last click within the window", "[delivery][attribution]") {
  std::vector<Touch> t = {Clicked("old", absl::Hours(24 * 8)), Clicked("click", absl::Hours(30)),
                          Clicked("later", absl::Hours(2)), Clicked("future", -absl::Seconds(1)),
                          Opened("open", absl::Minutes(5))};
  AttributionPolicy p;
  CHECK(CreditedTouch(t, kOrder, p) == std::optional<size_t>(2));
  // Opens never beat a click; they count only without one, and only when
  // the tenant counts them.
  std::vector<Touch> opens = {t[0], t[4]};
  CHECK_FALSE(CreditedTouch(opens, kOrder, p).has_value());
  p.opens_count = true;
  CHECK(CreditedTouch(opens, kOrder, p) == std::optional<size_t>(1));
  CHECK(CreditedTouch(t, kOrder, p) == std::optional<size_t>(2));
  // The window's edges are in it.
  p.window = absl::Hours(30);
  CHECK(CreditedTouch({t[1]}, kOrder, p) == std::optional<size_t>(0));
  p.window = absl::Hours(30) - absl::Seconds(1);
  CHECK_FALSE(CreditedTouch({t[1]}, kOrder, p).has_value());
  CHECK_FALSE(CreditedTouch({}, kOrder, p).has_value());
}

TEST_CASE("A message clicked again after the order counts by its first click",
          "[delivery][attribution]") {
  Touch again = Clicked("again", absl::Hours(3));
  again.last_click_time = kOrder + absl::Hours(1);
  std::vector<Touch> t = {Clicked("other", absl::Hours(5)), again};
  CHECK(CreditedTouch(t, kOrder, AttributionPolicy{}) == std::optional<size_t>(1));
}

TEST_CASE("Lift over the holdout with a 95 percent interval", "[delivery][attribution]") {
  // 120 of 1000 against 40 of 500: +4 points, se = sqrt(.12*.88/1000 + .08*.92/500).
  auto l = LiftOverHoldout(120, 1000, 40, 500);
  REQUIRE(l.defined);
  CHECK(l.variant_rate == Approx(0.12));
  CHECK(l.holdout_rate == Approx(0.08));
  CHECK(l.difference == Approx(0.04));
  const double se = std::sqrt(0.12 * 0.88 / 1000 + 0.08 * 0.92 / 500);
  CHECK(l.low == Approx(0.04 - 1.96 * se));
  CHECK(l.high == Approx(0.04 + 1.96 * se));
  CHECK(l.low > 0.0);  // significant at 95 %
  auto none = LiftOverHoldout(3, 10, 0, 0);
  CHECK_FALSE(none.defined);
  CHECK(none.variant_rate == Approx(0.3));
  CHECK(none.difference == 0.0);
}

}  // namespace
