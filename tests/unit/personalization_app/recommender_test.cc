// The recommendation use cases over the in-memory repository: what events
// teach the models, redelivery, restarts, erasure, consent, catalog rules.
#include "services/personalization/app/recommender.h"

#include <algorithm>
#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "tests/support/fakes/common_fakes.h"
#include "tests/support/fakes/personalization/fake_personalization_repository.h"
#include "tests/support/status_checks.h"

namespace {

using crm::events::BehaviourFact;
using crm::events::ConsentFact;
using crm::events::CustomerChange;
using crm::events::OrderFact;
using crm::events::OrderLineFact;
using crm::events::ProductFact;
using crm::personalization::app::Fact;
using crm::personalization::app::ListRequest;
using crm::personalization::app::Reason;
using crm::personalization::app::RecommendationList;
using crm::personalization::app::Recommender;
using crm::personalization::app::Strategy;
using crm::testing::FakePersonalizationRepository;

const std::string kT = "tenant-1";
const std::string kOther = "tenant-2";

absl::Time At(int day) { return absl::FromUnixSeconds(1'700'000'000 + day * 86400); }

Fact Known(const std::string& customer, const std::string& tenant = kT) {
  CustomerChange c;
  c.kind = CustomerChange::Kind::kCreated;
  c.tenant_id = tenant;
  c.customer_id = customer;
  return c;
}

Fact Order(const std::string& id, const std::string& customer, std::vector<std::string> skus,
           int day, const std::string& status = "placed", const std::string& tenant = kT) {
  OrderFact o;
  o.tenant_id = tenant;
  o.order_id = id;
  o.customer_id = customer;
  o.status = status;
  o.placed_time = At(day);
  for (auto& s : skus) o.lines.push_back(OrderLineFact{s, 1, 0});
  return o;
}

Fact Product(const std::string& sku, std::vector<std::string> path, bool active, int version) {
  ProductFact p;
  p.tenant_id = kT;
  p.sku = sku;
  p.category_path = std::move(path);
  p.active = active;
  p.version = version;
  return p;
}

Fact Viewed(const std::string& id, const std::string& customer, const std::string& visitor,
            const std::string& sku, int day) {
  BehaviourFact b;
  b.tenant_id = kT;
  b.event_id = id;
  b.type = "product.viewed";
  b.customer_id = customer;
  b.visitor_id = visitor;
  b.sku = sku;
  b.occurred_time = At(day);
  return b;
}

Fact Profiling(const std::string& customer, const std::string& channel, const std::string& status,
               int day) {
  ConsentFact c;
  c.tenant_id = kT;
  c.customer_id = customer;
  c.channel = channel;
  c.purpose = "profiling";
  c.status = status;
  c.recorded_time = At(day);
  return c;
}

Fact Erased(const std::string& customer) {
  CustomerChange c;
  c.kind = CustomerChange::Kind::kErased;
  c.tenant_id = kT;
  c.customer_id = customer;
  return c;
}

std::vector<std::string> Skus(const RecommendationList& l) {
  std::vector<std::string> out;
  for (const auto& p : l.products) out.push_back(p.sku);
  return out;
}

void ApplyOk(Recommender& r, const std::vector<Fact>& facts) {
  for (const absl::Status& s : r.Apply(facts)) REQUIRE(s.ok());
}

// A bought with B (twice) and with C (twice), B with D; t has A.
std::vector<Fact> Shop() {
  return {Known("c1"),
          Known("c2"),
          Known("c3"),
          Known("c4"),
          Known("t"),
          Order("o1", "c1", {"A", "B"}, 1),
          Order("o2", "c2", {"A", "B", "C"}, 2),
          Order("o3", "c3", {"A", "C"}, 3),
          Order("o4", "c4", {"B", "D"}, 3),
          Order("o5", "t", {"A"}, 4)};
}

}  // namespace

TEST_CASE("Orders teach co-purchases and answers explain themselves and fill with popular items") {
  FakePersonalizationRepository repo;
  Recommender r(repo);
  ApplyOk(r, Shop());
  auto l = r.ForCustomer(kT, "t", ListRequest{});
  REQUIRE(l.ok());
  CHECK(l->strategy == Strategy::kPersonalized);
  // Jaccard 2/4 > 2/5, then the popular D (A is owned).
  CHECK(Skus(*l) == std::vector<std::string>{"C", "B", "D"});
  CHECK(l->products[2].reason == Reason::kPopular);
  CHECK(l->products[2].because_sku.empty());
  CHECK(l->products[0].reason == Reason::kBought);
  CHECK(l->products[0].because_sku == "A");
  CHECK(r.ForCustomer(kT, "c1", ListRequest{})->products[0].sku == "C");
  // Unknown customer, unknown tenant: NOT_FOUND; a new customer: popular.
  CHECK(r.ForCustomer(kT, "nobody", ListRequest{}).status().code() == absl::StatusCode::kNotFound);
  CHECK(r.ForCustomer(kOther, "t", ListRequest{}).status().code() == absl::StatusCode::kNotFound);
  ApplyOk(r, {Known("new")});
  auto fresh = r.ForCustomer(kT, "new", ListRequest{});
  CHECK(fresh->strategy == Strategy::kPopularFallback);
  CHECK(Skus(*fresh) == std::vector<std::string>{"A", "B", "C", "D"});
  CHECK(fresh->products[0].reason == Reason::kPopular);
  // Similar and cart.
  CHECK(Skus(*r.Similar(kT, "A", ListRequest{})) == std::vector<std::string>{"C", "B"});
  CHECK(r.Similar(kT, "Z", ListRequest{}).status().code() == absl::StatusCode::kNotFound);
  // B's neighbours: A (2/5), D (1/3), C (1/4), each cubed.
  CHECK(Skus(r.ForCart(kT, {"B", "Z"}, ListRequest{})) ==
        std::vector<std::string>{"A", "D", "C"});
  CHECK(r.ForCart(kOther, {"B"}, ListRequest{}).products.empty());
}

TEST_CASE("Events delivered again change nothing, and a restart rebuilds the same answers") {
  FakePersonalizationRepository repo;
  Recommender live(repo);
  ApplyOk(live, Shop());
  ApplyOk(live, {Viewed("e1", "", "v1", "C", 5), Viewed("e2", "t", "", "B", 6)});
  auto before = live.ForCustomer(kT, "t", ListRequest{});
  const std::size_t rows = repo.InteractionCount(kT);
  ApplyOk(live, Shop());  // redelivered: all of it
  ApplyOk(live, {Viewed("e1", "", "v1", "C", 5)});
  CHECK(repo.InteractionCount(kT) == rows);
  auto again = live.ForCustomer(kT, "t", ListRequest{});
  REQUIRE(Skus(*again) == Skus(*before));
  for (std::size_t i = 0; i < again->products.size(); ++i) {
    CHECK(again->products[i].score == before->products[i].score);
  }
  Recommender restarted(repo);
  REQUIRE(restarted.Rebuild().ok());
  for (const char* who : {"t", "c1", "c2", "c3"}) {
    auto a = live.ForCustomer(kT, who, ListRequest{});
    auto b = restarted.ForCustomer(kT, who, ListRequest{});
    REQUIRE(Skus(*a) == Skus(*b));
    for (std::size_t i = 0; i < a->products.size(); ++i) {
      CHECK(a->products[i].score == b->products[i].score);
      CHECK(a->products[i].because_sku == b->products[i].because_sku);
      CHECK(a->products[i].reason == b->products[i].reason);
    }
  }
  CHECK(Skus(*restarted.ForVisitor(kT, "v1", ListRequest{})) ==
        Skus(*live.ForVisitor(kT, "v1", ListRequest{})));
  CHECK(Skus(restarted.ForCart(kT, {"A"}, ListRequest{})) ==
        Skus(live.ForCart(kT, {"A"}, ListRequest{})));
}

TEST_CASE("Views and carts teach too, for customers and anonymous visitors") {
  FakePersonalizationRepository repo;
  Recommender r(repo);
  ApplyOk(r, Shop());
  ApplyOk(r, {Viewed("e1", "", "v1", "C", 5)});
  auto v = r.ForVisitor(kT, "v1", ListRequest{});
  CHECK(v->strategy == Strategy::kPersonalized);
  CHECK(v->products[0].sku == "A");
  CHECK(v->products[0].reason == Reason::kViewed);
  CHECK(v->products[0].because_sku == "C");
  CHECK(r.ForVisitor(kT, "v2", ListRequest{})->strategy == Strategy::kPopularFallback);
  // An event without a sku, or of another type, teaches nothing.
  BehaviourFact page;
  page.tenant_id = kT;
  page.event_id = "e3";
  page.type = "page.viewed";
  page.visitor_id = "v3";
  page.sku = "A";
  ApplyOk(r, {page});
  CHECK(r.ForVisitor(kT, "v3", ListRequest{})->strategy == Strategy::kPopularFallback);
}

TEST_CASE("Cancelled orders and returned lines are not learnt") {
  FakePersonalizationRepository repo;
  Recommender r(repo);
  OrderFact returned = std::get<OrderFact>(Order("o2", "x", {"A", "C"}, 1));
  returned.lines[1].returned_quantity = 1;
  ApplyOk(r, {Known("x"), Order("o1", "x", {"A", "B"}, 1, "cancelled"), returned});
  CHECK(r.Similar(kT, "B", ListRequest{}).status().code() == absl::StatusCode::kNotFound);
  CHECK(repo.InteractionCount(kT) == 1);  // o2's A
}

TEST_CASE("A later cancellation or full return unlearns what the order taught") {
  FakePersonalizationRepository repo;
  Recommender r(repo);
  ApplyOk(r, Shop());
  // o2 (c2: A, B, C) is cancelled; o4 (c4: B, D) returns D in full.
  ApplyOk(r, {Order("o2", "c2", {"A", "B", "C"}, 2, "cancelled")});
  OrderFact partly = std::get<OrderFact>(Order("o4", "c4", {"B", "D"}, 3, "fulfilled"));
  partly.lines[1].returned_quantity = 1;
  ApplyOk(r, {partly});
  // A with B once (c1: Jaccard 1/4), with C once (c3: 1/3); D bought by
  // nobody now, so not even a popular fill.
  auto l = r.ForCustomer(kT, "t", ListRequest{});
  REQUIRE(l.ok());
  CHECK(Skus(*l) == std::vector<std::string>{"C", "B"});
  CHECK(r.ForCustomer(kT, "c2", ListRequest{})->strategy == Strategy::kPopularFallback);
  CHECK(r.Similar(kT, "D", ListRequest{})->products.empty());
  // A restart holds the same.
  Recommender restarted(repo);
  REQUIRE(restarted.Rebuild().ok());
  CHECK(Skus(*restarted.ForCustomer(kT, "t", ListRequest{})) == Skus(*l));
}

TEST_CASE("The catalog decides what may be recommended: active products, category prefixes") {
  FakePersonalizationRepository repo;
  Recommender r(repo);
  ApplyOk(r, {Product("B", {"Home", "Kitchen"}, true, 1), Product("C", {"Home", "Kitchenware"}, true, 1)});
  ApplyOk(r, Shop());
  ListRequest kitchen;
  kitchen.category_prefix = "Home/Kitchen";
  CHECK(Skus(*r.ForCustomer(kT, "t", kitchen)) == std::vector<std::string>{"B"});
  ListRequest home;
  home.category_prefix = "Home";
  CHECK(Skus(*r.ForCustomer(kT, "t", home)) == std::vector<std::string>{"C", "B"});
  CHECK(r.ForCustomer(kT, "t", home)->products[1].category_path == "Home/Kitchen");
  // An older version does not win; a newer one deactivates.
  ApplyOk(r, {Product("C", {"Home", "Kitchenware"}, false, 0)});
  CHECK(Skus(*r.ForCustomer(kT, "t", ListRequest{})) == std::vector<std::string>{"C", "B", "D"});
  ApplyOk(r, {Product("C", {"Home", "Kitchenware"}, false, 2)});
  CHECK(Skus(*r.ForCustomer(kT, "t", ListRequest{})) == std::vector<std::string>{"B", "D"});
  // Owned products on request (consumables); counts cap the list.
  ListRequest owned;
  owned.include_owned = true;
  CHECK(Skus(*r.ForCustomer(kT, "t", owned)) == std::vector<std::string>{"B", "A", "D"});
  ListRequest one;
  one.count = 1;
  CHECK(Skus(*r.ForCustomer(kT, "c3", one)) == std::vector<std::string>{"B"});
}

TEST_CASE("An objection to profiling gives popular products and the newest status wins") {
  FakePersonalizationRepository repo;
  Recommender r(repo);
  ApplyOk(r, Shop());
  ApplyOk(r, {Profiling("t", "web", "opted_out", 10)});
  auto l = r.ForCustomer(kT, "t", ListRequest{});
  CHECK(l->strategy == Strategy::kNotPersonalized);
  CHECK(Skus(*l) == std::vector<std::string>{"A", "B", "C", "D"});  // its own A too
  ApplyOk(r, {Profiling("t", "web", "opted_in", 9)});  // older: ignored
  CHECK(r.ForCustomer(kT, "t", ListRequest{})->strategy == Strategy::kNotPersonalized);
  ApplyOk(r, {Profiling("t", "email", "opted_in", 11)});  // another channel keeps the objection
  CHECK(r.ForCustomer(kT, "t", ListRequest{})->strategy == Strategy::kNotPersonalized);
  ApplyOk(r, {Profiling("t", "web", "opted_in", 12)});
  CHECK(r.ForCustomer(kT, "t", ListRequest{})->strategy == Strategy::kPersonalized);
  Recommender restarted(repo);
  REQUIRE(restarted.Rebuild().ok());
  CHECK(restarted.ForCustomer(kT, "t", ListRequest{})->strategy == Strategy::kPersonalized);
}

TEST_CASE("Erasure takes the customer out of every model, for good") {
  FakePersonalizationRepository repo;
  Recommender r(repo);
  ApplyOk(r, Shop());
  ApplyOk(r, {Erased("c2")});
  CHECK(r.ForCustomer(kT, "c2", ListRequest{}).status().code() == absl::StatusCode::kNotFound);
  // Without c2: A-C 1 of (3, 1) = 1/3 > A-B 1 of (3, 2) = 1/4.
  CHECK(Skus(*r.Similar(kT, "A", ListRequest{})) == std::vector<std::string>{"C", "B"});
  // B-D 1 of (2, 1) = 1/2 > B-A 1/4; B-C is gone.
  CHECK(Skus(r.ForCart(kT, {"B"}, ListRequest{})) == std::vector<std::string>{"D", "A"});
  // A late event of the erased customer is not learnt again.
  ApplyOk(r, {Order("o9", "c2", {"B", "C"}, 20)});
  CHECK(Skus(r.ForCart(kT, {"B"}, ListRequest{})) == std::vector<std::string>{"D", "A"});
  Recommender restarted(repo);
  REQUIRE(restarted.Rebuild().ok());
  CHECK(Skus(restarted.ForCart(kT, {"B"}, ListRequest{})) ==
        std::vector<std::string>{"D", "A"});
  CHECK(restarted.ForCustomer(kT, "c2", ListRequest{}).status().code() ==
        absl::StatusCode::kNotFound);
}

TEST_CASE("A tenant whose store fails fails its own events only") {
  FakePersonalizationRepository repo;
  Recommender r(repo);
  repo.failing_tenant = kOther;
  auto statuses = r.Apply({Known("a"), Known("b", kOther), Order("o1", "a", {"A", "B"}, 1),
                           Order("o2", "b", {"A", "B"}, 1, "placed", kOther)});
  REQUIRE(statuses.size() == 4);
  CHECK(statuses[0].ok());
  CHECK(statuses[1].code() == absl::StatusCode::kUnavailable);
  CHECK(statuses[2].ok());
  CHECK(statuses[3].code() == absl::StatusCode::kUnavailable);
  CHECK(r.ForCustomer(kOther, "b", ListRequest{}).status().code() == absl::StatusCode::kNotFound);
  CHECK(r.ForCustomer(kT, "a", ListRequest{}).ok());
}

namespace {

using crm::outbox::WriteMeta;
using crm::personalization::app::InterestsView;
using crm::personalization::domain::InterestSource;
using crm::personalization::domain::Preference;
using crm::personalization::domain::TopicChoice;

Fact Searched(const std::string& id, const std::string& customer, const std::string& visitor,
              std::vector<std::string> path, int day) {
  BehaviourFact b;
  b.tenant_id = kT;
  b.event_id = id;
  b.type = "search.performed";
  b.customer_id = customer;
  b.visitor_id = visitor;
  b.category_path = std::move(path);
  b.occurred_time = At(day);
  return b;
}

std::vector<std::string> Topics(const InterestsView& v) {
  std::vector<std::string> out;
  for (const auto& i : v.interests) out.push_back(i.topic);
  return out;
}

WriteMeta Meta(const std::string& key = "", const std::string& tenant = kT) {
  return WriteMeta{tenant, "tester", "req", "UpdateInterests", key, key.empty() ? "" : "fp"};
}

// Kitchen products and a garden one; c1 bought a knife and viewed a pan,
// searched the garden.
std::vector<Fact> KitchenShop() {
  return {Product("knife", {"Home", "Kitchen", "Knives"}, true, 1),
          Product("pan", {"Home", "Kitchen", "Pans"}, true, 1),
          Product("rake", {"Garden", "Tools"}, true, 1),
          Known("c1"),
          Order("o1", "c1", {"knife"}, 10),
          Viewed("v1", "c1", "", "pan", 10),
          Searched("s1", "c1", "", {"Garden", "Tools"}, 10),
          Searched("s2", "", "anon", {"Garden"}, 10),
          Viewed("v2", "", "anon", "rake", 10)};
}

}  // namespace

TEST_CASE("Interests come from purchases, views and searches over the category paths") {
  FakePersonalizationRepository repo;
  crm::testing::FixedClock clock(At(10));
  Recommender r(repo, {}, &clock);
  ApplyOk(r, KitchenShop());
  InterestsView v = crm::testing::ValueOf(r.Interests(kT, "c1", 20));
  CHECK(v.personalized);
  // Home 1 + 0.25, Home/Kitchen the same, Knives 1, Pans 0.25, Garden and
  // Garden/Tools 0.25 (a search weighs as a view).
  CHECK(Topics(v) == std::vector<std::string>{"Home", "Home/Kitchen", "Home/Kitchen/Knives",
                                              "Garden", "Garden/Tools", "Home/Kitchen/Pans"});
  CHECK(v.interests[0].score == Approx(1.0));
  CHECK(v.interests[2].score == Approx(0.8));
  CHECK(v.interests[3].score == Approx(0.2));
  CHECK(v.interests[0].source == InterestSource::kInferred);
  CHECK(r.Interests(kT, "c1", 2)->interests.size() == 2);
  // The anonymous visitor's.
  CHECK(Topics(r.VisitorInterests(kT, "anon", 20)) ==
        std::vector<std::string>{"Garden", "Garden/Tools"});
  CHECK(r.VisitorInterests(kT, "nobody", 20).interests.empty());
  // Unknown customer, other tenant: NOT_FOUND.
  CHECK(r.Interests(kT, "nobody", 20).status().code() == absl::StatusCode::kNotFound);
  CHECK(r.Interests(kOther, "c1", 20).status().code() == absl::StatusCode::kNotFound);
  CHECK(r.VisitorInterests(kOther, "anon", 20).interests.empty());
  // A product recategorized moves the interest with it.
  ApplyOk(r, {Product("knife", {"Tools", "Blades"}, true, 2)});
  CHECK(r.Interests(kT, "c1", 1)->interests[0].topic == "Tools");
}

TEST_CASE("Chosen topics win, are idempotent per key, survive a restart and go with erasure") {
  FakePersonalizationRepository repo;
  crm::testing::FixedClock clock(At(10));
  Recommender r(repo, {}, &clock);
  ApplyOk(r, KitchenShop());
  auto v = r.ChooseTopics(Meta("k1"), "c1",
                          {TopicChoice{"Books / Crime", Preference::kInterested},
                           TopicChoice{"Home/Kitchen", Preference::kNotInterested}},
                          20);
  REQUIRE(v.ok());
  CHECK(Topics(*v) == std::vector<std::string>{"Books/Crime", "Home", "Garden", "Garden/Tools"});
  CHECK(v->interests[0].source == InterestSource::kExplicit);
  CHECK(v->declined == std::vector<std::string>{"Home/Kitchen"});
  // The same key answers the first call's choices without writing again.
  auto again = r.ChooseTopics(Meta("k1"), "c1",
                              {TopicChoice{"Books / Crime", Preference::kInterested},
                               TopicChoice{"Home/Kitchen", Preference::kNotInterested}},
                              20);
  REQUIRE(again.ok());
  CHECK(Topics(*again) == Topics(*v));
  // Refusals write nothing.
  crm::testing::RequireRefused(
      r.ChooseTopics(Meta(), "c1", {TopicChoice{"", Preference::kInterested}}, 20).status(),
      absl::StatusCode::kInvalidArgument, "INVALID_FIELD");
  crm::testing::RequireRefused(
      r.ChooseTopics(Meta(), "nobody", {TopicChoice{"Books", Preference::kInterested}}, 20)
          .status(),
      absl::StatusCode::kNotFound, "CUSTOMER_NOT_FOUND");
  crm::testing::RequireRefused(
      r.ChooseTopics(Meta("", kOther), "c1", {TopicChoice{"Books", Preference::kInterested}}, 20)
          .status(),
      absl::StatusCode::kNotFound, "CUSTOMER_NOT_FOUND");
  // Cleared: inferred again.
  REQUIRE(r.ChooseTopics(Meta(), "c1", {TopicChoice{"Home/Kitchen", Preference::kNoPreference}}, 20)
              .ok());
  auto after = crm::testing::ValueOf(r.Interests(kT, "c1", 20));
  CHECK(after.declined.empty());
  CHECK(Topics(after)[0] == "Books/Crime");
  CHECK(Topics(after)[1] == "Home");

  // A restart rebuilds the same interests.
  Recommender restarted(repo, {}, &clock);
  REQUIRE(restarted.Rebuild().ok());
  auto rebuilt = crm::testing::ValueOf(restarted.Interests(kT, "c1", 20));
  CHECK(Topics(rebuilt) == Topics(after));
  for (std::size_t i = 0; i < rebuilt.interests.size(); ++i) {
    CHECK(rebuilt.interests[i].score == Approx(after.interests[i].score));
  }

  // Erased: gone, the choices too, and not written again.
  ApplyOk(r, {Erased("c1")});
  CHECK(r.Interests(kT, "c1", 20).status().code() == absl::StatusCode::kNotFound);
  CHECK(r.ChooseTopics(Meta(), "c1", {TopicChoice{"Books", Preference::kInterested}}, 20)
            .status()
            .code() == absl::StatusCode::kNotFound);
  Recommender after_erasure(repo, {}, &clock);
  REQUIRE(after_erasure.Rebuild().ok());
  CHECK(after_erasure.Interests(kT, "c1", 20).status().code() == absl::StatusCode::kNotFound);
}

TEST_CASE("An objection to profiling leaves only the customer's own choices") {
  FakePersonalizationRepository repo;
  crm::testing::FixedClock clock(At(10));
  Recommender r(repo, {}, &clock);
  ApplyOk(r, KitchenShop());
  REQUIRE(r.ChooseTopics(Meta(), "c1", {TopicChoice{"Books", Preference::kInterested}}, 20).ok());
  ApplyOk(r, {Profiling("c1", "email", "opted_out", 11)});
  auto v = crm::testing::ValueOf(r.Interests(kT, "c1", 20));
  CHECK_FALSE(v.personalized);
  CHECK(Topics(v) == std::vector<std::string>{"Books"});
  ApplyOk(r, {Profiling("c1", "email", "opted_in", 12)});
  CHECK(r.Interests(kT, "c1", 20)->interests.size() == 7);
}

namespace {

using crm::events::CustomerIdentified;

Fact Identified(const std::string& visitor, const std::string& customer) {
  CustomerIdentified i;
  i.tenant_id = kT;
  i.event_id = "id-" + visitor;
  i.customer_id = customer;
  i.visitor_id = visitor;
  return i;
}

Fact MergeOf(const std::string& source, const std::string& survivor, bool unmerge = false) {
  CustomerChange c;
  c.kind = unmerge ? CustomerChange::Kind::kUnmerged : CustomerChange::Kind::kMerged;
  c.tenant_id = kT;
  c.customer_id = survivor;
  c.other_id = source;
  return c;
}

}  // namespace

TEST_CASE("A visitor's history moves to the customer it is identified as, and later views too") {
  FakePersonalizationRepository repo;
  Recommender r(repo);
  ApplyOk(r, Shop());
  ApplyOk(r, {Known("who"), Viewed("v1", "", "anon", "C", 5)});
  CHECK(r.ForCustomer(kT, "who", ListRequest{})->strategy == Strategy::kPopularFallback);
  ApplyOk(r, {Identified("anon", "who")});
  auto l = r.ForCustomer(kT, "who", ListRequest{});
  REQUIRE(l.ok());
  CHECK(l->strategy == Strategy::kPersonalized);
  CHECK(l->products[0].sku == "A");  // C's neighbour
  CHECK(l->products[0].because_sku == "C");
  // The visitor is empty now; its later anonymous views are the customer's.
  CHECK(r.ForVisitor(kT, "anon", ListRequest{})->strategy == Strategy::kPopularFallback);
  ApplyOk(r, {Viewed("v2", "", "anon", "D", 6)});
  CHECK(r.ForVisitor(kT, "anon", ListRequest{})->strategy == Strategy::kPopularFallback);
  auto with_d = r.ForCustomer(kT, "who", ListRequest{});
  CHECK(std::find_if(with_d->products.begin(), with_d->products.end(),
                     [](const auto& p) { return p.because_sku == "D"; }) != with_d->products.end());
  // A restart holds the same.
  Recommender restarted(repo);
  REQUIRE(restarted.Rebuild().ok());
  CHECK(Skus(*restarted.ForCustomer(kT, "who", ListRequest{})) == Skus(*with_d));
  CHECK(restarted.ForVisitor(kT, "anon", ListRequest{})->strategy == Strategy::kPopularFallback);
}

TEST_CASE("A merge moves the source's history to the survivor and an unmerge moves it back") {
  FakePersonalizationRepository repo;
  Recommender r(repo);
  ApplyOk(r, Shop());
  ApplyOk(r, {Known("dup"), Order("o9", "dup", {"D"}, 5)});
  const auto before_t = Skus(*r.ForCustomer(kT, "t", ListRequest{}));
  ApplyOk(r, {MergeOf("dup", "t")});
  CHECK(r.ForCustomer(kT, "dup", ListRequest{}).status().code() == absl::StatusCode::kNotFound);
  auto merged = r.ForCustomer(kT, "t", ListRequest{});
  REQUIRE(merged.ok());
  // t has A and D now: D is owned, so no longer recommended (it was the
  // popular fill before).
  CHECK(before_t == std::vector<std::string>{"C", "B", "D"});
  CHECK(Skus(*merged) == std::vector<std::string>{"C", "B"});
  Recommender restarted(repo);
  REQUIRE(restarted.Rebuild().ok());
  CHECK(Skus(*restarted.ForCustomer(kT, "t", ListRequest{})) == Skus(*merged));
  // Unmerged: dup's order goes back to dup, t's own history stays.
  ApplyOk(r, {MergeOf("dup", "t", /*unmerge=*/true)});
  CHECK(Skus(*r.ForCustomer(kT, "t", ListRequest{})) == before_t);
  auto dup = r.ForCustomer(kT, "dup", ListRequest{});
  REQUIRE(dup.ok());
  CHECK(dup->strategy == Strategy::kPersonalized);
  CHECK(dup->products[0].because_sku == "D");
}
