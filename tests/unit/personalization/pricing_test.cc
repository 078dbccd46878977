#include "services/personalization/domain/pricing.h"

#include <catch2/catch.hpp>

namespace {
using crm::personalization::domain::Guardrails;
using crm::personalization::domain::PriceLimit;
using crm::personalization::domain::QuotePrice;
}  // namespace

TEST_CASE("A personal price applies the tier's discount, rounded for the merchant") {
  Guardrails g;  // at most 30 %, no margin floor
  auto q = QuotePrice(999, std::nullopt, 1000, g);
  REQUIRE(q.ok());
  CHECK(q->price_minor == 900);  // 99.9 off rounds down to 99
  CHECK(q->applied_bp == 990);   // 99 / 999 = 9.90 %
  CHECK(q->limit == PriceLimit::kNone);
  CHECK(QuotePrice(999, std::nullopt, 0, g)->price_minor == 999);
  CHECK(QuotePrice(0, std::nullopt, 1000, g)->price_minor == 0);
}

TEST_CASE("Guardrails: maximum discount, minimum margin, never below cost or above list") {
  Guardrails g;
  g.max_discount_bp = 2000;
  g.min_margin_bp = 2000;
  // 50 % requested, capped at 20 %: 8000.
  auto capped = QuotePrice(10000, std::nullopt, 5000, g);
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
