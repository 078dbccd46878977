// CustomerMerger (app/merge.h) over in-memory fakes: the merge and unmerge
// written once over CustomerTx.
#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "libs/common/errors.h"
#include "services/customer_store/app/merge.h"
#include "tests/support/fakes/common_fakes.h"
#include "tests/support/fakes/customer_store/fake_customer_repository.h"
#include "tests/support/fakes/customer_store/fake_view_cache.h"

namespace {

using namespace crm::customer_store;  // NOLINT
using crm::common::FieldOf;
using crm::common::ReasonOf;
using crm::testing::FakeCustomerRepository;
using crm::testing::FakeViewCache;
using crm::testing::FixedClock;
using domain::ConsentChannel;
using domain::ConsentPurpose;
using domain::ConsentStatus;
using domain::Customer;

constexpr char kTenant[] = "11111111-1111-4111-8111-111111111111";
constexpr char kOther[] = "22222222-2222-4222-8222-222222222222";
constexpr char kA[] = "00000000-0000-4000-8000-00000000000a";
constexpr char kB[] = "00000000-0000-4000-8000-00000000000b";

struct Fixture {
  FakeCustomerRepository repo;
  FakeViewCache cache;
  FixedClock clock{absl::FromUnixSeconds(1700000000)};
  app::CustomerMerger merger{repo, cache, clock};
  app::Actor actor{kTenant, "k0123456789abcdef", "", "MergeCustomers"};

  Fixture() {
    Customer a;
    a.id = kA;
    a.given_name = "Ada";
    a.emails = {"ada@example.com"};
    a.version = 2;
    Customer b;
    b.id = kB;
    b.given_name = "Other";
    b.family_name = "Lovelace";
    b.emails = {"lovelace@example.com"};
    b.version = 5;
    domain::Consent in;
    in.channel = ConsentChannel::kEmail;
    in.purpose = ConsentPurpose::kMarketing;
    in.status = ConsentStatus::kOptedIn;
    in.record_time = absl::FromUnixSeconds(1600000000);
    domain::Consent out = in;
    out.status = ConsentStatus::kOptedOut;
    repo.Put(kTenant, a, {in});
    repo.Put(kTenant, b, {out});
  }

