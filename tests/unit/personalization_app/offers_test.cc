// The offer use cases over the in-memory repositories: writes and their
// refusals, next best offers ranked by priority and expected value, rules,
// windows, caps (also from concurrent calls), replays, the objection to
// profiling, segmentation down.
#include "services/personalization/app/offers.h"

#include <catch2/catch.hpp>
#include <string>
#include <thread>
#include <vector>

#include "tests/support/fakes/common_fakes.h"
#include "tests/support/fakes/personalization/fake_offer_repository.h"
#include "tests/support/fakes/personalization/fake_personalization_repository.h"
#include "tests/support/fakes/personalization/fake_slot_repository.h"
#include "tests/support/status_checks.h"

namespace {

using crm::events::ConsentFact;
using crm::events::CustomerChange;
using crm::events::OrderFact;
using crm::events::OrderLineFact;
using crm::outbox::WriteMeta;
using crm::personalization::app::Fact;
using crm::personalization::app::NextBestOffers;
using crm::personalization::app::Offers;
using crm::personalization::app::Recommender;
using crm::personalization::domain::Offer;
using crm::personalization::domain::OfferKind;
using crm::testing::RequireRefused;
using crm::testing::ValueOf;

const std::string kT = "tenant-1";

WriteMeta Meta(const std::string& key, const std::string& method = "CreateOffer") {
  return WriteMeta{kT, "tester", "req", method, key, key.empty() ? "" : "fp"};
}

Offer Make(const std::string& id, std::int64_t value, std::vector<std::string> skus = {},
           std::string rule = "") {
  Offer o;
  o.offer_id = id;
  o.display_name = id;
  o.kind = skus.empty() ? OfferKind::kContent : OfferKind::kCrossSell;
  o.skus = std::move(skus);
  o.value_minor = value;
  o.rule = std::move(rule);
  o.content = "content of " + id;
  return o;
}

std::vector<std::string> Ids(const NextBestOffers& n) {
  std::vector<std::string> out;
  for (const auto& d : n.decisions) out.push_back(d.offer.offer_id);
  return out;
}

struct World {
  crm::testing::FakePersonalizationRepository repo;
  crm::testing::FakeOfferRepository offer_repo;
  crm::testing::FakeSegmentation segmentation;
  crm::testing::FixedClock clock{absl::FromUnixSeconds(1'800'000'000)};
  Recommender recommender{repo, {}, &clock};
  Offers offers{offer_repo, recommender, segmentation, &clock};
  int keys = 0;

  World() {
    std::vector<Fact> facts;
    for (int i = 0; i < 20; ++i) {
      CustomerChange k;
      k.kind = CustomerChange::Kind::kCreated;
      k.tenant_id = kT;
      k.customer_id = "c" + std::to_string(i);
      facts.push_back(k);
      segmentation.known.insert(k.customer_id);
    }
    // A with B (twice), A with C (once): c0 has A, so B is its best.
    const std::vector<std::pair<std::string, std::vector<std::string>>> orders = {
        {"c1", {"A", "B"}}, {"c2", {"A", "B"}}, {"c3", {"A", "C"}}, {"c0", {"A"}}};
    for (const auto& [customer, skus] : orders) {
      OrderFact o;
      o.tenant_id = kT;
      o.order_id = "o-" + customer;
      o.customer_id = customer;
      o.status = "placed";
      o.placed_time = clock.Now();
      for (const auto& s : skus) o.lines.push_back(OrderLineFact{s, 1, 0});
      facts.push_back(o);
    }
    for (const auto& s : recommender.Apply(facts)) REQUIRE(s.ok());
  }
  void Create(Offer o) {
    const WriteMeta meta = Meta("create-" + o.offer_id);
    REQUIRE(offers.Create(meta, std::move(o)).ok());
  }
  NextBestOffers Next(const std::string& customer, std::size_t count = 3,
                      const std::string& key = "") {
    return ValueOf(offers.Next(Meta(key, "NextBestOffers"), customer, count));
  }
};

}  // namespace

TEST_CASE("Offer writes: checks, taken ids, stale etags, retirement, restart") {
  World w;
  Offer bad = Make("x", 10, {}, "orders(30d) >=");
  RequireRefused(w.offers.Create(Meta("k0"), bad).status(), absl::StatusCode::kInvalidArgument,
                 "INVALID_FIELD");
  w.Create(Make("welcome", 100));
  RequireRefused(w.offers.Create(Meta("k1"), Make("welcome", 5)).status(),
                 absl::StatusCode::kAlreadyExists, "OFFER_EXISTS");
  Offer edit = Make("welcome", 300);
  RequireRefused(w.offers.Update(Meta("k2", "UpdateOffer"), edit, "9").status(),
                 absl::StatusCode::kAborted, "ETAG_MISMATCH");
  CHECK(ValueOf(w.offers.Update(Meta("k3", "UpdateOffer"), edit, "1")).version == 2);
  CHECK(ValueOf(w.offers.Get(kT, "welcome")).value_minor == 300);
  auto retired = w.offers.Retire(Meta("k4", "RetireOffer"), "welcome", "");
  REQUIRE(retired.ok());
  CHECK(retired->retired);
  RequireRefused(w.offers.Update(Meta("k5", "UpdateOffer"), edit, "").status(),
                 absl::StatusCode::kNotFound, "OFFER_NOT_FOUND");
  CHECK(w.Next("c0").decisions.empty());  // retired: never offered
  Offers restarted(w.offer_repo, w.recommender, w.segmentation, &w.clock);
  REQUIRE(restarted.Load().ok());
  CHECK(ValueOf(restarted.Get(kT, "welcome")).retired);
  RequireRefused(w.offers.Get("tenant-2", "welcome").status(), absl::StatusCode::kNotFound,
                 "OFFER_NOT_FOUND");
}

TEST_CASE("Next best offers rank by priority, then value, P(alive) and relevance") {
  World w;
  w.Create(Make("plain", 100));          // EV 100 * 0.5 = 50
  w.Create(Make("b-cross", 80, {"B"}));  // relevance 1 for c0: EV 80
  w.Create(Make("c-cross", 90, {"C"}));  // relevance (1/4)^3 / (2/4)^3: EV 50.6
  Offer pinned = Make("pinned", 1);
  pinned.priority = 10;
  w.Create(pinned);
  auto n = w.Next("c0", 4);
  CHECK(Ids(n) == std::vector<std::string>{"pinned", "b-cross", "c-cross", "plain"});
  CHECK(n.decisions[1].relevance == Approx(1.0));
  CHECK(n.decisions[1].expected_value == Approx(80));
  CHECK(n.decisions[0].rank == 1);
  CHECK(n.decisions[3].rank == 4);
  CHECK(n.decisions[0].reason == "ranked");
  CHECK(n.personalized);
  // P(alive) scales every expected value.
  w.segmentation.p_alive["c0"] = 0.5;
  CHECK(w.Next("c0", 2).decisions[1].expected_value == Approx(40));
  CHECK(w.offer_repo.Decisions().size() == 6);
  RequireRefused(w.offers.Next(Meta("", "NextBestOffers"), "nobody", 3).status(),
                 absl::StatusCode::kNotFound, "CUSTOMER_NOT_FOUND");
}

TEST_CASE("Rules, windows and caps decide what is offered") {
  World w;
  w.Create(Make("buyers", 500, {}, "orders(365d) >= 1"));
  Offer later = Make("later", 900);
  later.start_time = w.clock.Now() + absl::Hours(1);
  w.Create(later);
  Offer once = Make("once", 400);
  once.per_customer_cap = 1;
  w.Create(once);
  Offer scarce = Make("scarce", 300);
  scarce.global_cap = 2;
  w.Create(scarce);
  w.Create(Make("always", 1));
  w.segmentation.matches = {{"c1", "orders(365d) >= 1"}};
  CHECK(Ids(w.Next("c1", 4)) == std::vector<std::string>{"buyers", "once", "scarce", "always"});
  // once: capped for c1; scarce: one left.
  CHECK(Ids(w.Next("c1", 4)) == std::vector<std::string>{"buyers", "scarce", "always"});
  CHECK(Ids(w.Next("c2", 4)) == std::vector<std::string>{"once", "always"});
  // An hour later the late offer starts.
  w.clock.Advance(absl::Hours(1));
  CHECK(Ids(w.Next("c3", 1)) == std::vector<std::string>{"later"});
  CHECK(ValueOf(w.offers.Presented(kT, "scarce")) == 2);
}

TEST_CASE("A replayed call answers the same decisions and claims nothing more") {
  World w;
  Offer one = Make("one", 10);
  one.global_cap = 1;
  w.Create(one);
  auto first = w.Next("c0", 3, "call-1");
  REQUIRE(first.decisions.size() == 1);
  auto again = w.Next("c0", 3, "call-1");
  REQUIRE(again.decisions.size() == 1);
  CHECK(again.decisions[0].decision_id == first.decisions[0].decision_id);
  CHECK(w.offer_repo.Decisions().size() == 1);
  CHECK(w.Next("c1").decisions.empty());  // the cap was claimed once
}

TEST_CASE("Concurrent calls never exceed a global cap") {
  World w;
  Offer scarce = Make("scarce", 10);
  scarce.global_cap = 5;
  w.Create(scarce);
  std::vector<std::thread> threads;
  std::atomic<int> granted{0};
  for (int i = 0; i < 20; ++i) {
    threads.emplace_back([&, i] {
      auto n = w.offers.Next(Meta("", "NextBestOffers"), "c" + std::to_string(i), 1);
      if (n.ok()) granted += static_cast<int>(n->decisions.size());
    });
  }
  for (auto& t : threads) t.join();
  CHECK(granted == 5);
  CHECK(ValueOf(w.offers.Presented(kT, "scarce")) == 5);
}

TEST_CASE("An objection to profiling and segmentation down") {
  World w;
  w.Create(Make("buyers", 500, {}, "orders(365d) >= 1"));
  w.Create(Make("b-cross", 80, {"B"}));
  w.Create(Make("plain", 100));
  w.segmentation.matches = {{"c0", "orders(365d) >= 1"}};
  w.segmentation.down = absl::UnavailableError("segmentation is down");
  auto degraded = w.Next("c0");
  CHECK_FALSE(degraded.rules_evaluated);
  CHECK(Ids(degraded) == std::vector<std::string>{"b-cross", "plain"});
  w.segmentation.down = absl::OkStatus();
  ConsentFact objection;
  objection.tenant_id = kT;
  objection.customer_id = "c0";
  objection.channel = "web";
  objection.purpose = "profiling";
  objection.status = "opted_out";
  objection.recorded_time = w.clock.Now();
  for (const auto& s : w.recommender.Apply({objection})) REQUIRE(s.ok());
  const int calls = w.segmentation.calls;
  auto n = w.Next("c0");
  CHECK_FALSE(n.personalized);
  // No rule read, no relevance: by value alone.
  CHECK(Ids(n) == std::vector<std::string>{"plain", "b-cross"});
  CHECK(n.decisions[0].reason == "not_personalized");
  CHECK(n.decisions[1].relevance == 0);
  CHECK(w.segmentation.calls == calls);
}
