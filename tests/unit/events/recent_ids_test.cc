// The consumer's bounded LRU of recently handled event ids.
#include <catch2/catch.hpp>

#include "libs/events/consumer.h"

namespace {

using crm::events::RecentIds;

TEST_CASE("RecentIds remembers inserted ids", "[events][dedup]") {
  RecentIds r(3);
  CHECK_FALSE(r.Contains("a"));
  r.Insert("a");
  CHECK(r.Contains("a"));
  r.Insert("a");
  CHECK(r.size() == 1);
}

TEST_CASE("RecentIds evicts the least recently used id", "[events][dedup]") {
  RecentIds r(3);
  r.Insert("a");
  r.Insert("b");
  r.Insert("c");
  CHECK(r.Contains("a"));  // refreshes a: b is now the oldest
  r.Insert("d");
  CHECK(r.size() == 3);
  CHECK_FALSE(r.Contains("b"));
  CHECK(r.Contains("a"));
  CHECK(r.Contains("c"));
  CHECK(r.Contains("d"));
}

TEST_CASE("RecentIds capacity is at least one", "[events][dedup]") {
  RecentIds r(0);
  r.Insert("a");
  CHECK(r.Contains("a"));
  r.Insert("b");
  CHECK(r.size() == 1);
  CHECK(r.Contains("b"));
  CHECK_FALSE(r.Contains("a"));
}

}  // namespace
