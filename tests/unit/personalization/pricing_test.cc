#include "services/personalization/domain/pricing.h"

#include <catch2/catch.hpp>
#include <string>

#include "libs/common/errors.h"

namespace {
using crm::personalization::domain::ExplainQuote;
using crm::personalization::domain::Guardrails;
using crm::personalization::domain::NormalizePolicy;
using crm::personalization::domain::PriceLimit;
using crm::personalization::domain::PricePolicy;
using crm::personalization::domain::PriceTier;
using crm::personalization::domain::QuotePrice;
using crm::personalization::domain::TierFor;
}  // namespace

TEST_CASE("A personal price applies the tier's discount, rounded for the merchant") {
  Guardrails g;  // at most 30 %, no margin floor
  auto q = QuotePrice(999, 0, 1000, g);
  REQUIRE(q.ok());
  CHECK(q->price_minor == 900);  // 99.9 off rounds down to 99
  CHECK(q->applied_bp == 990);   // 99 / 999 = 9.90 %
  CHECK(q->limit == PriceLimit::kNone);
  CHECK(QuotePrice(999, 0, 0, g)->price_minor == 999);
  CHECK(QuotePrice(0, 0, 1000, g)->price_minor == 0);
}

TEST_CASE("Guardrails: maximum discount, minimum margin, never below cost or above list") {
  Guardrails g;
  g.max_discount_bp = 2000;
  g.min_margin_bp = 2000;
  // 50 % requested, capped at 20 %: 8000.
  auto capped = QuotePrice(10000, 0, 5000, g);
  CHECK(capped->price_minor == 8000);
  CHECK(capped->limit == PriceLimit::kMaxDiscount);
  // Cost 7000 with a 20 % margin: floor ceil(7000 / 0.8) = 8750.
  auto margin = QuotePrice(10000, 7000, 1500, g);
  CHECK(margin->price_minor == 8750);
  CHECK(margin->limit == PriceLimit::kMinMargin);
  CHECK(margin->applied_bp == 1250);
  // Cost 9000: floor 11250 is above list: the list price, not more.
  auto list = QuotePrice(10000, 9000, 1500, g);
  CHECK(list->price_minor == 10000);
  CHECK(list->limit == PriceLimit::kListPrice);
  CHECK(QuotePrice(10000, 9000, 0, g)->limit == PriceLimit::kNone);
  // Without a margin floor the cost itself is the floor.
  Guardrails loose;
  loose.max_discount_bp = 10000;
  auto at_cost = QuotePrice(10000, 6000, 9000, loose);
  CHECK(at_cost->price_minor == 6000);
  CHECK(at_cost->limit == PriceLimit::kMinMargin);
  // A floor that is not a whole number of cents rounds up: 1 / 0.7 = 1.43 -> 2.
  Guardrails m30;
  m30.min_margin_bp = 3000;
  m30.max_discount_bp = 10000;
  CHECK(QuotePrice(100, 1, 10000, m30)->price_minor == 2);
}

TEST_CASE("A price quote refuses impossible inputs") {
  Guardrails g;
  CHECK_FALSE(QuotePrice(-1, std::nullopt, 0, g).ok());
  CHECK_FALSE(QuotePrice(1'000'000'000'001, std::nullopt, 0, g).ok());
  CHECK_FALSE(QuotePrice(100, -5, 0, g).ok());
  CHECK_FALSE(QuotePrice(100, std::nullopt, 10001, g).ok());
  Guardrails bad;
  bad.min_margin_bp = 10000;
  CHECK_FALSE(QuotePrice(100, 50, 0, bad).ok());
  bad = Guardrails{};
  bad.max_discount_bp = 10001;
  CHECK_FALSE(QuotePrice(100, 50, 0, bad).ok());
}

TEST_CASE("A product without a known cost gets no discount") {
  Guardrails g;
  auto q = QuotePrice(10000, std::nullopt, 1000, g);
  REQUIRE(q.ok());
  CHECK(q->price_minor == 10000);
  CHECK(q->applied_bp == 0);
  CHECK(q->requested_bp == 1000);
  CHECK(q->limit == PriceLimit::kNoCost);
  CHECK(QuotePrice(10000, std::nullopt, 0, g)->limit == PriceLimit::kNone);
}

TEST_CASE("Prices never leave the guardrails, whatever the inputs") {
  // Exhaustive over a grid: never above list, never below cost, never more
  // off than the maximum, margin kept whenever a discount was given.
  for (std::int64_t list : {0, 1, 7, 99, 100, 999, 12345, 1000000}) {
    for (std::int64_t cost : {0, 1, 50, 98, 99, 500, 20000}) {
      for (std::uint32_t max : {0u, 1u, 2500u, 10000u}) {
        for (std::uint32_t margin : {0u, 1u, 3000u, 9999u}) {
          for (std::uint32_t bp : {0u, 1u, 3333u, 10000u}) {
            Guardrails g{max, margin};
            auto q = QuotePrice(list, cost, bp, g);
            REQUIRE(q.ok());
            CHECK(q->price_minor <= list);
            CHECK(q->price_minor >= std::min(list, cost));
            CHECK(list - q->price_minor <= list * static_cast<std::int64_t>(max) / 10000);
            if (q->price_minor < list) {
              // (price - cost) / price >= margin
              CHECK((q->price_minor - cost) * 10000 >=
                    static_cast<std::int64_t>(margin) * q->price_minor);
            }
          }
        }
      }
    }
  }
}

