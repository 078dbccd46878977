// A customer as the live segments see it: the tenant's feature context
// (currency, time zone, RFM breakpoints) and one customer's snapshot.
#include "services/segmentation/domain/live_features.h"

#include <catch2/catch.hpp>
#include <cmath>
#include <string>
#include <vector>

#include "absl/time/civil_time.h"
#include "services/segmentation/domain/rfm.h"
#include "services/segmentation/domain/segment_check.h"

namespace {

using namespace crm::segmentation::domain;  // NOLINT

constexpr absl::Duration kDay = absl::Hours(24);

absl::Time At(int y, int m, int d, int hh = 0, int mm = 0) {
  return absl::FromCivil(absl::CivilMinute(y, m, d, hh, mm), absl::UTCTimeZone());
}

const absl::Time now = At(2026, 3, 10, 12);

LivePurchase P(absl::Time t, int64_t net_minor, std::string currency = "CHF") {
  return LivePurchase{t, net_minor, std::move(currency)};
}

LiveCustomer Customer(std::string id, std::vector<LivePurchase> purchases) {
  LiveCustomer c;
  c.customer_id = std::move(id);
  c.purchases = std::move(purchases);
  return c;
}

bool Has(const CustomerSnapshot& s, const std::string& field) { return s.fields.count(field) > 0; }

double Num(const CustomerSnapshot& s, const std::string& field) {
  INFO(field);
  auto it = s.fields.find(field);
  REQUIRE(it != s.fields.end());
  REQUIRE(std::holds_alternative<double>(it->second));
  return std::get<double>(it->second);
}

std::string Str(const CustomerSnapshot& s, const std::string& field) {
  INFO(field);
  auto it = s.fields.find(field);
  REQUIRE(it != s.fields.end());
  REQUIRE(std::holds_alternative<std::string>(it->second));
  return std::get<std::string>(it->second);
}

const std::vector<std::string> kFeatureFields = {
    "recency",     "frequency", "monetary",           "rfm.r", "rfm.f", "rfm.m", "rfm.score",
    "rfm.segment", "p_alive",   "expected_purchases", "clv"};

void CheckNoFeatures(const CustomerSnapshot& s) {
  for (const std::string& f : kFeatureFields) {
    INFO(f);
    CHECK_FALSE(Has(s, f));
  }
}

// The CDNOW fits of Fader, Hardie & Lee (weeks): BG/NBD and Gamma-Gamma.
ClvModel CdnowModel(std::string currency = "USD", std::string time_zone = "UTC") {
  ClvModel m;
  m.as_of = absl::CivilDay(2026, 3, 10);
  m.unit = TimeUnit::kWeeks;
  m.time_zone = std::move(time_zone);
  m.currency_code = std::move(currency);
  m.purchases.params = {0.243, 4.414, 0.793, 2.426};
  m.spend.params = {6.25, 3.74, 15.44};
  m.fitted_at = now - kDay;
  return m;
}

bool Matches(const std::string& text, const CustomerSnapshot& s) {
  absl::StatusOr<CheckedSegment> checked = CompileSegment(text, FieldCatalog::Default());
  INFO(text);
  if (!checked.ok()) FAIL(checked.status().ToString());
  return EvaluateSegment(*checked, s, now).matches;
}

// A: two CHF orders (recency 1, 2 orders, 150.00); B: one (recency 30, 20.00);
// C: two orders on today's date (recency 0, 12.00) and one after now;
// D: only a purchase after now; E: only EUR; F: nothing.
std::vector<LiveCustomer> Population() {
  return {
      Customer("a", {P(now - 1 * kDay, 10000), P(now - 10 * kDay, 5000)}),
      Customer("b", {P(now - 30 * kDay, 2000)}),
      Customer("c", {P(At(2026, 3, 10, 1), 500), P(At(2026, 3, 10, 2), 700),
                     P(now + absl::Hours(1), 100000)}),
      Customer("d", {P(now + kDay, 99900)}),
      Customer("e", {P(now - 2 * kDay, 50000, "EUR")}),
      Customer("f", {}),
  };
}

TEST_CASE("FeatureContextOf without customers has no currency", "[segmentation][live]") {
  FeatureContext ctx = FeatureContextOf({}, std::nullopt, now);
  CHECK(ctx.currency_code.empty());
  CHECK(ctx.time_zone == absl::UTCTimeZone());
  CHECK_FALSE(ctx.model.has_value());
  CHECK_FALSE(ctx.recency.has_value());
  CHECK_FALSE(ctx.frequency.has_value());
  CHECK_FALSE(ctx.monetary.has_value());
  SECTION("nor with customers without purchases up to now") {
    FeatureContext later = FeatureContextOf(
        {Customer("x", {}), Customer("y", {P(now + absl::Seconds(1), 100)})}, std::nullopt, now);
    CHECK(later.currency_code.empty());
    CHECK_FALSE(later.recency.has_value());
  }
}

TEST_CASE("FeatureContextOf picks the currency most purchases are in", "[segmentation][live]") {
  SECTION("most purchases") {
    FeatureContext ctx =
        FeatureContextOf({Customer("a", {P(now - kDay, 100, "EUR"), P(now - kDay, 100, "CHF")}),
                          Customer("b", {P(now - kDay, 100, "EUR"), P(now - 2 * kDay, 100, "EUR")}),
                          Customer("c", {P(now - kDay, 1000000, "CHF")})},
                         std::nullopt, now);
    CHECK(ctx.currency_code == "EUR");  // 3 purchases against 2, whatever the amounts
    CHECK(ctx.minor_digits == 2);
  }
  SECTION("ties go to the smallest code") {
    const std::vector<LiveCustomer> tied = {
        Customer("a", {P(now - kDay, 100, "USD"), P(now - kDay, 100, "CHF")}),
        Customer("b", {P(now - kDay, 100, "EUR"), P(now - kDay, 100, "USD")}),
        Customer("c", {P(now - kDay, 100, "EUR"), P(now - kDay, 100, "CHF")})};
    CHECK(FeatureContextOf(tied, std::nullopt, now).currency_code == "CHF");
    std::vector<LiveCustomer> reversed(tied.rbegin(), tied.rend());
    CHECK(FeatureContextOf(reversed, std::nullopt, now).currency_code == "CHF");
  }
  SECTION("purchases after now do not count") {
    FeatureContext ctx = FeatureContextOf(
        {Customer("a", {P(now - kDay, 100, "CHF"), P(now + kDay, 100, "EUR")}),
         Customer("b", {P(now + absl::Seconds(1), 100, "EUR"), P(now, 100, "CHF")})},
        std::nullopt, now);
    CHECK(ctx.currency_code == "CHF");
  }
  SECTION("minor digits follow the currency") {
    CHECK(FeatureContextOf({Customer("a", {P(now - kDay, 1500, "JPY")})}, std::nullopt, now)
              .minor_digits == 0);
    CHECK(FeatureContextOf({Customer("a", {P(now - kDay, 1500, "BHD")})}, std::nullopt, now)
              .minor_digits == 3);
  }
}

TEST_CASE("FeatureContextOf takes currency and time zone from the model", "[segmentation][live]") {
  const std::vector<LiveCustomer> customers = Population();  // mostly CHF
  FeatureContext ctx = FeatureContextOf(customers, CdnowModel("EUR", "Europe/Zurich"), now);
  CHECK(ctx.currency_code == "EUR");
  CHECK(ctx.time_zone.name() == "Europe/Zurich");
  REQUIRE(ctx.model.has_value());
  CHECK(ctx.model->currency_code == "EUR");
  // Only E has EUR purchases: breakpoints over one customer (recency 2 days,
  // one order of 500.00).
  REQUIRE(ctx.recency.has_value());
  CHECK(*ctx.recency == RfmBreakpoints{3, 3, 3, 3});
  CHECK(*ctx.frequency == RfmBreakpoints{2, 2, 2, 2});
  CHECK(*ctx.monetary == RfmBreakpoints{501, 501, 501, 501});

  SECTION("a model currency nobody bought in: no breakpoints") {
    FeatureContext usd = FeatureContextOf(customers, CdnowModel("USD"), now);
    CHECK(usd.currency_code == "USD");
    CHECK_FALSE(usd.recency.has_value());
  }
  SECTION("an unknown time zone falls back to UTC") {
    FeatureContext bad = FeatureContextOf(customers, CdnowModel("CHF", "Not/A_Zone"), now);
    CHECK(bad.time_zone == absl::UTCTimeZone());
  }
}

TEST_CASE("FeatureContextOf RFM breakpoints over customers with purchases up to now",
          "[segmentation][live]") {
  FeatureContext ctx = FeatureContextOf(Population(), std::nullopt, now);
  CHECK(ctx.currency_code == "CHF");  // 5 CHF purchases up to now, 1 EUR
  REQUIRE(ctx.recency.has_value());
  REQUIRE(ctx.frequency.has_value());
  REQUIRE(ctx.monetary.has_value());
  // A, B and C only: recency {1, 30, 0} days, orders {2, 1, 2}, spend
  // {150, 20, 12}; type-7 quantiles at 20/40/60/80 % + 1.
  const RfmBreakpoints recency{1.4, 1.8, 7.8, 19.4};
  const RfmBreakpoints frequency{2.4, 2.8, 3, 3};
  const RfmBreakpoints monetary{16.2, 19.4, 47, 99};
  for (int i = 0; i < 4; ++i) {
    INFO(i);
    CHECK(ctx.recency->at(i) == Approx(recency[i]));
    CHECK(ctx.frequency->at(i) == Approx(frequency[i]));
    CHECK(ctx.monetary->at(i) == Approx(monetary[i]));
  }
  SECTION("earlier, C's and A's last purchases do not exist yet") {
    const absl::Time before = now - 5 * kDay;  // only A's older order and B
    FeatureContext early = FeatureContextOf(Population(), std::nullopt, before);
    REQUIRE(early.recency.has_value());
    CHECK(*early.recency == RfmBreakpointsOf({5, 25}));
    CHECK(*early.frequency == RfmBreakpointsOf({1, 1}));
    CHECK(*early.monetary == RfmBreakpointsOf({50, 20}));
  }
}

TEST_CASE("SnapshotOf keeps the reporting currency's purchases, in its major units",
          "[segmentation][live]") {
  LiveCustomer c = Customer("c", {P(now - kDay, 1500, "JPY"), P(now - kDay, 1500, "CHF"),
                                  P(now - kDay, 1500, "BHD"), P(now - kDay, -250, "CHF")});
  c.events = {SegmentEvent{"product.viewed", now - absl::Hours(2), {{"category", "Music"}}}};
  FeatureContext ctx = FeatureContextOf({c}, std::nullopt, now);
  CustomerSnapshot s = SnapshotOf(c, ctx, now, true);
  // CHF has the most purchases: only they are seen (amounts of different
  // currencies are never added up), 15.00 and -2.50.
  CHECK(ctx.currency_code == "CHF");
  REQUIRE(s.purchases.size() == 2);
  CHECK(s.purchases[0].amount == Approx(15.0));
  CHECK(s.purchases[0].currency == "CHF");
  CHECK(s.purchases[1].amount == Approx(-2.5));
  CHECK(s.purchases[0].time == now - kDay);
  REQUIRE(s.events.size() == 1);
  CHECK(s.events[0].type == "product.viewed");
  CHECK(s.segments.empty());
  CHECK(Num(s, "monetary") == Approx(12.5));
  CHECK(Matches(R"(spent(7d) = 12.5)", s));
  CHECK_FALSE(Matches(R"(spent(currency = "JPY", 7d) > 0)", s));

  SECTION("in a JPY context, yen are whole units") {
    FeatureContext jpy = ctx;
    jpy.currency_code = "JPY";
    jpy.minor_digits = 0;
    jpy.recency.reset();
    jpy.frequency.reset();
    jpy.monetary.reset();
    CustomerSnapshot y = SnapshotOf(c, jpy, now, true);
    REQUIRE(y.purchases.size() == 1);
    CHECK(y.purchases[0].amount == 1500.0);
    CHECK(Num(y, "monetary") == 1500.0);
    CHECK(Num(y, "frequency") == 1.0);
    CHECK(Num(y, "recency") == 1.0);
    CHECK_FALSE(Has(y, "rfm.r"));  // no breakpoints in the context
  }
  SECTION("in a BHD context, three digits") {
    FeatureContext bhd = ctx;
    bhd.currency_code = "BHD";
    bhd.minor_digits = 3;
    CustomerSnapshot b = SnapshotOf(c, bhd, now, false);
    REQUIRE(b.purchases.size() == 1);
    CHECK(b.purchases[0].amount == Approx(1.5));
  }
}

TEST_CASE("SnapshotOf features: recency, frequency, monetary and RFM", "[segmentation][live]") {
  const std::vector<LiveCustomer> customers = Population();
  FeatureContext ctx = FeatureContextOf(customers, std::nullopt, now);

  SECTION("A: two orders, last one yesterday") {
    CustomerSnapshot s = SnapshotOf(customers[0], ctx, now, true);
    CHECK(Num(s, "recency") == 1.0);
    CHECK(Num(s, "frequency") == 2.0);
    CHECK(Num(s, "monetary") == Approx(150.0));
    CHECK(Num(s, "rfm.r") == 5.0);  // 1 < 1.4
    CHECK(Num(s, "rfm.f") == 1.0);  // 2 orders < 2.4
    CHECK(Num(s, "rfm.m") == 5.0);  // 150 >= 99
    CHECK(Num(s, "rfm.score") == 515.0);
    CHECK(Str(s, "rfm.segment") == "Others");
    CHECK_FALSE(Has(s, "p_alive"));  // no model
    CHECK_FALSE(Has(s, "clv"));
  }
  SECTION("B: one order 30 days ago") {
    CustomerSnapshot s = SnapshotOf(customers[1], ctx, now, true);
    CHECK(Num(s, "recency") == 30.0);
    CHECK(Num(s, "frequency") == 1.0);
    CHECK(Num(s, "monetary") == Approx(20.0));
    CHECK(Num(s, "rfm.r") == 1.0);
    CHECK(Num(s, "rfm.f") == 1.0);
    CHECK(Num(s, "rfm.m") == 3.0);  // 19.4 <= 20 < 47
    CHECK(Num(s, "rfm.score") == 113.0);
    CHECK(Str(s, "rfm.segment") == std::string(SegmentName(SegmentOf(1, 1, 3))));
  }
  SECTION("C: two orders today are one purchase day; the one after now is not counted") {
    CustomerSnapshot s = SnapshotOf(customers[2], ctx, now, true);
    CHECK(Num(s, "recency") == 0.0);
    CHECK(Num(s, "frequency") == 1.0);
    CHECK(Num(s, "monetary") == Approx(12.0));
    CHECK(Num(s, "rfm.r") == 5.0);
    CHECK(Num(s, "rfm.f") == 1.0);  // RFM frequency counts orders: 2 < 2.4
    CHECK(Num(s, "rfm.m") == 1.0);
    CHECK(Num(s, "rfm.score") == 511.0);
    CHECK(Str(s, "rfm.segment") == "New");
    CHECK(s.purchases.size() == 3);  // the evaluator gets them all; windows decide
    CHECK(Matches(R"(rfm.segment = "New")", s));
    CHECK(Matches("monetary = 12 AND frequency = 1 AND recency = 0", s));
    SECTION("once the late purchase happened, it counts") {
      const absl::Time later = now + absl::Hours(2);
      CustomerSnapshot l = SnapshotOf(customers[2], ctx, later, true);
      CHECK(Num(l, "monetary") == Approx(1012.0));
      CHECK(Num(l, "frequency") == 1.0);
    }
  }
  SECTION("D: only a purchase after now: no features") {
    CheckNoFeatures(SnapshotOf(customers[3], ctx, now, true));
  }
  SECTION("E: purchases in another currency only: no features") {
    CustomerSnapshot s = SnapshotOf(customers[4], ctx, now, true);
    CheckNoFeatures(s);
    CHECK(s.purchases.empty());  // another currency is never added up
    CHECK_FALSE(Matches("recency < 1000", s));
    CHECK(Matches("NOT recency < 1000", s));
  }
  SECTION("F: no purchases") {
    CustomerSnapshot s = SnapshotOf(customers[5], ctx, now, true);
    CheckNoFeatures(s);
    CHECK(s.purchases.empty());
  }
  SECTION("with_features false: purchases and events only") {
    for (const LiveCustomer& c : customers) {
      CustomerSnapshot s = SnapshotOf(c, ctx, now, false);
      CHECK(s.fields.empty());
      size_t in_currency = 0;
      for (const LivePurchase& p : c.purchases) in_currency += p.currency_code == ctx.currency_code;
      CHECK(s.purchases.size() == in_currency);
    }
  }
  SECTION("a context without currency: no features") {
    FeatureContext empty = FeatureContextOf({}, std::nullopt, now);
    CheckNoFeatures(SnapshotOf(customers[0], empty, now, true));
  }
}

TEST_CASE("SnapshotOf recency counts calendar days, not 24-hour spans", "[segmentation][live]") {
  // 23:30 yesterday to 00:30 today is one calendar day.
  const LiveCustomer c = Customer("c", {P(At(2026, 3, 9, 23, 30), 1000)});
  const absl::Time t = At(2026, 3, 10, 0, 30);
  FeatureContext ctx = FeatureContextOf({c}, std::nullopt, t);
  CustomerSnapshot s = SnapshotOf(c, ctx, t, true);
  CHECK(Num(s, "recency") == 1.0);
  CHECK(Num(SnapshotOf(c, ctx, At(2026, 3, 9, 23, 59), true), "recency") == 0.0);
  CHECK(Num(SnapshotOf(c, ctx, At(2026, 3, 19, 0, 0), true), "recency") == 10.0);
}

TEST_CASE("SnapshotOf uses the model's time zone for purchase days", "[segmentation][live]") {
  // 2026-03-01 23:30 UTC is 2 March 00:30 in Zurich (UTC+1): the same
  // calendar day there as 2 March 10:00 UTC. `t` is 10 March 00:30 in Zurich,
  // 9 March in UTC.
  const LiveCustomer c =
      Customer("c", {P(At(2026, 3, 1, 23, 30), 1000), P(At(2026, 3, 2, 10), 2000)});
  const absl::Time t = At(2026, 3, 9, 23, 30);

  FeatureContext utc = FeatureContextOf({c}, std::nullopt, t);
  CustomerSnapshot in_utc = SnapshotOf(c, utc, t, true);
  CHECK(Num(in_utc, "frequency") == 2.0);
  CHECK(Num(in_utc, "recency") == 7.0);

  FeatureContext zurich = FeatureContextOf({c}, CdnowModel("CHF", "Europe/Zurich"), t);
  REQUIRE(zurich.time_zone.name() == "Europe/Zurich");
  CustomerSnapshot in_zurich = SnapshotOf(c, zurich, t, true);
  CHECK(Num(in_zurich, "frequency") == 1.0);
  CHECK(Num(in_zurich, "recency") == 8.0);
  CHECK(Num(in_zurich, "monetary") == Approx(30.0));
  CHECK(Num(in_zurich, "rfm.r") >= 1.0);
}

TEST_CASE("SnapshotOf model scores with the CDNOW parameters", "[segmentation][live]") {
  // Weekly model in USD. Frequent and recent; frequent long ago; one purchase.
  const LiveCustomer frequent =
      Customer("frequent", {P(now - 200 * kDay, 3000, "USD"), P(now - 150 * kDay, 2500, "USD"),
                            P(now - 90 * kDay, 4000, "USD"), P(now - 30 * kDay, 3500, "USD"),
                            P(now - 3 * kDay, 3000, "USD")});
  const LiveCustomer gone =
      Customer("gone", {P(now - 400 * kDay, 3000, "USD"), P(now - 390 * kDay, 2500, "USD"),
                        P(now - 380 * kDay, 4000, "USD"), P(now - 370 * kDay, 3500, "USD")});
  const LiveCustomer once = Customer("once", {P(now - 100 * kDay, 5000, "USD")});
  const LiveCustomer other = Customer("other", {P(now - 3 * kDay, 5000, "EUR")});
  FeatureContext ctx = FeatureContextOf({frequent, gone, once, other}, CdnowModel("USD"), now);
  REQUIRE(ctx.model.has_value());

  auto check_ranges = [](const CustomerSnapshot& s) {
    const double p = Num(s, "p_alive");
    const double e = Num(s, "expected_purchases");
    const double v = Num(s, "clv");
    CHECK(std::isfinite(p));
    CHECK(std::isfinite(e));
    CHECK(std::isfinite(v));
    CHECK(p >= 0.0);
    CHECK(p <= 1.0);
    CHECK(e >= 0.0);
    CHECK(e < 52.0);  // fewer than one purchase day a week over a year
    CHECK(v >= 0.0);
  };
  const CustomerSnapshot f = SnapshotOf(frequent, ctx, now, true);
  const CustomerSnapshot g = SnapshotOf(gone, ctx, now, true);
  const CustomerSnapshot o = SnapshotOf(once, ctx, now, true);
  check_ranges(f);
  check_ranges(g);
  check_ranges(o);

  SECTION("a recent repeat buyer is likelier alive and worth more than one gone quiet") {
    CHECK(Num(f, "p_alive") > 0.8);
    CHECK(Num(g, "p_alive") < 0.5);
    CHECK(Num(f, "p_alive") > Num(g, "p_alive"));
    CHECK(Num(f, "expected_purchases") > Num(g, "expected_purchases"));
    CHECK(Num(f, "clv") > Num(g, "clv"));
    CHECK(Num(f, "expected_purchases") > 0.5);
    CHECK(Num(f, "clv") > 10.0);
  }
  SECTION("BG/NBD: a customer without a repeat purchase is alive") {
    CHECK(Num(o, "p_alive") == Approx(1.0));
  }
  SECTION("segments read the scores") {
    CHECK(Matches("clv > 10 AND p_alive >= 0.8", f));
    CHECK_FALSE(Matches("p_alive >= 0.8", g));
  }
  SECTION("no scores without features or without a purchase in the model's currency") {
    CheckNoFeatures(SnapshotOf(frequent, ctx, now, false));
    CheckNoFeatures(SnapshotOf(other, ctx, now, true));
  }
}

}  // namespace

