// Retry delays: exponential growth, the cap, equal jitter.
#include "services/delivery/domain/backoff.h"

#include <catch2/catch.hpp>
#include <climits>
#include <limits>

namespace {

using crm::delivery::domain::RetryDelay;

constexpr double kAlmostOne = 0.999999;

TEST_CASE("the delay doubles per attempt, zero jitter gives half of it", "[delivery][backoff]") {
  absl::Duration base = absl::Seconds(10);
  absl::Duration cap = absl::Hours(6);
  CHECK(RetryDelay(1, base, cap, 0.0) == absl::Seconds(5));
  CHECK(RetryDelay(2, base, cap, 0.0) == absl::Seconds(10));
  CHECK(RetryDelay(3, base, cap, 0.0) == absl::Seconds(20));
  CHECK(RetryDelay(4, base, cap, 0.0) == absl::Seconds(40));
  CHECK(RetryDelay(11, base, cap, 0.0) == absl::Seconds(5 * 1024));
}

TEST_CASE("jitter spreads the second half of the delay", "[delivery][backoff]") {
  absl::Duration base = absl::Seconds(10);
  absl::Duration cap = absl::Hours(6);
  CHECK(RetryDelay(3, base, cap, 0.5) == absl::Seconds(30));  // d = 40s: 20s + 0.5 * 20s
  CHECK(RetryDelay(3, base, cap, 0.25) == absl::Seconds(25));
  absl::Duration high = RetryDelay(3, base, cap, kAlmostOne);
  CHECK(high < absl::Seconds(40));
  CHECK(high > absl::Seconds(39));
  // Out-of-range jitter is clamped rather than trusted.
  CHECK(RetryDelay(3, base, cap, -3.0) == absl::Seconds(20));
  CHECK(RetryDelay(3, base, cap, std::numeric_limits<double>::quiet_NaN()) == absl::Seconds(20));
  CHECK(RetryDelay(3, base, cap, 7.0) == absl::Seconds(40));
}

TEST_CASE("the delay is capped, also for huge attempt numbers", "[delivery][backoff]") {
  absl::Duration base = absl::Seconds(10);
  absl::Duration cap = absl::Minutes(5);
  CHECK(RetryDelay(5, base, cap, 0.0) == absl::Seconds(80));   // d = 160s
  CHECK(RetryDelay(6, base, cap, 0.0) == absl::Seconds(150));  // d = 320s -> 300s
  CHECK(RetryDelay(7, base, cap, 0.0) == absl::Seconds(150));
  CHECK(RetryDelay(64, base, cap, 0.0) == absl::Seconds(150));
  CHECK(RetryDelay(1000, base, cap, 0.5) == absl::Seconds(225));
  CHECK(RetryDelay(INT_MAX, base, cap, 0.0) == absl::Seconds(150));
  CHECK(RetryDelay(INT_MAX, absl::Nanoseconds(1), absl::Hours(24 * 365 * 100), 0.0) ==
        absl::Hours(24 * 365 * 50));
  CHECK(RetryDelay(INT_MAX, base, cap, kAlmostOne) < cap);
}

TEST_CASE("degenerate inputs", "[delivery][backoff]") {
  absl::Duration base = absl::Seconds(10);
  absl::Duration cap = absl::Minutes(5);
  CHECK(RetryDelay(0, base, cap, 0.0) == absl::Seconds(5));  // counts as attempt 1
  CHECK(RetryDelay(-5, base, cap, 0.0) == absl::Seconds(5));
  CHECK(RetryDelay(1, base, absl::Seconds(4), 0.0) == absl::Seconds(2));  // cap < base
  CHECK(RetryDelay(3, absl::ZeroDuration(), cap, 0.5) == absl::ZeroDuration());
  CHECK(RetryDelay(3, -base, cap, 0.5) == absl::ZeroDuration());
  CHECK(RetryDelay(3, base, absl::ZeroDuration(), 0.5) == absl::ZeroDuration());
}

TEST_CASE("every delay lies between d/2 and d", "[delivery][backoff]") {
  absl::Duration base = absl::Milliseconds(250);
  absl::Duration cap = absl::Minutes(30);
  for (int attempt = 1; attempt <= 40; ++attempt) {
    absl::Duration d = base;
    for (int i = 1; i < attempt; ++i) d = std::min(d * 2, cap);
    for (double j : {0.0, 0.1, 0.5, 0.9, kAlmostOne}) {
      INFO("attempt " << attempt << " jitter " << j);
      absl::Duration got = RetryDelay(attempt, base, cap, j);
      CHECK(got >= d / 2);
      CHECK(got < d);
    }
  }
}

}  // namespace
