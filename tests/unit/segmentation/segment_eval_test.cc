// Evaluation of segments against a customer snapshot, windows, and the next
// instant at which membership changes by time passing alone.
#include "services/segmentation/domain/segment_eval.h"

#include <catch2/catch.hpp>
#include <random>
#include <string>
#include <vector>

#include "absl/time/civil_time.h"
#include "services/segmentation/domain/segment_check.h"

namespace {

using namespace crm::segmentation::domain;  // NOLINT

constexpr absl::Duration kDay = absl::Hours(24);

absl::Time At(int y, int m, int d, int hh = 0, int mm = 0) {
  return absl::FromCivil(absl::CivilMinute(y, m, d, hh, mm), absl::UTCTimeZone());
}

const absl::Time t0 = At(2026, 1, 1, 10);

FieldCatalog Catalog() {
  FieldCatalog c = FieldCatalog::Default();
  c.AddAttribute("plan", FieldType::kEnum, {"free", "silver", "gold"});
  c.AddAttribute("vip", FieldType::kBool);
  return c;
}

CheckedSegment Compile(const std::string& text) {
  absl::StatusOr<CheckedSegment> s = CompileSegment(text, Catalog());
  INFO(text);
  if (!s.ok()) FAIL(s.status().ToString());
  return *std::move(s);
}

SegmentEvaluation Eval(const std::string& text, const CustomerSnapshot& c, absl::Time now) {
  return EvaluateSegment(Compile(text), c, now);
}

bool Matches(const std::string& text, const CustomerSnapshot& c, absl::Time now = t0) {
  return Eval(text, c, now).matches;
}

SegmentEvent View(absl::Time t, const std::string& category) {
  return SegmentEvent{"product.viewed", t, {{"category", category}, {"value", 25.0}}};
}

SegmentPurchase Purchase(absl::Time t, double amount, std::vector<std::string> categories = {},
                         std::string currency = "CHF") {
  SegmentPurchase p;
  p.time = t;
  p.amount = amount;
  p.currency = std::move(currency);
  p.categories = std::move(categories);
  return p;
}

CustomerSnapshot Profile() {
  CustomerSnapshot c;
  c.fields = {{"profile.country", std::string("CH")},
              {"attr.plan", std::string("gold")},
              {"attr.vip", true},
              {"consent.email.marketing", std::string("opted_in")},
              {"rfm.segment", std::string("Champions")},
              {"clv", 600.0},
              {"p_alive", 0.9}};
  c.segments = {"vip-customers"};
  return c;
}

TEST_CASE("segment eval: fields, consents, features, segments", "[segmentation][segment]") {
  CustomerSnapshot c = Profile();
  const std::string champions =
      R"(rfm.segment = "Champions" AND (p_alive >= 0.8 OR clv > 500) AND NOT consent.email = "opted_out")";
  CHECK(Matches(champions, c));
  SegmentEvaluation e = Eval(champions, c, t0);
  CHECK(e.next_change == absl::InfiniteFuture());
  CHECK(Matches(R"(profile.country = "CH")", c));
  CHECK_FALSE(Matches(R"(profile.country != "CH")", c));
  CHECK_FALSE(Matches(R"(profile.country = "ch")", c));  // exact
  CHECK(Matches(R"(profile.country IN ("DE", "CH"))", c));
  CHECK_FALSE(Matches(R"(profile.country NOT IN ("DE", "CH"))", c));
  CHECK(Matches(R"(profile.country NOT IN ("DE", "AT"))", c));
  CHECK(Matches(R"(attr.plan = "gold" AND attr.vip = true AND attr.vip != false)", c));
  CHECK(Matches("clv > 599.5 AND clv <= 600 AND clv >= 600 AND clv < 600.01 AND clv = 600", c));
  CHECK(Matches(R"(in_segment("vip-customers"))", c));
  CHECK_FALSE(Matches(R"(in_segment("b2b"))", c));
  SECTION("the example turns false when its parts do") {
    c.fields["consent.email.marketing"] = std::string("opted_out");
    CHECK_FALSE(Matches(champions, c));
    c.fields["consent.email.marketing"] = std::string("pending");
    CHECK(Matches(champions, c));
    c.fields["p_alive"] = 0.5;
    CHECK(Matches(champions, c));  // clv > 500 still
    c.fields["clv"] = 400.0;
    CHECK_FALSE(Matches(champions, c));
  }
  SECTION("absent fields make every comparison false") {
    CHECK_FALSE(Matches(R"(profile.city = "Bern")", c));
    CHECK_FALSE(Matches(R"(profile.city != "Bern")", c));
    CHECK_FALSE(Matches(R"(profile.city NOT IN ("Bern"))", c));
    CHECK(Matches(R"(NOT profile.city = "Bern")", c));
    CHECK_FALSE(Matches("monetary >= 0", c));
  }
  SECTION("a value of another type than the catalog's is false") {
    c.fields["clv"] = std::string("600");
    CHECK_FALSE(Matches("clv > 1", c));
    CHECK_FALSE(Matches("clv != 1", c));
    CHECK_FALSE(Matches("clv NOT IN (1)", c));
  }
}

TEST_CASE("segment eval: windowed event counts", "[segmentation][segment]") {
  CustomerSnapshot c;
  const std::string jazz = R"(count(product.viewed, category = "Music/Jazz", 7d) >= 3)";
  c.events = {View(t0, "Music/Jazz"),
              View(t0 + kDay, "Music/Jazz"),
              View(t0 + 2 * kDay, "Music/Rock"),
              View(t0 + 2 * kDay, "Music/Jazz/Bebop"),
              View(t0 + 3 * kDay, "Music/Jazz"),
              SegmentEvent{"email.opened", t0, {}}};
  SECTION("the count and the instant it drops below the threshold") {
    // Four Jazz views (Bebop is a subcategory); Rock is not one.
    SegmentEvaluation e = Eval(jazz, c, t0 + 4 * kDay);
    CHECK(e.matches);
    // t0 leaves at t0 + 7d (3 left: still true); t0 + 1d leaves at t0 + 8d.
    CHECK(e.next_change == t0 + 8 * kDay);
    CHECK(Matches(jazz, c, t0 + 8 * kDay - absl::Nanoseconds(1)));
    CHECK_FALSE(Matches(jazz, c, t0 + 8 * kDay));
    SegmentEvaluation after = Eval(jazz, c, t0 + 8 * kDay);
    CHECK(after.next_change == absl::InfiniteFuture());  // counts only fall from here
    CHECK(Eval(jazz, c, t0 + 7 * kDay).next_change == t0 + 8 * kDay);
  }
  SECTION("window boundaries: now - 7d is out, now is in") {
    const std::string one = "count(email.opened, 7d) >= 1";
    CHECK(Matches(one, c, t0));
    CHECK(Matches(one, c, t0 + 7 * kDay - absl::Nanoseconds(1)));
    CHECK_FALSE(Matches(one, c, t0 + 7 * kDay));
    CHECK(Eval(one, c, t0).next_change == t0 + 7 * kDay);
    CHECK_FALSE(Matches(one, c, t0 - absl::Nanoseconds(1)));  // not happened yet
  }
  SECTION("an event dated after now enters at its time") {
    const std::string one = "count(email.opened, 30d) >= 1";
    SegmentEvaluation e = Eval(one, c, t0 - absl::Hours(1));
    CHECK_FALSE(e.matches);
    CHECK(e.next_change == t0);
  }
  SECTION("filters: IN, !=, numbers, all must hold") {
    CHECK(Eval(R"(count(product.viewed, category IN ("Music/Rock", "Books"), 7d) = 1)", c,
               t0 + 4 * kDay)
              .matches);
    CHECK(Eval(R"(count(product.viewed, category != "Music/Jazz", 7d) = 1)", c, t0 + 4 * kDay)
              .matches);
    CHECK(
        Eval(R"(count(product.viewed, category = "Music", value >= 25, 7d) = 5)", c, t0 + 4 * kDay)
            .matches);
    CHECK(Eval(R"(count(product.viewed, category = "Music", value > 25, 7d) = 0)", c, t0 + 4 * kDay)
              .matches);
    CHECK(Eval(R"(count(product.viewed, category = "Mus", 7d) = 0)", c, t0 + 4 * kDay).matches);
  }
}

TEST_CASE("segment eval: the tenant's behaviour retention caps event windows, not orders",
          "[segmentation][segment]") {
  CustomerSnapshot c;
  c.events = {View(t0, "Books"), View(t0 + 20 * kDay, "Books")};
  c.purchases = {Purchase(t0, 10)};
  const std::string two = "count(product.viewed, 365d) >= 2";
  const std::string any = "count(product.viewed, 365d) >= 1";
  const absl::Time now = t0 + 25 * kDay;
  CHECK(Matches(two, c, now));
  c.behaviour_reach = 30 * kDay;
  // Both within 30 days: still two; the first leaves at t0 + 30d, not t0 + 365d.
  SegmentEvaluation e = Eval(two, c, now);
  CHECK(e.matches);
  CHECK(e.next_change == t0 + 30 * kDay);
  CHECK_FALSE(Matches(two, c, t0 + 30 * kDay));
  CHECK(Eval(any, c, t0 + 30 * kDay).next_change == t0 + 50 * kDay);
  CHECK_FALSE(Matches(any, c, t0 + 50 * kDay));
  // A shorter window than the retention is itself.
  CHECK(Eval("count(product.viewed, 7d) >= 1", c, t0 + 21 * kDay).next_change == t0 + 27 * kDay);
  // Orders are not behaviour: their windows stay.
  CHECK(Matches("orders(365d) >= 1", c, t0 + 100 * kDay));
}

TEST_CASE("segment eval: no purchase in 90 days turns true on the 91st day",
          "[segmentation][segment]") {
  CustomerSnapshot c;
  c.purchases = {Purchase(t0 - 30 * kDay, 20), Purchase(t0, 80)};  // 2026-01-01 10:00
  const std::string lapsed = "NOT purchased(90d)";
  SegmentEvaluation e = Eval(lapsed, c, t0 + kDay);
  CHECK_FALSE(e.matches);
  CHECK(e.next_change == t0 + 90 * kDay);
  CHECK(t0 + 90 * kDay == At(2026, 4, 1, 10));  // Jan 1 is day 1, Apr 1 day 91
  // The 90th day (Mar 31), to its last instant: still a recent buyer.
  CHECK_FALSE(Matches(lapsed, c, At(2026, 3, 31, 23, 59)));
  CHECK_FALSE(Matches(lapsed, c, t0 + 90 * kDay - absl::Nanoseconds(1)));
  CHECK(Matches(lapsed, c, t0 + 90 * kDay));
  CHECK(Eval(lapsed, c, t0 + 90 * kDay).next_change == absl::InfiniteFuture());
  // Never bought: lapsed for good.
  CHECK(Eval(lapsed, CustomerSnapshot{}, t0).matches);
  CHECK(Eval(lapsed, CustomerSnapshot{}, t0).next_change == absl::InfiniteFuture());
}

TEST_CASE("segment eval: order history", "[segmentation][segment]") {
  CustomerSnapshot c;
  c.purchases = {Purchase(t0, 60, {"Books", "Music/Jazz"}), Purchase(t0 + 10 * kDay, 50, {"Books"}),
                 Purchase(t0 + 11 * kDay, 500, {"Music"}, "EUR")};
  const absl::Time now = t0 + 20 * kDay;
  SECTION("spent") {
    SegmentEvaluation e = Eval(R"(spent(currency = "CHF", 365d) >= 100)", c, now);
    CHECK(e.matches);  // 60 + 50
    CHECK(e.next_change == t0 + 365 * kDay);
    CHECK_FALSE(Matches(R"(spent(currency = "CHF", 365d) >= 100)", c, t0 + 365 * kDay));
    CHECK(Matches(R"(spent(currency = "CHF", 365d) >= 50)", c, t0 + 365 * kDay));
    CHECK(Matches("spent(365d) = 610", c, now));
    // (now - 20d, now] leaves out the purchase at exactly now - 20d.
    CHECK(Matches(R"(spent(currency = "CHF", 21d) = 110 AND spent(currency = "CHF", 20d) = 50)", c,
                  now));
    CHECK(Matches("spent(currency NOT IN (\"EUR\"), 1w) = 0", c, now));
  }
  SECTION("bought: categories and their subcategories, any of an order's") {
    CHECK(Matches(R"(bought(category = "Music", 90d))", c, now));
    CHECK(Matches(R"(bought(category = "Music/Jazz", currency = "CHF", 90d))", c, now));
    CHECK_FALSE(Matches(R"(bought(category = "Music/Rock", 90d))", c, now));
    CHECK(Matches(R"(orders(category = "Books", 90d) = 2)", c, now));
    // != : orders none of whose categories match.
    CHECK(Matches(R"(orders(category != "Music", 90d) = 1)", c, now));
    CHECK(Matches(R"(orders(sku = "x", 90d) = 0)", c, now));
    SegmentEvaluation e = Eval(R"(bought(category = "Music/Jazz", 30d))", c, now);
    CHECK(e.matches);
    CHECK(e.next_change == t0 + 30 * kDay);
  }
  SECTION("spent() sums exactly") {
    CustomerSnapshot m;
    m.purchases = {Purchase(t0, 0.1), Purchase(t0 + kDay, 0.2), Purchase(t0 + 2 * kDay, 19.99)};
    CHECK(Matches("spent(2d) = 0.3", m, t0 + kDay));
    CHECK(Matches("spent(30d) = 20.29", m, now));
    CHECK(Matches("spent(2d) = 20.19", m, t0 + 2 * kDay));
    SegmentEvaluation e = Eval("spent(30d) >= 20.29", m, now);
    CHECK(e.matches);
    CHECK(e.next_change == t0 + 30 * kDay);  // 0.1 leaves: 20.19
  }
  SECTION("a category's prefix is not its parent") {
    CustomerSnapshot m;
    m.purchases = {Purchase(t0, 10, {"Musicals"})};
    CHECK_FALSE(Matches(R"(bought(category = "Music", 90d))", m, now));
  }
}

TEST_CASE("segment eval: next change of AND / OR / NOT", "[segmentation][segment]") {
  CustomerSnapshot c = Profile();
  c.purchases = {Purchase(t0, 150)};
  c.events = {SegmentEvent{"email.opened", t0 + kDay, {}}};
  const absl::Time now = t0 + 2 * kDay;
  // Decided by a condition that time cannot change: never changes.
  SegmentEvaluation e = Eval(R"(profile.country = "DE" AND NOT purchased(90d))", c, now);
  CHECK_FALSE(e.matches);
  CHECK(e.next_change == absl::InfiniteFuture());
  e = Eval(R"(profile.country = "CH" OR purchased(90d))", c, now);
  CHECK(e.matches);
  CHECK(e.next_change == absl::InfiniteFuture());
  // Otherwise the time-driven part decides.
  e = Eval(R"(profile.country = "CH" AND NOT purchased(90d))", c, now);
  CHECK_FALSE(e.matches);
  CHECK(e.next_change == t0 + 90 * kDay);
  // AND true: the first part to end ends it.
  e = Eval("purchased(90d) AND count(email.opened, 30d) >= 1", c, now);
  CHECK(e.matches);
  CHECK(e.next_change == t0 + kDay + 30 * kDay);
  // OR true: holds until the last true part ends.
  e = Eval("purchased(90d) OR count(email.opened, 30d) >= 1", c, now);
  CHECK(e.matches);
  CHECK(e.next_change == t0 + 90 * kDay);
  // AND false with two time-driven false parts: not before both have turned.
  e = Eval("NOT purchased(90d) AND count(email.opened, 30d) = 0", c, now);
  CHECK_FALSE(e.matches);
  CHECK(e.next_change == t0 + 90 * kDay);
  // NOT keeps the instant.
  e = Eval("NOT (purchased(90d) OR count(email.opened, 30d) >= 1)", c, now);
  CHECK_FALSE(e.matches);
  CHECK(e.next_change == t0 + 90 * kDay);
}

// Random histories: the result must be constant on [now, next_change) (checked
// at every instant where an aggregate can change, and just before
// next_change), and a single comparison must really flip at next_change.
TEST_CASE("segment eval: next_change never misses a flip (random histories)",
          "[segmentation][segment]") {
  std::mt19937 rng(20261204);
  const std::vector<std::pair<std::string, bool>> segments = {
      {"count(email.opened, 7d) >= 3", true},
      {"count(email.opened, 7d) < 2", true},
      {"count(email.opened, 2d) IN (1, 3)", true},
      {"spent(30d) >= 100", true},
      {"NOT purchased(10d)", true},
      {"orders(5d) = 1", true},
      {"count(email.opened, 7d) >= 3 AND NOT purchased(10d)", false},
      {"spent(30d) >= 100 OR count(email.opened, 2d) = 0", false},
      {"NOT (orders(5d) = 1 OR (count(email.opened, 7d) > 1 AND spent(30d) < 80))", false},
  };
  for (int round = 0; round < 40; ++round) {
    CustomerSnapshot c;
    std::vector<absl::Time> instants;
    std::uniform_int_distribution<int> hour(0, 24 * 40);
    for (int i = 0; i < 12; ++i) {
      absl::Time t = t0 + absl::Hours(hour(rng));
      c.events.push_back(SegmentEvent{"email.opened", t, {}});
      for (int w : {2, 7}) instants.push_back(t + w * kDay);
      instants.push_back(t);
    }
    for (int i = 0; i < 4; ++i) {
      absl::Time t = t0 + absl::Hours(hour(rng));
      c.purchases.push_back(Purchase(t, 10 + 15 * (i % 5)));
      for (int w : {5, 10, 30}) instants.push_back(t + w * kDay);
      instants.push_back(t);
    }
    for (const auto& [text, exact] : segments) {
      CheckedSegment s = Compile(text);
      absl::Time now = t0 + absl::Hours(hour(rng));
      for (int step = 0; step < 50; ++step) {
        SegmentEvaluation e = EvaluateSegment(s, c, now);
        INFO(text << " round " << round << " now " << absl::FormatTime(now));
        for (absl::Time at : instants) {
          if (at > now && at < e.next_change) CHECK(EvaluateSegment(s, c, at).matches == e.matches);
        }
        if (e.next_change == absl::InfiniteFuture()) {
          CHECK(EvaluateSegment(s, c, t0 + 500 * kDay).matches == e.matches);
          break;
        }
        REQUIRE(e.next_change > now);
        CHECK(EvaluateSegment(s, c, e.next_change - absl::Nanoseconds(1)).matches == e.matches);
        if (exact) CHECK(EvaluateSegment(s, c, e.next_change).matches != e.matches);
        now = e.next_change;
      }
    }
  }
}

}  // namespace