TEST_CASE("SnapshotOf carries the profile, the purchases' skus and their catalog categories",
          "[segmentation][live]") {
  LiveCustomer c = Customer("c1", {P(now - kDay, 1000), P(now - 2 * kDay, 500)});
  c.purchases[0].skus = {"JAZZ-1", "BOOK-1"};
  c.purchases[1].skus = {"UNKNOWN"};
  c.profile = {{"profile.country", std::string("CH")}, {"attr.seats", 12.0}};
  FeatureContext ctx = FeatureContextOf({c}, std::nullopt, now);
  const SkuCategories categories{{"JAZZ-1", "Music/Jazz"}, {"BOOK-1", "Music/Jazz"}};
  ctx.categories = &categories;
  const CustomerSnapshot s = SnapshotOf(c, ctx, now, false);
  CHECK(std::get<std::string>(s.fields.at("profile.country")) == "CH");
  CHECK(std::get<double>(s.fields.at("attr.seats")) == 12.0);
  REQUIRE(s.purchases.size() == 2);
  for (const SegmentPurchase& p : s.purchases) {
    if (p.time == now - kDay) {
      CHECK(p.skus == std::vector<std::string>{"JAZZ-1", "BOOK-1"});
      CHECK(p.categories == std::vector<std::string>{"Music/Jazz"});  // once
    } else {
      CHECK(p.skus == std::vector<std::string>{"UNKNOWN"});
      CHECK(p.categories.empty());  // no catalog fact for it
    }
  }
  ctx.categories = nullptr;
  for (const SegmentPurchase& p : SnapshotOf(c, ctx, now, false).purchases) {
    CHECK(p.categories.empty());
  }
}

