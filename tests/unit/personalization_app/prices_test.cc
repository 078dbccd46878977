// The personal price use cases over the in-memory repositories: the policy's
// writes and refusals, quotes by tier within the guardrails, signed tokens
// that verify, products that cannot be quoted, the objection to profiling,
// segmentation down, restart.
#include "services/personalization/app/prices.h"

#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "libs/common/price_quote.h"
#include "tests/support/fakes/common_fakes.h"
#include "tests/support/fakes/personalization/fake_personalization_repository.h"
#include "tests/support/fakes/personalization/fake_price_repository.h"
#include "tests/support/fakes/personalization/fake_slot_repository.h"
#include "tests/support/status_checks.h"

namespace {

using crm::events::ConsentFact;
using crm::events::CustomerChange;
using crm::events::ProductFact;
using crm::outbox::WriteMeta;
using crm::personalization::app::Fact;
using crm::personalization::app::Prices;
using crm::personalization::app::QuoteReason;
using crm::personalization::app::Recommender;
using crm::personalization::app::SignedQuote;
using crm::personalization::domain::PriceLimit;
using crm::personalization::domain::PricePolicy;
using crm::personalization::domain::PriceTier;
using crm::testing::RequireRefused;
using crm::testing::ValueOf;

const std::string kT = "tenant-1";
const std::string kKey = crm::common::PriceQuoteKey(std::string(40, 'q'));

WriteMeta Meta(const std::string& key) {
  return WriteMeta{kT, "tester", "req", "UpdatePricePolicy", key, key.empty() ? "" : "fp"};
}

ProductFact Product(const std::string& sku, std::int64_t price, std::optional<std::int64_t> cost,
                    bool active = true, std::int64_t version = 1) {
  ProductFact p;
  p.tenant_id = kT;
  p.sku = sku;
  p.version = version;
  p.category_path = {"Home", "Kitchen"};
  p.active = active;
  p.price_minor = price;
  p.currency_code = "EUR";
  p.cost_minor = cost;
  return p;
}

struct World {
  crm::testing::FakePersonalizationRepository repo;
  crm::testing::FakePriceRepository price_repo;
  crm::testing::FakeSegmentation segmentation;
  crm::testing::FixedClock clock{absl::FromUnixSeconds(1'800'000'000)};
  Recommender recommender{repo, {}, &clock};
  Prices prices{price_repo, recommender, segmentation, kKey, &clock};

  World() {
    std::vector<Fact> facts;
    for (const std::string c : {"c0", "c1", "c2"}) {
      CustomerChange k;
      k.kind = CustomerChange::Kind::kCreated;
      k.tenant_id = kT;
      k.customer_id = c;
      facts.push_back(k);
      segmentation.known.insert(c);
    }
    facts.push_back(Product("PAN", 10000, 6000));
    facts.push_back(Product("POT", 10000, std::nullopt));
    facts.push_back(Product("OLD", 10000, 100, false));
    ProductFact legacy = Product("LEGACY", 0, 0);
    legacy.price_minor.reset();
    legacy.cost_minor.reset();
    legacy.currency_code.clear();
    facts.push_back(legacy);
    for (const auto& s : recommender.Apply(facts)) REQUIRE(s.ok());
    PricePolicy p;
    p.guardrails = {2000, 2500};
    p.quote_ttl_seconds = 600;
    p.tiers = {PriceTier{"vip", "in_segment(\"vip\")", 3000},
               PriceTier{"loyal", "orders(365d) >= 3", 1000}, PriceTier{"everyone", "", 0}};
    REQUIRE(prices.UpdatePolicy(Meta("p1"), p, "").ok());
  }
  SignedQuote Quote(const std::string& customer, const std::string& sku = "PAN") {
    return ValueOf(prices.Quote(kT, customer, sku, "eur"));
  }
};

}  // namespace

TEST_CASE("Price policy writes are checked and replayed and survive a restart") {
  World w;
  PricePolicy fresh = w.prices.Policy("tenant-2");
  CHECK(fresh.version == 0);
  CHECK(fresh.tiers.empty());
  CHECK(fresh.guardrails.max_discount_bp == 0);
  PricePolicy p = w.prices.Policy(kT);
  CHECK(p.version == 1);
  REQUIRE(p.tiers.size() == 3);
  PricePolicy bad = p;
  bad.tiers[0].rule = "orders(30d) >=";
  RequireRefused(w.prices.UpdatePolicy(Meta("p2"), bad, "").status(),
                 absl::StatusCode::kInvalidArgument, "INVALID_FIELD");
  RequireRefused(w.prices.UpdatePolicy(Meta("p3"), p, "7").status(), absl::StatusCode::kAborted,
                 "ETAG_MISMATCH");
  p.guardrails.max_discount_bp = 1500;
  CHECK(ValueOf(w.prices.UpdatePolicy(Meta("p4"), p, "1")).version == 2);
  // A replay answers the first result, writes nothing more.
  CHECK(ValueOf(w.prices.UpdatePolicy(Meta("p4"), p, "1")).version == 2);
  CHECK(w.prices.Policy(kT).version == 2);
  Prices restarted(w.price_repo, w.recommender, w.segmentation, kKey, &w.clock);
  REQUIRE(restarted.Load().ok());
  CHECK(restarted.Policy(kT).guardrails.max_discount_bp == 1500);
  CHECK(restarted.Policy("tenant-2").version == 0);
}

TEST_CASE("A quote takes the first matching tier within the guardrails and is signed") {
  World w;
  w.segmentation.matches = {
      {"c1", "in_segment(\"vip\")"}, {"c1", "orders(365d) >= 3"}, {"c2", "orders(365d) >= 3"}};
  // vip asks 30 %, capped at 20 %: 8000 (cost 6000, margin 25 %: floor 8000).
  SignedQuote vip = w.Quote("c1");
  CHECK(vip.quote.reason == QuoteReason::kTier);
  CHECK(vip.quote.tier == "vip");
  CHECK(vip.quote.price.price_minor == 8000);
  CHECK(vip.quote.price.limit == PriceLimit::kMaxDiscount);
  CHECK(vip.quote.currency_code == "EUR");
  CHECK(vip.quote.expire_time == w.clock.Now() + absl::Seconds(600));
  CHECK(vip.quote.explanation ==
        "tier \"vip\" asks 30 % off, capped at the maximum discount of 20 %; 20 % off the list "
        "price");
  auto claims = crm::common::VerifyPriceQuote(kKey, vip.token, w.clock.Now());
  REQUIRE(claims.ok());
  CHECK(claims->tenant_id == kT);
  CHECK(claims->customer_id == "c1");
  CHECK(claims->sku == "PAN");
  CHECK(claims->currency_code == "EUR");
  CHECK(claims->unit_price_minor == 8000);
  CHECK(claims->list_price_minor == 10000);
  CHECK(claims->quote_id == vip.quote.quote_id);
  SignedQuote loyal = w.Quote("c2");
  CHECK(loyal.quote.tier == "loyal");
  CHECK(loyal.quote.price.price_minor == 9000);
  SignedQuote everyone = w.Quote("c0");
  CHECK(everyone.quote.reason == QuoteReason::kTier);
  CHECK(everyone.quote.tier == "everyone");
  CHECK(everyone.quote.price.price_minor == 10000);
  // No cost known: no discount even for a vip.
  SignedQuote pot = w.Quote("c1", "POT");
  CHECK(pot.quote.price.price_minor == 10000);
  CHECK(pot.quote.price.limit == PriceLimit::kNoCost);
  // Every quote logged.
  CHECK(w.price_repo.Quotes().size() == 4);
}

TEST_CASE("Quotes refuse unknown customers and products that cannot be quoted") {
  World w;
  RequireRefused(w.prices.Quote(kT, "nobody", "PAN", "").status(), absl::StatusCode::kNotFound,
                 "CUSTOMER_NOT_FOUND");
  RequireRefused(w.prices.Quote("tenant-2", "c1", "PAN", "").status(), absl::StatusCode::kNotFound,
                 "CUSTOMER_NOT_FOUND");
  for (const std::string sku : {"NOPE", "OLD", "LEGACY"}) {
    INFO(sku);
    RequireRefused(w.prices.Quote(kT, "c1", sku, "").status(),
                   absl::StatusCode::kFailedPrecondition, "PRODUCT_NOT_QUOTABLE");
  }
  absl::Status usd = w.prices.Quote(kT, "c1", "PAN", "USD").status();
  RequireRefused(usd, absl::StatusCode::kFailedPrecondition, "PRODUCT_NOT_QUOTABLE");
  CHECK(crm::common::FieldOf(usd) == "currency_code");
  CHECK(ValueOf(w.prices.Quote(kT, "c1", "PAN", "")).quote.currency_code == "EUR");
  CHECK(w.price_repo.Quotes().size() == 1);
}

TEST_CASE("Objections and an unreachable segmentation get the list price") {
  World w;
  w.segmentation.matches = {{"c1", "in_segment(\"vip\")"}};
  w.segmentation.down = absl::UnavailableError("segmentation is down");
  SignedQuote down = w.Quote("c1");
  CHECK(down.quote.reason == QuoteReason::kRulesUnavailable);
  CHECK(down.quote.price.price_minor == 10000);
  w.segmentation.down = absl::OkStatus();
  ConsentFact objection;
  objection.tenant_id = kT;
  objection.customer_id = "c1";
  objection.channel = "web";
  objection.purpose = "profiling";
  objection.status = "opted_out";
  objection.recorded_time = w.clock.Now();
  for (const auto& s : w.recommender.Apply({objection})) REQUIRE(s.ok());
  const int calls = w.segmentation.calls;
  SignedQuote objected = w.Quote("c1");
  CHECK(objected.quote.reason == QuoteReason::kNotPersonalized);
  CHECK(objected.quote.tier.empty());
  CHECK(objected.quote.price.price_minor == 10000);
  CHECK(w.segmentation.calls == calls);  // nothing of theirs read
}

TEST_CASE("A price change in the catalog is quoted from its newest version") {
  World w;
  for (const auto& s : w.recommender.Apply(
           {Product("PAN", 12000, 6000, true, 2), Product("PAN", 5000, 100, true, 1)})) {
    REQUIRE(s.ok());
  }
  SignedQuote q = w.Quote("c0");
  CHECK(q.quote.price.list_minor == 12000);
}