  void WarmCache() {
    for (const char* id : {kA, kB}) {
      auto g = cache.Get(kTenant, id);
      cache.Put(kTenant, id, g.generation, "view");
      REQUIRE(cache.Get(kTenant, id).hit.has_value());
    }
  }
};

TEST_CASE("CustomerMerger rejects a self-merge without calling the repository", "[merger]") {
  Fixture f;
  auto r = f.merger.Merge(f.actor, kA, kA);
  REQUIRE_FALSE(r.ok());
  CHECK(r.status().code() == absl::StatusCode::kInvalidArgument);
  CHECK(FieldOf(r.status()) == "source_customer_id");
  CHECK(f.repo.merge_calls() == 0);
}

TEST_CASE("CustomerMerger rejects ids that are not UUIDs", "[merger]") {
  Fixture f;
  auto r1 = f.merger.Merge(f.actor, "not-a-uuid", kB);
  REQUIRE_FALSE(r1.ok());
  CHECK(r1.status().code() == absl::StatusCode::kInvalidArgument);
  CHECK(FieldOf(r1.status()) == "customer_id");
  auto r2 = f.merger.Merge(f.actor, kA, "");
  REQUIRE_FALSE(r2.ok());
  CHECK(FieldOf(r2.status()) == "source_customer_id");
  auto r3 = f.merger.Unmerge(f.actor, kA, "merge-1");
  REQUIRE_FALSE(r3.ok());
  CHECK(FieldOf(r3.status()) == "merge_id");
  auto r4 = f.merger.Unmerge(f.actor, "x", "00000000-0000-4000-9000-000000000001");
  REQUIRE_FALSE(r4.ok());
  CHECK(FieldOf(r4.status()) == "customer_id");
  CHECK(f.repo.merge_calls() == 0);
  CHECK(f.repo.unmerge_calls() == 0);
}

TEST_CASE("CustomerMerger merges by the survivorship rules and invalidates both views",
          "[merger]") {
  Fixture f;
  f.WarmCache();
  auto r = f.merger.Merge(f.actor, kA, kB);
  INFO(r.status().ToString());
  REQUIRE(r.ok());
  CHECK(r->survivor.id == kA);
  CHECK(r->survivor.given_name == "Ada");
  CHECK(r->survivor.family_name == "Lovelace");
  CHECK(r->survivor.emails == std::vector<std::string>{"ada@example.com", "lovelace@example.com"});
  CHECK(r->survivor.update_time == f.clock.Now());
  CHECK_FALSE(r->merge_id.empty());
  REQUIRE(r->resolutions.size() == 1);
  CHECK(r->resolutions[0].status == ConsentStatus::kOptedOut);
  CHECK(r->resolutions[0].record_time == f.clock.Now());
  CHECK(r->resolutions[0].source.find(kB) != std::string::npos);
  CHECK_FALSE(f.repo.Find(kTenant, kB).has_value());
  CHECK_FALSE(f.cache.Get(kTenant, kA).hit.has_value());
  CHECK_FALSE(f.cache.Get(kTenant, kB).hit.has_value());
  CHECK(f.cache.invalidate_calls() == 2);
}

TEST_CASE("CustomerMerger: a failed merge invalidates nothing and passes the error on",
          "[merger]") {
  Fixture f;
  f.WarmCache();
  f.actor.tenant_id = kOther;  // neither customer exists in this tenant
  auto r = f.merger.Merge(f.actor, kA, kB);
  REQUIRE_FALSE(r.ok());
  CHECK(r.status().code() == absl::StatusCode::kNotFound);
  CHECK(ReasonOf(r.status()) == "CUSTOMER_NOT_FOUND");
  CHECK(f.cache.invalidate_calls() == 0);
  CHECK(f.repo.Find(kTenant, kB).has_value());
}

TEST_CASE("CustomerMerger: an invalid merged profile is refused", "[merger]") {
  Fixture f;
  Customer a = *f.repo.Find(kTenant, kA);
  // 20 emails on the survivor, one more on the source: the union is too large.
  a.emails.clear();
  for (int i = 0; i < 20; ++i) a.emails.push_back("a" + std::to_string(i) + "@example.com");
  f.repo.Put(kTenant, a);
  auto r = f.merger.Merge(f.actor, kA, kB);
  REQUIRE_FALSE(r.ok());
  CHECK(r.status().code() == absl::StatusCode::kInvalidArgument);
  CHECK(f.repo.Find(kTenant, kB).has_value());
  CHECK(f.cache.invalidate_calls() == 0);
}

TEST_CASE("CustomerMerger unmerge restores the source, clears untouched filled fields and "
          "invalidates both views",
          "[merger]") {
  Fixture f;
  auto m = f.merger.Merge(f.actor, kA, kB);
  REQUIRE(m.ok());
  f.WarmCache();
  int before = f.cache.invalidate_calls();
  auto u = f.merger.Unmerge(f.actor, kA, m->merge_id);
  INFO(u.status().ToString());
  REQUIRE(u.ok());
  CHECK(u->restored.id == kB);
  CHECK(u->restored.family_name == "Lovelace");
  CHECK(u->survivor.family_name.empty());
  CHECK(u->survivor.given_name == "Ada");
  CHECK(f.cache.invalidate_calls() == before + 2);
  CHECK_FALSE(f.cache.Get(kTenant, kA).hit.has_value());
  CHECK_FALSE(f.cache.Get(kTenant, kB).hit.has_value());
  auto again = f.merger.Unmerge(f.actor, kA, m->merge_id);
  REQUIRE_FALSE(again.ok());
  CHECK(again.status().code() == absl::StatusCode::kFailedPrecondition);
  CHECK(ReasonOf(again.status()) == "NOT_MERGED");
}

TEST_CASE("CustomerMerger unmerge keeps a filled field edited since the merge", "[merger]") {
  Fixture f;
  auto m = f.merger.Merge(f.actor, kA, kB);
  REQUIRE(m.ok());
  Customer edited = *f.repo.Find(kTenant, kA);
  edited.family_name = "Byron";
  f.repo.Edit(kTenant, edited);
  auto u = f.merger.Unmerge(f.actor, kA, m->merge_id);
  REQUIRE(u.ok());
  CHECK(u->survivor.family_name == "Byron");
}

}  // namespace