TEST_CASE("SnapshotOf activity features: tenure, repeat mean, last seen, top category",
          "[segmentation][live]") {
  LiveCustomer c = Customer("c1", {P(now - 10 * kDay, 1000), P(now - 4 * kDay, 3000),
                                   P(now - 4 * kDay + absl::Hours(1), 1000),
                                   P(now - 2 * kDay, 2000, "EUR"), P(now + kDay, 9900)});
  c.purchases[0].skus = {"JAZZ-1"};
  c.purchases[1].skus = {"BOOK-1"};
  c.purchases[2].skus = {"BOOK-1"};
  SegmentEvent view{"product.viewed", now - absl::Hours(30), {{"category", std::string("Music/Jazz")}}};
  SegmentEvent page{"page.viewed", now - absl::Hours(5), {}};
  SegmentEvent later{"page.viewed", now + absl::Hours(1), {}};  // not yet
  c.events = {view, page, later};
  FeatureContext ctx = FeatureContextOf({c}, std::nullopt, now);
  const SkuCategories categories{{"JAZZ-1", "Music/Jazz"}, {"BOOK-1", "Books/Novels"}};
  ctx.categories = &categories;
  const CustomerSnapshot s = SnapshotOf(c, ctx, now, true);
  REQUIRE(ctx.currency_code == "CHF");
  CHECK(Num(s, "tenure") == 10);
  CHECK(Num(s, "frequency") == 2);  // two CHF purchase days up to now
  CHECK(Num(s, "monetary") == Approx(50.00));
  CHECK(Num(s, "monetary_repeat_mean") == Approx(40.00));  // the day of 30 + 10
  CHECK(Num(s, "last_seen") == 0);  // the page view 5 h ago, today
  // Music/Jazz: one purchase + one view; Books/Novels: two purchases, ties
  // broken by the smaller path.
  CHECK(std::get<std::string>(s.fields.at("top_category")) == "Books/Novels");
  // Without purchases: activity features only.
  LiveCustomer viewer = Customer("c2", {});
  viewer.events = {view};
  const CustomerSnapshot v = SnapshotOf(viewer, ctx, now, true);
  CHECK(Num(v, "last_seen") == 1);
  CHECK(std::get<std::string>(v.fields.at("top_category")) == "Music/Jazz");
  CHECK_FALSE(Has(v, "tenure"));
  CHECK_FALSE(Has(v, "monetary_repeat_mean"));
  // One purchase day: no repeat mean.
  const CustomerSnapshot one = SnapshotOf(Customer("c3", {P(now - kDay, 500)}), ctx, now, true);
  CHECK(Num(one, "tenure") == 1);
  CHECK_FALSE(Has(one, "monetary_repeat_mean"));
  CHECK_FALSE(Has(one, "top_category"));
  // Not asked for features: none of them.
  CHECK_FALSE(Has(SnapshotOf(c, ctx, now, false), "last_seen"));
}