TEST_CASE("A price policy is checked and normalized") {
  auto accept = [](const std::string&) { return absl::OkStatus(); };
  PricePolicy p;
  p.guardrails = Guardrails{2000, 1500};
  p.quote_ttl_seconds = 0;
  p.tiers = {PriceTier{" vip ", "segment(\"vip\")", 1500}, PriceTier{"everyone", "", 200}};
  REQUIRE(NormalizePolicy(p, accept).ok());
  CHECK(p.quote_ttl_seconds == 900);
  CHECK(p.tiers[0].name == "vip");
  auto field = [&](PricePolicy bad) {
    absl::Status s = NormalizePolicy(bad, accept);
    return crm::common::FieldOf(s);
  };
  PricePolicy bad = p;
  bad.guardrails.max_discount_bp = 10001;
  CHECK(field(bad) == "max_discount_basis_points");
  bad = p;
  bad.guardrails.min_margin_bp = 10000;
  CHECK(field(bad) == "min_margin_basis_points");
  bad = p;
  bad.quote_ttl_seconds = 59;
  CHECK(field(bad) == "quote_ttl_seconds");
  bad = p;
  bad.tiers[1].name = "vip";
  CHECK(field(bad) == "tiers.name");
  bad = p;
  bad.tiers[0].name = "";
  CHECK(field(bad) == "tiers.name");
  bad = p;
  bad.tiers[0].discount_bp = 10001;
  CHECK(field(bad) == "tiers.discount_basis_points");
  bad = p;
  bad.tiers.resize(21, PriceTier{"x", "", 0});
  CHECK(field(bad) == "tiers");
  PricePolicy ruled = p;
  absl::Status s = NormalizePolicy(ruled, [](const std::string&) {
    return absl::InvalidArgumentError("line 1, column 9: unknown segment");
  });
  CHECK(crm::common::FieldOf(s) == "tiers.rule");
  CHECK(std::string(s.message()) == "tier \"vip\": line 1, column 9: unknown segment");
}

TEST_CASE("The first matching tier wins, an empty rule matches everyone") {
  PricePolicy p;
  p.tiers = {PriceTier{"vip", "a", 1500}, PriceTier{"loyal", "b", 800},
             PriceTier{"everyone", "", 100}};
  auto only = [](std::string yes) { return [yes](const std::string& r) { return r == yes; }; };
  CHECK(TierFor(p, only("a"))->name == "vip");
  CHECK(TierFor(p, only("b"))->name == "loyal");
  CHECK(TierFor(p, only("z"))->name == "everyone");
  p.tiers.pop_back();
  CHECK(TierFor(p, only("z")) == nullptr);
}

TEST_CASE("A quote explains its price") {
  Guardrails g{2000, 2000};
  CHECK(ExplainQuote(*QuotePrice(10000, 0, 1500, g), "tier \"vip\"", g) ==
        "tier \"vip\" asks 15 % off; 15 % off the list price");
  CHECK(ExplainQuote(*QuotePrice(10000, 0, 5000, g), "tier \"vip\"", g) ==
        "tier \"vip\" asks 50 % off, capped at the maximum discount of 20 %; 20 % off the list "
        "price");
  CHECK(ExplainQuote(*QuotePrice(10000, 7000, 1500, g), "tier \"vip\"", g) ==
        "tier \"vip\" asks 15 % off, raised to keep the minimum margin of 20 % over cost; "
        "12.5 % off the list price");
  CHECK(ExplainQuote(*QuotePrice(10000, 9000, 1500, g), "t", g) ==
        "t asks 15 % off, none given: the margin over cost would fall below 20 %; the list price");
  CHECK(ExplainQuote(*QuotePrice(10000, std::nullopt, 1500, g), "t", g) ==
        "t asks 15 % off, none given: the product's cost is not known; the list price");
  CHECK(ExplainQuote(*QuotePrice(10000, 0, 0, g), "no tier matches", g) ==
        "no tier matches: no discount; the list price");
  CHECK(ExplainQuote(*QuotePrice(10000, 0, 1234, g), "t", g) ==
        "t asks 12.34 % off; 12.34 % off the list price");
  CHECK(ExplainQuote(*QuotePrice(10000, 0, 1205, g), "t", g) ==
        "t asks 12.05 % off; 12.05 % off the list price");
}
