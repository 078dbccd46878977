// RedisViewCache against the private Redis. Keys are scoped by a random
// tenant id, so tests never collide with each other or other binaries.
#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "services/customer_store/storage/redis_view_cache.h"
#include "tests/integration/customer_store/cs_env.h"

namespace crm::customer_store::itest {
namespace {

using storage::RedisViewCache;

TEST_CASE("RedisViewCache: miss, put, hit, invalidate", "[customer_store][cache]") {
  auto redis = ts::MakeRedisPool();
  REQUIRE(redis.ok());
  RedisViewCache cache(**redis, absl::Minutes(5));
  const std::string tenant = NewTenant(), id = common::NewUuid();
  const std::string bytes = std::string("view|with|bars\0and nul", 22);

  auto miss = cache.Get(tenant, id);
  CHECK(miss.usable);
  CHECK_FALSE(miss.hit.has_value());
  CHECK(miss.generation == "0");

  cache.Put(tenant, id, miss.generation, bytes);
  auto hit = cache.Get(tenant, id);
  CHECK(hit.usable);
  REQUIRE(hit.hit.has_value());
  CHECK(*hit.hit == bytes);
  CHECK(hit.generation == "0");

  // Another customer and another tenant are separate entries.
  CHECK_FALSE(cache.Get(tenant, common::NewUuid()).hit.has_value());
  CHECK_FALSE(cache.Get(NewTenant(), id).hit.has_value());

  cache.Invalidate(tenant, id);
  auto after = cache.Get(tenant, id);
  CHECK(after.usable);
  CHECK_FALSE(after.hit.has_value());
  CHECK(after.generation != "0");

  cache.Put(tenant, id, after.generation, "fresh");
  auto fresh = cache.Get(tenant, id);
  REQUIRE(fresh.hit.has_value());
  CHECK(*fresh.hit == "fresh");
  CHECK(fresh.generation == after.generation);

  SECTION("the entry carries the TTL") {
    auto ttl = (*redis)->Command({"PTTL", absl::StrCat("crm:cs:view:", tenant, ":", id)});
    REQUIRE(ttl.ok());
    auto ms = ttl->Integer();
    REQUIRE(ms.ok());
    CHECK(*ms > 0);
    CHECK(*ms <= 5 * 60 * 1000);
  }
}

TEST_CASE("RedisViewCache: a Put racing an Invalidate is never served", "[customer_store][cache]") {
  auto redis = ts::MakeRedisPool();
  REQUIRE(redis.ok());
  RedisViewCache cache(**redis, absl::Minutes(5));
  const std::string tenant = NewTenant(), id = common::NewUuid();

  // Reader loads the view (generation taken first), a writer invalidates,
  // then the slow reader stores what it loaded before the write.
  auto reader = cache.Get(tenant, id);
  REQUIRE(reader.usable);
  cache.Invalidate(tenant, id);
  cache.Put(tenant, id, reader.generation, "stale view");
  auto got = cache.Get(tenant, id);
  CHECK(got.usable);
  CHECK_FALSE(got.hit.has_value());

  // Same with an entry that was already cached.
  cache.Put(tenant, id, got.generation, "v1");
  auto before = cache.Get(tenant, id);
  REQUIRE(before.hit.has_value());
  cache.Invalidate(tenant, id);
  cache.Put(tenant, id, before.generation, "v1 again");
  auto later = cache.Get(tenant, id);
  CHECK_FALSE(later.hit.has_value());
  CHECK(later.generation != before.generation);
}

TEST_CASE("RedisViewCache: Redis down is unusable, never an error", "[customer_store][cache]") {
  crm::redis::PoolOptions o;
  o.host = "127.0.0.1";
  o.port = 1;
  o.size = 1;
  o.connect_timeout = absl::Milliseconds(200);
  o.command_timeout = absl::Milliseconds(200);
  auto down = crm::redis::Pool::Create(o);
  REQUIRE(down.ok());
  RedisViewCache cache(**down, absl::Minutes(5));
  const std::string tenant = NewTenant(), id = common::NewUuid();
  const absl::Time start = absl::Now();
  auto l = cache.Get(tenant, id);
  CHECK_FALSE(l.usable);
  CHECK_FALSE(l.hit.has_value());
  cache.Put(tenant, id, "0", "bytes");
  cache.Invalidate(tenant, id);
  auto l2 = cache.Get(tenant, id);
  CHECK_FALSE(l2.usable);
  CHECK_FALSE(l2.hit.has_value());
  CHECK(absl::Now() - start < absl::Seconds(5));
}

TEST_CASE("RedisViewCache: InvalidateMany drops every view named in one pipeline",
          "[customer_store][cache]") {
  auto redis = ts::MakeRedisPool();
  REQUIRE(redis.ok());
  RedisViewCache cache(**redis, absl::Minutes(5));
  const std::string tenant = NewTenant();
  const std::vector<std::string> ids = {common::NewUuid(), common::NewUuid(), common::NewUuid()};
  const std::string kept = common::NewUuid();
  for (const auto& id : ids) cache.Put(tenant, id, "0", "v");
  cache.Put(tenant, kept, "0", "v");
  cache.InvalidateMany(tenant, {ids[0], ids[2]});
  CHECK_FALSE(cache.Get(tenant, ids[0]).hit.has_value());
  CHECK(cache.Get(tenant, ids[1]).hit.has_value());
  CHECK_FALSE(cache.Get(tenant, ids[2]).hit.has_value());
  CHECK(cache.Get(tenant, ids[2]).generation != "0");
  CHECK(cache.Get(tenant, kept).hit.has_value());
  cache.InvalidateMany(tenant, {});
}

}  // namespace
}  // namespace crm::customer_store::itest
