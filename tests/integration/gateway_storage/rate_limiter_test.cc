// RedisRateLimiter (Lua token bucket) against the private Redis. Every test
// uses fresh key ids, so parallel runs never share a bucket.
#include <memory>
#include <string>

#include <catch2/catch.hpp>

#include "absl/time/clock.h"
#include "services/gateway/storage/redis_rate_limiter.h"
#include "tests/integration/gateway_storage/gw_env.h"
#include "tests/support/redis_test_db.h"

namespace crm::gateway::itest {
namespace {

std::unique_ptr<crm::redis::Pool> RedisPool() {
  auto p = ts::MakeRedisPool();
  INFO(p.status().ToString());
  REQUIRE(p.ok());
  return std::move(p).value();
}

app::RateDecision TakeOk(storage::RedisRateLimiter& rl, const std::string& key, int rate,
                         int burst) {
  auto d = rl.Take(key, rate, burst, 1);
  INFO(d.status().ToString());
  REQUIRE(d.ok());
  return *d;
}

TEST_CASE("Token bucket: burst, deny with retry-after, refill", "[gateway][ratelimit]") {
  auto redis = RedisPool();
  storage::RedisRateLimiter rl(*redis);
  const std::string key = NewKeyId();

  for (int i = 0; i < 5; ++i) {
    INFO("take " << i);
    app::RateDecision d = TakeOk(rl, key, 5, 5);
    CHECK(d.allowed);
    CHECK(d.retry_after == absl::ZeroDuration());
  }
  app::RateDecision denied = TakeOk(rl, key, 5, 5);
  CHECK_FALSE(denied.allowed);
  CHECK(denied.retry_after > absl::ZeroDuration());
  CHECK(denied.retry_after <= absl::Milliseconds(200));  // one token at 5/s

  // A denied take costs nothing; after ~250 ms one token is back (5/s).
  absl::SleepFor(absl::Milliseconds(260));
  app::RateDecision refilled = TakeOk(rl, key, 5, 5);
  CHECK(refilled.allowed);
  app::RateDecision next = TakeOk(rl, key, 5, 5);
  CHECK_FALSE(next.allowed);

  SECTION("distinct keys have their own buckets") {
    const std::string other = NewKeyId();
    for (int i = 0; i < 5; ++i) {
      INFO("take " << i);
      CHECK(TakeOk(rl, other, 5, 5).allowed);
    }
    CHECK_FALSE(TakeOk(rl, other, 5, 5).allowed);
    CHECK_FALSE(TakeOk(rl, key, 5, 5).allowed);
  }
  SECTION("the bucket never holds more than burst") {
    const std::string idle = NewKeyId();
    CHECK(TakeOk(rl, idle, 50, 2).allowed);
    absl::SleepFor(absl::Milliseconds(200));  // would refill 10 tokens without the cap
    CHECK(TakeOk(rl, idle, 50, 2).allowed);
    CHECK(TakeOk(rl, idle, 50, 2).allowed);
    CHECK_FALSE(TakeOk(rl, idle, 50, 2).allowed);
  }
  SECTION("the bucket key expires") {
    auto ttl = redis->Command({"PTTL", "crm:rl:" + key});
    REQUIRE(ttl.ok());
    auto ms = ttl->Integer();
    REQUIRE(ms.ok());
    CHECK(*ms > 0);
    CHECK(*ms <= 2000);
  }
}

TEST_CASE("Rate limiter with Redis down is an error, not a crash", "[gateway][ratelimit]") {
  crm::redis::PoolOptions o;
  o.host = "127.0.0.1";
  o.port = 1;
  o.size = 1;
  o.connect_timeout = absl::Milliseconds(200);
  auto down = crm::redis::Pool::Create(o);
  REQUIRE(down.ok());
  storage::RedisRateLimiter rl(**down);
  auto d = rl.Take(NewKeyId(), 5, 5, 1);
  CHECK_FALSE(d.ok());
  CHECK(d.status().code() == absl::StatusCode::kUnavailable);
}

TEST_CASE("Token bucket: a lease takes up to `want` tokens, never more than held",
          "[gateway][ratelimit]") {
  auto redis = RedisPool();
  storage::RedisRateLimiter rl(*redis);
  const std::string key = NewKeyId();
  auto first = rl.Take(key, 10, 10, 4);
  REQUIRE(first.ok());
  CHECK(first->allowed);
  CHECK(first->granted == 4);
  auto second = rl.Take(key, 10, 10, 8);  // 6 left in the bucket
  REQUIRE(second.ok());
  CHECK(second->granted == 6);
  auto third = rl.Take(key, 10, 10, 8);
  REQUIRE(third.ok());
  CHECK_FALSE(third->allowed);
  CHECK(third->granted == 0);
  CHECK(third->retry_after > absl::ZeroDuration());
}

}  // namespace
}  // namespace crm::gateway::itest
