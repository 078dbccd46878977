// Per-tenant retention of behaviour events: the rules (domain/behaviour.h)
// and the settings and purge rounds (app/behaviour_retention.h) over the
// in-memory BehaviourRepository.
#include "services/customer_store/app/behaviour_retention.h"

#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "libs/common/errors.h"
#include "services/customer_store/app/behaviour.h"
#include "tests/support/fakes/common_fakes.h"
#include "tests/support/fakes/customer_store/fake_behaviour_repository.h"
#include "tests/support/fakes/customer_store/fake_view_cache.h"

namespace {

using namespace crm::customer_store;  // NOLINT
using crm::common::FieldOf;
using crm::common::ReasonOf;

constexpr char kTenant[] = "11111111-1111-4111-8111-111111111111";
constexpr char kOtherTenant[] = "22222222-2222-4222-8222-222222222222";
constexpr char kThirdTenant[] = "33333333-3333-4333-8333-333333333333";
const absl::Time kNow = absl::FromUnixSeconds(1700000000);

struct Fixture {
  crm::testing::FakeBehaviourRepository repo;
  crm::testing::FakeViewCache cache;
  crm::testing::FixedClock clock{kNow};
  crm::testing::SequentialIdGenerator ids{100};
  app::BehaviourTracker tracker{repo, cache, clock, ids};
  // Windows of 2 "blocks" (positions, in the fake), at most 8 per round.
  app::BehaviourRetention retention{repo, repo, clock, app::RetentionLimits{2, 8}};