TEST_CASE("ProfilingOf: an objection always wins, an opt-in is needed only when required",
          "[segmentation][live][consent]") {
  const ConsentFields none;
  const ConsentFields in{{"consent.web.profiling", "opted_in"}};
  const ConsentFields marketing_only{{"consent.email.marketing", "opted_in"}};
  const ConsentFields objected{{"consent.web.profiling", "opted_in"},
                               {"consent.email.profiling", "opted_out"}};
  const ConsentFields pending{{"consent.web.profiling", "pending"}};
  CHECK(ProfilingOf(none, false) == Profiling::kAllowed);
  CHECK(ProfilingOf(none, true) == Profiling::kNoOptIn);
  CHECK(ProfilingOf(in, true) == Profiling::kAllowed);
  CHECK(ProfilingOf(marketing_only, true) == Profiling::kNoOptIn);
  CHECK(ProfilingOf(pending, true) == Profiling::kNoOptIn);
  CHECK(ProfilingOf(objected, false) == Profiling::kObjected);
  CHECK(ProfilingOf(objected, true) == Profiling::kObjected);
  CHECK(ProfilingRefusal(Profiling::kAllowed).empty());
  CHECK(ProfilingRefusal(Profiling::kNoOptIn).find("opt-in") != std::string::npos);
  CHECK(ProfilingRefusal(Profiling::kObjected).find("objected") != std::string::npos);
}

