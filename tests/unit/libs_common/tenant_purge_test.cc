// common::TenantPurger: bounded rounds over windows of blocks, a share per
// tenant, a tenant not done goes on where it stopped, errors end the round.
#include "libs/common/tenant_purge.h"

#include <catch2/catch.hpp>
#include <map>
#include <string>
#include <vector>

namespace {

using crm::common::PurgeStep;
using crm::common::TenantPurger;

const absl::Time kCutoff = absl::FromUnixSeconds(1700000000);

// A table of `blocks` blocks per tenant with one expired row in each;
// windows of 10 blocks.
struct Table {
  std::map<std::string, int64_t> blocks;
  std::vector<std::string> calls;  // "tenant@from"
  absl::StatusOr<PurgeStep> operator()(const std::string& tenant, absl::Time cutoff, int64_t from) {
    CHECK(cutoff == kCutoff);
    calls.push_back(tenant + "@" + std::to_string(from));
    PurgeStep s;
    const int64_t end = std::min(from + 10, blocks[tenant]);
    s.deleted = std::max<int64_t>(0, end - from);
    s.next_block = from + 10;
    s.done = s.next_block >= blocks[tenant];
    return s;
  }
};

TEST_CASE("tenant purge: shares, resumption, completion") {
  TenantPurger purger(4);
  Table t;
  t.blocks = {{"a", 55}, {"b", 15}};
  auto remove = [&](const std::string& tenant, absl::Time cutoff, int64_t from) {
    return t(tenant, cutoff, from);
  };
  auto r1 = purger.Round({{"a", kCutoff}, {"b", kCutoff}}, remove);
  REQUIRE(r1.ok());
  CHECK_FALSE(r1->complete);
  CHECK(r1->deleted == 20 + 15);
  CHECK(t.calls == std::vector<std::string>{"a@0", "a@10", "b@0", "b@10"});
  auto r2 = purger.Round({{"a", kCutoff}, {"b", kCutoff}}, remove);
  CHECK(r2->deleted == 20 + 15);  // a goes on at 20; b starts over (done before)
  CHECK_FALSE(r2->complete);
  auto r3 = purger.Round({{"a", kCutoff}}, remove);  // alone: the whole budget
  CHECK(r3->complete);
  CHECK(r3->deleted == 15);
  CHECK(t.calls.back() == "a@50");
  CHECK(purger.Round({}, remove)->deleted == 0);
}

TEST_CASE("tenant purge: an error ends the round with it") {
  TenantPurger purger(10);
  auto fail = [](const std::string&, absl::Time, int64_t) -> absl::StatusOr<PurgeStep> {
    return absl::UnavailableError("down");
  };
  CHECK(purger.Round({{"a", kCutoff}}, fail).status().code() == absl::StatusCode::kUnavailable);
}

}  // namespace