  app::Actor Admin(const std::string& tenant = kTenant, const std::string& key = "") {
    app::Actor a{tenant, "k0123456789abcdef", "", "UpdateBehaviourSettings", key, ""};
    if (!key.empty()) a.fingerprint = "fp";
    return a;
  }
  // `n` anonymous page views of `tenant`, `age` before now.
  void Track(const std::string& tenant, int n, absl::Duration age) {
    std::vector<domain::BehaviourInput> events;
    for (int i = 0; i < n; ++i) {
      domain::BehaviourInput in;
      in.type = "page.viewed";
      in.visitor_id = "v-" + std::to_string(i);
      in.occur_time = kNow - age;
      events.push_back(in);
    }
    app::Actor a{tenant, "k0123456789abcdef", "", "TrackEvents", "", ""};
    auto out = tracker.Track(a, events);
    REQUIRE(out.ok());
    REQUIRE(out->accepted == n);
  }
};

TEST_CASE("retention days: 0 keeps, 1..3650 purge, anything else is refused") {
  CHECK(domain::ValidateRetentionDays(0).ok());
  CHECK(domain::ValidateRetentionDays(1).ok());
  CHECK(domain::ValidateRetentionDays(3650).ok());
  for (int64_t bad : {-1, 3651, 1000000}) {
    absl::Status s = domain::ValidateRetentionDays(bad);
    CHECK(s.code() == absl::StatusCode::kInvalidArgument);
    CHECK(FieldOf(s) == "settings.retention_days");
  }
}

TEST_CASE("the cutoff is retention_days before now, none when events are kept") {
  domain::BehaviourSettings s;
  CHECK(domain::RetentionCutoff(s, kNow) == absl::InfinitePast());
  s.retention_days = 30;
  CHECK(domain::RetentionCutoff(s, kNow) == kNow - absl::Hours(24 * 30));
}

TEST_CASE("a retention change bumps the version, the same value changes nothing") {
  domain::BehaviourSettings s;
  CHECK(domain::EtagOf(s) == "0");
  CHECK(domain::ApplyRetention(s, 30, kNow));
  CHECK((s.retention_days == 30 && s.version == 1 && s.update_time == kNow));
  CHECK_FALSE(domain::ApplyRetention(s, 30, kNow + absl::Hours(1)));
  CHECK((s.version == 1 && s.update_time == kNow));
  CHECK(domain::EtagOf(s) == "1");
}

TEST_CASE("settings: defaults, update with etag, stale etag, invalid value, per tenant") {
  Fixture f;
  auto s = f.retention.Settings(kTenant);
  REQUIRE(s.ok());
  CHECK((s->retention_days == 0 && s->version == 0));

  auto bad = f.retention.UpdateSettings(f.Admin(), 4000, "");
  CHECK(bad.status().code() == absl::StatusCode::kInvalidArgument);
  CHECK(f.repo.writes() == 0);  // refused before any write

  auto stale = f.retention.UpdateSettings(f.Admin(), 30, "7");
  CHECK(ReasonOf(stale.status()) == "ETAG_MISMATCH");

  auto done = f.retention.UpdateSettings(f.Admin(), 30, "0");
  REQUIRE(done.ok());
  CHECK((done->retention_days == 30 && done->version == 1));
  CHECK(f.repo.emitted() == std::vector<std::string>{"behaviour.settings_updated:30"});
  // The same value again: no new version, no event.
  auto same = f.retention.UpdateSettings(f.Admin(), 30, "");
  REQUIRE(same.ok());
  CHECK(same->version == 1);
  CHECK(f.repo.emitted().size() == 1);
  // Another tenant still has the defaults.
  CHECK(f.retention.Settings(kOtherTenant)->version == 0);
  CHECK(f.retention.Settings(kTenant)->retention_days == 30);
}

TEST_CASE("a purge round deletes each tenant's events past its own retention only") {
  Fixture f;
  f.Track(kTenant, 3, absl::Hours(24 * 40));       // past 30 days
  f.Track(kTenant, 2, absl::Hours(24 * 10));       // within
  f.Track(kOtherTenant, 3, absl::Hours(24 * 40));  // keeps everything
  f.Track(kThirdTenant, 1, absl::Hours(24 * 80));  // past 60 days
  f.Track(kThirdTenant, 1, absl::Hours(24 * 40));  // within 60 days
  REQUIRE(f.retention.UpdateSettings(f.Admin(kTenant), 30, "").ok());
  REQUIRE(f.retention.UpdateSettings(f.Admin(kThirdTenant), 60, "").ok());

  auto round = f.retention.PurgeOnce();
  REQUIRE(round.ok());
  CHECK(round->tenants == 2);
  CHECK(round->deleted == 4);
  CHECK(round->complete);
  CHECK(f.repo.Events(kTenant).size() == 2);
  CHECK(f.repo.Events(kOtherTenant).size() == 3);
  CHECK(f.repo.Events(kThirdTenant).size() == 1);
  for (const auto& e : f.repo.Events(kTenant)) CHECK(e.occur_time > kNow - absl::Hours(24 * 30));
  // Partitions are dropped only where no event can arrive any more.
  REQUIRE(f.repo.drops().size() == 1);
  CHECK(f.repo.drops()[0] == kNow - domain::kMaxEventAge);
  // Nothing left: the next round deletes nothing.
  CHECK(f.retention.PurgeOnce()->deleted == 0);
}

TEST_CASE("a round is bounded: each tenant gets its share of steps, the rest comes next") {
  Fixture f;
  app::BehaviourRetention retention{f.repo, f.repo, f.clock, app::RetentionLimits{2, 4}};
  f.Track(kTenant, 7, absl::Hours(24 * 40));
  f.Track(kOtherTenant, 3, absl::Hours(24 * 40));
  REQUIRE(retention.UpdateSettings(f.Admin(kTenant), 30, "").ok());
  REQUIRE(retention.UpdateSettings(f.Admin(kOtherTenant), 30, "").ok());

  auto first = retention.PurgeOnce();
  REQUIRE(first.ok());
  CHECK_FALSE(first->complete);
  CHECK(first->deleted == 7);  // 2 steps each: 4 of the first, the other's 3
  CHECK(f.repo.Events(kTenant).size() == 3);
  CHECK(f.repo.Events(kOtherTenant).empty());
  CHECK(f.repo.deletes() == 4);

  // The first tenant goes on from where it stopped.
  auto second = retention.PurgeOnce();
  REQUIRE(second.ok());
  CHECK(second->deleted == 3);
  CHECK(second->complete);
  CHECK(f.repo.Events(kTenant).empty());
  // Two more steps each: the first tenant's last two windows, and a new
  // pass over the other's (done before: it starts over, finding nothing).
  CHECK(f.repo.deletes() == 8);
}

TEST_CASE("the clock moves: events age into the purge") {
  Fixture f;
  f.Track(kTenant, 1, absl::Hours(24 * 20));
  REQUIRE(f.retention.UpdateSettings(f.Admin(), 30, "").ok());
  CHECK(f.retention.PurgeOnce()->deleted == 0);
  f.clock.Advance(absl::Hours(24 * 11));
  CHECK(f.retention.PurgeOnce()->deleted == 1);
}

}  // namespace
