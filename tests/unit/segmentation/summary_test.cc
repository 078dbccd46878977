// Purchase summaries by the CDNOW protocol: the README's checksums and the
// merge / return / unit rules on hand-made histories.
#include "services/segmentation/domain/summary.h"

#include <catch2/catch.hpp>
#include <limits>
#include <vector>

#include "libs/common/errors.h"
#include "tests/unit/segmentation/reference_data.h"

namespace {

using crm::common::FieldOf;
using namespace crm::segmentation::domain;  // NOLINT
using Catch::Matchers::WithinAbs;
using Catch::Matchers::WithinRel;

TEST_CASE("CDNOW summaries match the README's checksums") {
  std::vector<CustomerSummary> s = crm::segmentation::testing::CdnowSummaries();
  REQUIRE(s.size() == 2357);
  long sum_x = 0;
  int zero = 0;
  int repeat = 0;
  double sum_m = 0;
  size_t holdout = 0;
  for (const CustomerSummary& c : s) {
    sum_x += c.x;
    zero += c.x == 0 ? 1 : 0;
    if (c.x > 0) {
      ++repeat;
      sum_m += c.m_x;
    } else {
      CHECK(c.t_x == 0);
      CHECK(c.m_x == 0);
    }
    CHECK(c.t_x <= c.T);
    CHECK(c.T <= 39.0);  // the cohort's first purchases are in Q1 1997
    holdout += c.holdout_purchase_times.size();
  }
  CHECK(sum_x == 2457);
  CHECK(zero == 1411);
  CHECK(repeat == 946);
  CHECK_THAT(sum_m / repeat, WithinAbs(35.078, 5e-4));
  CHECK(holdout == 1882);
}

TEST_CASE("Same-day purchases are one event, and x, t_x, T, m_x come in weeks or days") {
  SummaryOptions options;
  options.calibration_end = absl::CivilDay(1997, 9, 30);
  options.holdout_end = absl::CivilDay(1997, 10, 14);
  std::vector<Purchase> p = {
      {absl::CivilDay(1997, 1, 1), 10},  {absl::CivilDay(1997, 1, 1), 5},
      {absl::CivilDay(1997, 1, 8), 20},  {absl::CivilDay(1997, 1, 15), 7},
      {absl::CivilDay(1997, 1, 15), 3},  {absl::CivilDay(1997, 10, 1), 4},
      {absl::CivilDay(1997, 10, 1), 4},  {absl::CivilDay(1997, 10, 14), 1},
      {absl::CivilDay(1997, 10, 15), 1},  // after the holdout
  };
  absl::StatusOr<std::optional<CustomerSummary>> s = Summarize(p, options);
  REQUIRE(s.ok());
  REQUIRE(s->has_value());
  const CustomerSummary& c = **s;
  CHECK(c.first_day == absl::CivilDay(1997, 1, 1));
  CHECK(c.x == 2);
  CHECK_THAT(c.t_x, WithinRel(2.0, 1e-15));
  CHECK_THAT(c.T, WithinRel(272.0 / 7, 1e-15));
  CHECK_THAT(c.m_x, WithinRel(15.0, 1e-15));  // (20 + 10) / 2; the first day is excluded
  REQUIRE(c.holdout_purchase_times.size() == 2);
  CHECK_THAT(c.holdout_purchase_times[0], WithinRel(1.0 / 7, 1e-15));
  CHECK_THAT(c.holdout_purchase_times[1], WithinRel(2.0, 1e-15));

  options.unit = TimeUnit::kDays;
  const CustomerSummary days = **Summarize(p, options);
  CHECK(days.t_x == 14);
  CHECK(days.T == 272);
  CHECK(days.holdout_purchase_times == std::vector<double>{1, 14});
}

TEST_CASE("Returns are negative amounts kept apart from purchase days and spend") {
  SummaryOptions options;
  options.calibration_end = absl::CivilDay(2020, 12, 31);
  std::vector<Purchase> p = {
      {absl::CivilDay(2020, 1, 1), 50},
      {absl::CivilDay(2020, 1, 5), -20},  // a return alone: no purchase day
      {absl::CivilDay(2020, 2, 1), 30},
      {absl::CivilDay(2020, 2, 1), -5},  // not netted into the day's total
      {absl::CivilDay(2020, 2, 2), 0},   // a free item is still a purchase day
  };
  const CustomerSummary c = **Summarize(p, options);
  CHECK(c.x == 2);
  CHECK(c.m_x == 15);  // (30 + 0) / 2
  CHECK(c.returns == 25);
  CHECK(c.t_x == 32.0 / 7);
}

TEST_CASE("Customers without a calibration purchase have no summary") {
  SummaryOptions options;
  options.calibration_end = absl::CivilDay(2020, 1, 31);
  options.holdout_end = absl::CivilDay(2020, 3, 1);
  absl::StatusOr<std::optional<CustomerSummary>> s =
      Summarize({{absl::CivilDay(2020, 2, 10), 5}}, options);
  REQUIRE(s.ok());
  CHECK(!s->has_value());
  absl::StatusOr<std::vector<CustomerSummary>> all =
      SummarizeAll({{"b", absl::CivilDay(2020, 1, 3), 1},
                    {"late", absl::CivilDay(2020, 2, 10), 5},
                    {"a", absl::CivilDay(2020, 1, 1), 1}},
                   options);
  REQUIRE(all.ok());
  REQUIRE(all->size() == 2);
  CHECK((*all)[0].customer_id == "a");
  CHECK((*all)[1].customer_id == "b");
}

TEST_CASE("Summaries refuse NaN and infinite amounts and a holdout before calibration end") {
  SummaryOptions options;
  options.calibration_end = absl::CivilDay(2020, 1, 31);
  absl::StatusOr<std::optional<CustomerSummary>> s =
      Summarize({{absl::CivilDay(2020, 1, 1), 5},
                 {absl::CivilDay(2020, 1, 2), std::numeric_limits<double>::quiet_NaN()}},
                options);
  REQUIRE(absl::IsInvalidArgument(s.status()));
  CHECK(FieldOf(s.status()) == "purchases[1].amount");
  s = Summarize({{absl::CivilDay(2020, 1, 1), std::numeric_limits<double>::infinity()}}, options);
  CHECK(absl::IsInvalidArgument(s.status()));
  options.holdout_end = absl::CivilDay(2020, 1, 1);
  CHECK(FieldOf(Summarize({}, options).status()) == "holdout_end");
}

}  // namespace
