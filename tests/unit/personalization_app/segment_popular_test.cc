// Popular in segment over the in-memory repository and a fake segmentation:
// new customers get their latest segment's favourites, visitors those of a
// named segment; history, objections and an unreachable segmentation keep
// their answers; members are read once per TTL.
#include "services/personalization/app/segment_popular.h"

#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "tests/support/fakes/common_fakes.h"
#include "tests/support/fakes/personalization/fake_personalization_repository.h"
#include "tests/support/fakes/personalization/fake_slot_repository.h"
#include "tests/support/status_checks.h"

namespace {

using crm::personalization::app::ListRequest;
using crm::personalization::app::Reason;
using crm::personalization::app::RecommendationList;
using crm::personalization::app::Recommender;
using crm::personalization::app::SegmentPopular;
using crm::personalization::app::Strategy;
using crm::testing::RequireRefused;
using crm::testing::ValueOf;

const std::string kT = "tenant-1";

std::vector<std::string> Skus(const RecommendationList& l) {
  std::vector<std::string> out;
  for (const auto& p : l.products) out.push_back(p.sku);
  return out;
}

struct World {
  crm::testing::FakePersonalizationRepository repo;
  crm::testing::FixedClock clock{absl::FromUnixSeconds(1'800'000'000)};
  Recommender recommender{repo, {}, &clock};
  crm::testing::FakeSegmentation segmentation;
  SegmentPopular popular{recommender, segmentation, &clock};

  World() {
    std::vector<crm::personalization::app::Fact> facts;
    for (int i = 0; i < 8; ++i) {
      crm::events::CustomerChange k;
      k.kind = crm::events::CustomerChange::Kind::kCreated;
      k.tenant_id = kT;
      k.customer_id = "c" + std::to_string(i);
      facts.push_back(k);
      segmentation.known.insert(k.customer_id);
    }
    // A is the tenant's favourite (c2..c5); the vips c0 and c1 buy X.
    const std::vector<std::pair<std::string, std::vector<std::string>>> orders = {
        {"c0", {"X", "Y"}}, {"c1", {"X"}}, {"c2", {"A"}},
        {"c3", {"A"}},      {"c4", {"A"}}, {"c5", {"A", "Y"}}};
    for (const auto& [customer, skus] : orders) {
      crm::events::OrderFact o;
      o.tenant_id = kT;
      o.order_id = "o-" + customer;
      o.customer_id = customer;
      o.status = "placed";
      o.placed_time = clock.Now();
      for (const auto& s : skus) o.lines.push_back(crm::events::OrderLineFact{s, 1, 0});
      facts.push_back(o);
    }
    for (const auto& s : recommender.Apply(facts)) REQUIRE(s.ok());
    segmentation.segments["vip"] = {
        {"c0", clock.Now()}, {"c1", clock.Now()}, {"c7", clock.Now() - absl::Hours(1)}};
    segmentation.segments["newsletter"] = {{"c7", clock.Now() - absl::Hours(2)},
                                           {"c5", clock.Now()}};
  }
  RecommendationList For(const std::string& customer, const std::string& segment = "",
                         std::size_t count = 3) {
    ListRequest r;
    r.count = count;
    return ValueOf(
        popular.Apply(kT, customer, segment, r, ValueOf(recommender.ForCustomer(kT, customer, r))));
  }
};

}  // namespace

TEST_CASE("A new customer gets the favourites of the segment they entered last") {
  World w;
  // c6 and c7 have no history; c7 entered vip after newsletter.
  RecommendationList fallback = w.For("c6");
  CHECK(fallback.strategy == Strategy::kPopularFallback);  // in no segment
  CHECK(Skus(fallback).front() == "A");
  RecommendationList vip = w.For("c7");
  CHECK(vip.strategy == Strategy::kSegmentPopular);
  CHECK(vip.segment_id == "vip");
  REQUIRE(vip.products.size() == 3);
  CHECK(Skus(vip) == std::vector<std::string>{"X", "Y", "A"});  // then the tenant's
  CHECK(vip.products[0].reason == Reason::kPopularInSegment);
  CHECK(vip.products[0].because_sku.empty());
  CHECK(vip.products[2].reason == Reason::kPopular);
  // A segment named by the request wins.
  RecommendationList news = w.For("c7", "newsletter");
  CHECK(news.segment_id == "newsletter");
  CHECK(Skus(news).front() == "A");
}

TEST_CASE("History, objections and unknown segments keep or refuse the answer") {
  World w;
  CHECK(w.For("c0").strategy == Strategy::kPersonalized);  // has history: untouched
  ListRequest r;
  r.count = 3;
  RequireRefused(
      w.popular.Apply(kT, "c7", "nope", r, ValueOf(w.recommender.ForCustomer(kT, "c7", r)))
          .status(),
      absl::StatusCode::kNotFound, "SEGMENT_NOT_FOUND");
  // A visitor with a named segment.
  RecommendationList visitor =
      ValueOf(w.popular.Apply(kT, "", "vip", r, ValueOf(w.recommender.ForVisitor(kT, "v-1", r))));
  CHECK(visitor.strategy == Strategy::kSegmentPopular);
  CHECK(Skus(visitor).front() == "X");
  // Segmentation down: the tenant's popular products, as before.
  World down;
  down.segmentation.down = absl::UnavailableError("segmentation is down");
  RecommendationList l = down.For("c7");
  CHECK(l.strategy == Strategy::kPopularFallback);
  CHECK(Skus(l).front() == "A");
}

TEST_CASE("A segment's members are read once per TTL") {
  World w;
  w.For("c7", "vip");
  const int calls = w.segmentation.calls;
  w.For("c7", "vip");
  CHECK(w.segmentation.calls == calls);  // members cached
  w.clock.Advance(absl::Minutes(11));
  w.For("c7", "vip");
  CHECK(w.segmentation.calls == calls + 1);
}

TEST_CASE("A sample whose members have no history yet is read again") {
  World w;
  w.segmentation.segments["fresh"] = {{"c6", w.clock.Now()}};
  CHECK(w.For("c7", "fresh").strategy == Strategy::kPopularFallback);
  const int calls = w.segmentation.calls;
  w.segmentation.segments["fresh"]["c0"] = w.clock.Now();  // a buyer joins
  RecommendationList l = w.For("c7", "fresh");
  CHECK(w.segmentation.calls == calls + 1);
  CHECK(l.strategy == Strategy::kSegmentPopular);
  CHECK(Skus(l).front() == "X");
}