TEST_CASE("FeatureContextOf without a model counts days in the tenant's time zone",
          "[segmentation][live]") {
  // Two purchases 3 hours apart, on one UTC day but on two days in Tokyo
  // (UTC+9): 2026-03-09 13:00 and 16:00 UTC are 22:00 and 01:00 the next day.
  const LiveCustomer c = Customer("c1", {P(At(2026, 3, 9, 13), 100), P(At(2026, 3, 9, 16), 100)});
  absl::TimeZone tokyo;
  REQUIRE(absl::LoadTimeZone("Asia/Tokyo", &tokyo));
  const FeatureContext utc = FeatureContextOf({c}, std::nullopt, now);
  const FeatureContext local = FeatureContextOf({c}, std::nullopt, now, tokyo);
  CHECK(Num(SnapshotOf(c, utc, now, true), "frequency") == 1);
  CHECK(Num(SnapshotOf(c, local, now, true), "frequency") == 2);
}

TEST_CASE("settings: a patch that changes something makes a version", "[segmentation][live]") {
  SegmentationSettings s;
  CHECK(EtagOf(s) == "0");
  CHECK_FALSE(ApplyPatch(s, {}, now));
  CHECK_FALSE(ApplyPatch(s, {false}, now));  // the default already
  CHECK(s.version == 0);
  CHECK(ApplyPatch(s, {true}, now));
  CHECK(s.profiling_requires_opt_in);
  CHECK(s.version == 1);
  CHECK(s.update_time == now);
  CHECK(EtagOf(s) == "1");
  CHECK_FALSE(ApplyPatch(s, {true}, now + kDay));
  CHECK(s.update_time == now);
  CHECK(s.time_zone == "UTC");
  CHECK_FALSE(ApplyPatch(s, {std::nullopt, "UTC"}, now + kDay));
  CHECK(ApplyPatch(s, {std::nullopt, "Europe/Zurich"}, now + kDay));
  CHECK(s.time_zone == "Europe/Zurich");
  CHECK(s.profiling_requires_opt_in);  // untouched
  CHECK(s.version == 2);
}
