#include "services/personalization/domain/assignment.h"

#include <catch2/catch.hpp>
#include <cmath>
#include <map>
#include <string>

namespace {
using crm::personalization::domain::Arm;
using crm::personalization::domain::Assign;
using crm::personalization::domain::AssignmentHash;
using crm::personalization::domain::Bucket;
using crm::personalization::domain::Experiment;
}  // namespace

TEST_CASE("The assignment hash is pinned: changing it would reshuffle running experiments") {
  // FNV-1a 64 of "t\0e\0u\0" then splitmix64's finalizer, computed by hand.
  std::uint64_t h = 14695981039346656037ull;
  for (unsigned char c : std::string("t\0e\0u\0", 6)) {
    h ^= c;
    h *= 1099511628211ull;
  }
  h = (h ^ (h >> 30)) * 0xbf58476d1ce4e5b9ull;
  h = (h ^ (h >> 27)) * 0x94d049bb133111ebull;
  h ^= h >> 31;
  CHECK(AssignmentHash("t", "e", "u") == h);
  // Computed independently (Python, the same definition).
  CHECK(AssignmentHash("tenant-1", "banner", "cust-42") == 0x7c3d01b04bbe4db2ull);
  CHECK(Bucket("tenant-1", "banner", "cust-42") == 8882);
  // The strings are separated: ("ab", "c") is not ("a", "bc").
  CHECK(AssignmentHash("ab", "c", "u") != AssignmentHash("a", "bc", "u"));
}

TEST_CASE("Buckets are uniform and independent across experiments") {
  constexpr int kUnits = 100000;
  int counts[10] = {};
  int same = 0;
  for (int i = 0; i < kUnits; ++i) {
    const std::string unit = "customer-" + std::to_string(i);
    const auto a = Bucket("t1", "exp-a", unit);
    const auto b = Bucket("t1", "exp-b", unit);
    ++counts[a / 1000];
    same += (a < 5000) == (b < 5000);
  }
  // Each decile within 5 sigma of 10,000 (sigma ~ 95).
  for (int c : counts) CHECK(std::abs(c - kUnits / 10) < 475);
  // Halves of two experiments agree about half the time (sigma ~ 158).
  CHECK(std::abs(same - kUnits / 2) < 790);
}

TEST_CASE("Assign keeps the holdout and splits the rest by weight, the same on every call") {
  Experiment e;
  e.key = "home-banner";
  e.holdout_bp = 1000;
  e.arms = {Arm{"control", 1}, Arm{"new", 3}};
  std::map<std::string, int> seen;
  for (int i = 0; i < 40000; ++i) {
    const std::string unit = "v" + std::to_string(i);
    auto a = Assign("t1", e, unit);
    REQUIRE(a.ok());
    auto again = Assign("t1", e, unit);
    CHECK(again->arm == a->arm);
    CHECK(again->holdout == a->holdout);
    CHECK(a->holdout == (a->bucket < 1000));
    ++seen[a->holdout ? "(holdout)" : a->arm];
  }
  CHECK(std::abs(seen["(holdout)"] - 4000) < 400);
  CHECK(std::abs(seen["control"] - 9000) < 600);
  CHECK(std::abs(seen["new"] - 27000) < 900);

  Experiment bad = e;
  bad.arms.clear();
  CHECK_FALSE(Assign("t1", bad, "u").ok());
  bad = e;
  bad.arms[0].weight = 0;
  CHECK_FALSE(Assign("t1", bad, "u").ok());
  bad = e;
  bad.holdout_bp = 10001;
  CHECK_FALSE(Assign("t1", bad, "u").ok());
  bad = e;
  bad.holdout_bp = 10000;  // everyone held out
  CHECK(Assign("t1", bad, "u")->holdout);
}
