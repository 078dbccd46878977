// The segmentation use cases over the in-memory store: refits through the
// unit of work (the CDNOW figures, key replay, refusals keep the previous
// model), holdout evaluation, a customer's scores, the RFM summary, and the
// facts kept from order and customer events.
#include "services/segmentation/app/models.h"

#include <catch2/catch.hpp>
#include <cmath>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "libs/common/errors.h"
#include "services/segmentation/app/facts.h"
#include "tests/support/fakes/common_fakes.h"
#include "tests/support/fakes/segmentation/fake_segmentation_store.h"
#include "tests/unit/segmentation/reference_data.h"

namespace crm::segmentation {
namespace {

constexpr char kTenant[] = "11111111-1111-4111-8111-111111111111";
constexpr char kOther[] = "22222222-2222-4222-8222-222222222222";

// A UUID per CDNOW customer / row number.
std::string Uuid(int n, char kind) {
  return absl::StrCat(std::string(8 - std::min<int>(8, absl::StrCat(n).size()), '0'), n,
                      "-0000-4000-8000-00000000000", std::string(1, kind));
}

events::OrderFact Fact(const std::string& tenant, int order, int customer, absl::CivilDay day,
                       int64_t cents, std::string currency = "USD", std::string status = "placed",
                       int64_t version = 1) {
  events::OrderFact f;
  f.tenant_id = tenant;
  f.order_id = Uuid(order, 'a');
  f.customer_id = Uuid(customer, 'c');
  f.currency_code = std::move(currency);
  f.total_minor = f.net_minor = cents;
  f.status = std::move(status);
  f.placed_time = absl::FromCivil(absl::CivilSecond(day) + 12 * 3600, absl::UTCTimeZone());
  f.version = version;
  return f;
}

outbox::WriteMeta Actor(const std::string& key, const std::string& fingerprint = "fp") {
  return outbox::WriteMeta{kTenant, "test", "rq", "RefitClvModel", key, fingerprint};
}

absl::Time At(absl::CivilDay day) { return absl::FromCivil(day, absl::UTCTimeZone()); }

struct Fixture {
  crm::testing::FakeSegmentationStore store;
  crm::testing::FixedClock clock{At(absl::CivilDay(1998, 7, 1))};
  app::Models models{store, store, store, clock};
  app::Facts facts{store};

  // CDNOW_sample.txt as orders of kTenant (one order per row).
  void LoadCdnow() {
    std::vector<app::Fact> batch;
    int n = 0;
    for (const domain::Transaction& t : testing::LoadCdnowSample()) {
      int customer = 0;
      REQUIRE(absl::SimpleAtoi(t.customer_id, &customer));
      batch.emplace_back(Fact(kTenant, ++n, customer, t.day, std::llround(t.amount * 100)));
    }
    for (const absl::Status& s : facts.Apply(batch)) REQUIRE(s.ok());
  }
};

TEST_CASE("a refit through the app reproduces the published CDNOW figures", "[segmentation][app]") {
  Fixture f;
  f.LoadCdnow();
  app::RefitRequest req;
  req.as_of = absl::CivilDay(1997, 9, 30);
  auto m = f.models.RefitClv(Actor("k1"), req);
  REQUIRE(m.ok());
  CHECK(m->currency_code == "USD");
  CHECK(m->purchases.customers == 2357);
  CHECK(m->purchases.repeat_customers == 946);
  CHECK(m->purchases.params.r == Approx(0.242596).epsilon(1e-3));
  CHECK(m->purchases.params.alpha == Approx(4.413649).epsilon(1e-3));
  CHECK(m->purchases.params.a == Approx(0.792924).epsilon(1e-3));
  CHECK(m->purchases.params.b == Approx(2.425932).epsilon(1e-3));
  CHECK(m->purchases.log_likelihood == Approx(-9582.4292).margin(0.01));
  CHECK(m->spend.params.p == Approx(6.249595).epsilon(1e-3));
  CHECK(m->spend.params.q == Approx(3.744238).epsilon(1e-3));
  CHECK(m->spend.params.gamma == Approx(15.443531).epsilon(1e-3));
  CHECK(f.store.emitted() == std::vector<std::string>{"segmentation.clv_model_refitted:USD"});

  SECTION("the stored model is the tenant's; others have none") {
    auto got = f.models.GetClv(kTenant);
    REQUIRE(got.ok());
    CHECK(got->purchases.params.r == m->purchases.params.r);
    auto none = f.models.GetClv(kOther);
    CHECK(none.status().code() == absl::StatusCode::kNotFound);
    CHECK(common::ReasonOf(none.status()) == "MODEL_NOT_FOUND");
  }
  SECTION("the same key answers the first fit; with another body it is refused") {
    app::RefitRequest other = req;
    other.as_of = absl::CivilDay(1997, 6, 30);
    auto again = f.models.RefitClv(Actor("k1"), other);  // same fingerprint: replayed
    REQUIRE(again.ok());
    CHECK(again->as_of == absl::CivilDay(1997, 9, 30));
    CHECK(f.store.writes() == 1);
    auto reused = f.models.RefitClv(Actor("k1", "another body"), other);
    CHECK(common::ReasonOf(reused.status()) == "IDEMPOTENCY_KEY_REUSED");
  }
  SECTION("scores of the published customers") {
    // Sample customer 1: x = 2, t_x = 30.43, T = 38.86 -> 1.226 in 39 weeks.
    domain::ScoreOptions options;
    options.horizon = 39;
    auto s = f.models.Scores(kTenant, Uuid(1, 'c'), absl::CivilDay(1997, 9, 30), options);
    REQUIRE(s.ok());
    REQUIRE(s->summary.has_value());
    CHECK(s->summary->x == 2);
    CHECK(s->summary->t_x == Approx(30.43).margin(0.005));
    CHECK(s->summary->T == Approx(38.86).margin(0.005));
    REQUIRE(s->model.has_value());
    CHECK(s->model->expected_purchases == Approx(1.226).margin(0.0005));
    CHECK(s->orders == 3);  // its 4th purchase (1997-12-12) is after as_of
    REQUIRE(s->rfm.has_value());
    // Sample customer 1516: x = 26 -> E[Y(52)] = 25.76, P(alive) = 0.9689.
    auto t = f.models.Scores(kTenant, Uuid(1516, 'c'), absl::CivilDay(1997, 9, 30));
    REQUIRE(t.ok());
    REQUIRE(t->model.has_value());
    CHECK(t->model->horizon == 52);
    CHECK(t->model->expected_purchases == Approx(25.76).margin(0.005));
    CHECK(t->model->p_alive == Approx(0.9689).margin(0.00005));
    CHECK(t->model->churn_risk == Approx(1 - t->model->p_alive));
    CHECK(t->model->clv > 0);
  }
  SECTION("a customer the engine does not know is not found, in any tenant") {
    auto s = f.models.Scores(kTenant, Uuid(99999, 'c'), std::nullopt);
    CHECK(s.status().code() == absl::StatusCode::kNotFound);
    CHECK(common::ReasonOf(s.status()) == "CUSTOMER_NOT_FOUND");
    CHECK(f.models.Scores(kOther, Uuid(1, 'c'), std::nullopt).status().code() ==
          absl::StatusCode::kNotFound);
  }
}

TEST_CASE("a refused refit keeps the previous model", "[segmentation][app]") {
  Fixture f;
  // 30 customers, 5 with a repeat purchase: fewer than the 20 repeat buyers a fit needs.
  std::vector<app::Fact> batch;
  for (int c = 1; c <= 30; ++c) {
    batch.emplace_back(Fact(kTenant, c, c, absl::CivilDay(1997, 1, c % 28 + 1), 1000));
    if (c <= 5) batch.emplace_back(Fact(kTenant, 100 + c, c, absl::CivilDay(1997, 3, c), 2000));
  }
  for (const absl::Status& s : f.facts.Apply(batch)) REQUIRE(s.ok());
  app::RefitRequest req;
  req.as_of = absl::CivilDay(1997, 9, 30);
  auto m = f.models.RefitClv(Actor("k"), req);
  CHECK(m.status().code() == absl::StatusCode::kFailedPrecondition);
  CHECK(common::ReasonOf(m.status()) == "INSUFFICIENT_DATA");
  CHECK(f.models.GetClv(kTenant).status().code() == absl::StatusCode::kNotFound);
  CHECK(f.store.emitted().empty());
}

TEST_CASE("refit settings are checked", "[segmentation][app]") {
  Fixture f;
  app::RefitRequest req;
  req.settings.time_zone = "Mars/Olympus";
  auto m = f.models.RefitClv(Actor("s1"), req);
  CHECK(m.status().code() == absl::StatusCode::kInvalidArgument);
  CHECK(common::FieldOf(m.status()) == "settings.time_zone");
  req.settings.time_zone = "UTC";
  req.as_of = absl::CivilDay(1998, 7, 2);  // the clock's tomorrow
  CHECK(common::FieldOf(f.models.RefitClv(Actor("s2"), req).status()) == "as_of");
  req.as_of.reset();
  req.settings.currency_code = "XYZ";
  CHECK(common::FieldOf(f.models.RefitClv(Actor("s3"), req).status()) == "settings.currency_code");
  req.settings.currency_code = "";
  auto empty = f.models.RefitClv(Actor("s4"), req);  // no purchases at all
  CHECK(common::ReasonOf(empty.status()) == "INSUFFICIENT_DATA");
}

TEST_CASE("a refit without a time zone takes the tenant's", "[segmentation][app]") {
  Fixture f;
  f.LoadCdnow();
  segmentation::domain::SegmentationSettings zurich;
  zurich.time_zone = "Europe/Zurich";
  zurich.version = 1;
  f.store.SetSettings(kTenant, zurich);
  app::RefitRequest req;
  req.as_of = absl::CivilDay(1997, 9, 30);
  auto m = f.models.RefitClv(Actor("tz1"), req);
  REQUIRE(m.ok());
  CHECK(m->time_zone == "Europe/Zurich");
  CHECK(m->purchases.customers == 2357);  // purchase days at noon UTC: the same days
  req.settings.time_zone = "UTC";         // a named zone wins
  auto named = f.models.RefitClv(Actor("tz2"), req);
  REQUIRE(named.ok());
  CHECK(named->time_zone == "UTC");
}

TEST_CASE("holdout evaluation on CDNOW", "[segmentation][app]") {
  Fixture f;
  f.LoadCdnow();
  app::EvaluateRequest req{absl::CivilDay(1997, 9, 30), absl::CivilDay(1998, 6, 30), {}};
  auto e = f.models.EvaluateClv(kTenant, req);
  REQUIRE(e.ok());
  CHECK(e->customers == 2357);
  REQUIRE(e->result.points.size() == 39);
  CHECK(e->result.points.back().actual_cumulative == 1882);
  CHECK(e->result.points.back().expected_cumulative == Approx(1653.4).margin(0.5));
  req.holdout_end = req.calibration_end;
  CHECK(common::FieldOf(f.models.EvaluateClv(kTenant, req).status()) == "holdout_end");
}

TEST_CASE("the RFM summary counts every customer once", "[segmentation][app]") {
  Fixture f;
  f.LoadCdnow();
  app::RfmSummaryRequest req;
  req.as_of = absl::CivilDay(1998, 6, 30);
  auto r = f.models.Rfm(kTenant, req);
  REQUIRE(r.ok());
  CHECK(r->customers == 2357);
  int sum = 0;
  for (const auto& [_, n] : r->segments) sum += n;
  CHECK(sum == 2357);
  CHECK(r->segments.size() == 12);
  CHECK(common::ReasonOf(f.models.Rfm(kOther, req).status()) == "INSUFFICIENT_DATA");
}

TEST_CASE(
    "facts: orders keep their newest version, cancelled ones and other currencies do not count",
    "[segmentation][app]") {
  Fixture f;
  const absl::CivilDay d(1998, 1, 5);
  std::vector<app::Fact> batch = {
      Fact(kTenant, 1, 1, d, 1000, "USD", "placed", 2),
      Fact(kTenant, 1, 1, d, 9999, "USD", "placed", 1),  // older: ignored
      Fact(kTenant, 2, 1, d + 1, 500, "USD", "cancelled"),
      Fact(kTenant, 3, 1, d + 2, 700, "EUR"),
      Fact(kTenant, 4, 2, d, 300),
  };
  events::OrderFact bad = Fact(kTenant, 5, 2, d, 1);
  bad.order_id = "not-a-uuid";
  batch.emplace_back(bad);
  std::vector<absl::Status> out = f.facts.Apply(batch);
  for (size_t i = 0; i + 1 < out.size(); ++i) CHECK(out[i].ok());
  CHECK(out.back().code() == absl::StatusCode::kInvalidArgument);
  auto s = f.models.Scores(kTenant, Uuid(1, 'c'), absl::CivilDay(1998, 2, 1));
  REQUIRE(s.ok());
  CHECK(s->currency_code == "USD");  // 3 USD orders against 1 EUR order
  CHECK(s->orders == 1);             // the cancelled one and the EUR one do not count
  CHECK(s->monetary == Approx(10.00));
  CHECK(s->model_absent_reason == "no lifetime-value model yet");
}

TEST_CASE("scores: no RFM or model scores without an opt-in when the tenant requires one",
          "[segmentation][app][consent]") {
  Fixture f;
  const absl::CivilDay d(1998, 1, 5);
  for (const absl::Status& st : f.facts.Apply({Fact(kTenant, 1, 1, d, 1000, "USD", "placed"),
                                               Fact(kTenant, 2, 2, d, 900, "USD", "placed")})) {
    REQUIRE(st.ok());
  }
  auto reason = [&](int customer) {
    auto s = f.models.Scores(kTenant, Uuid(customer, 'c'), absl::CivilDay(1998, 2, 1));
    REQUIRE(s.ok());
    CHECK(s->orders == 1);  // the customer's records stay
    return s->model_absent_reason;
  };
  CHECK(reason(1) == "no lifetime-value model yet");
  segmentation::domain::SegmentationSettings required;
  required.profiling_requires_opt_in = true;
  required.version = 1;
  f.store.SetSettings(kTenant, required);
  CHECK(reason(1).find("requires an opt-in to profiling") != std::string::npos);
  events::ConsentFact in;
  in.tenant_id = kTenant;
  in.event_id = Uuid(7, 'e');
  in.customer_id = Uuid(1, 'c');
  in.channel = "web";
  in.purpose = "profiling";
  in.status = "opted_in";
  in.recorded_time = At(d);
  REQUIRE(f.facts.Apply({in})[0].ok());
  CHECK(reason(1) == "no lifetime-value model yet");  // opted in: scored as before
  CHECK(reason(2).find("requires an opt-in to profiling") != std::string::npos);
  f.store.SetSettings(kOther, required);  // another tenant's setting changes nothing here
  f.store.SetSettings(kTenant, {});
  CHECK(reason(2) == "no lifetime-value model yet");
}

TEST_CASE("facts: customer changes apply once and in order with the orders around them",
          "[segmentation][app]") {
  using Kind = events::CustomerChange::Kind;
  Fixture f;
  const absl::CivilDay d(1998, 1, 5);
  auto change = [](Kind kind, const std::string& event, int customer, int other = 0) {
    events::CustomerChange c;
    c.kind = kind;
    c.tenant_id = kTenant;
    c.event_id = event;
    c.customer_id = Uuid(customer, 'c');
    if (other != 0) c.other_id = Uuid(other, 'c');
    if (kind == Kind::kErased) c.erased_ids = {c.customer_id};
    return c;
  };
  std::vector<app::Fact> batch = {
      change(Kind::kCreated, "e1", 7), Fact(kTenant, 1, 1, d, 1000),
      change(Kind::kMerged, "e2", 2, 1),  // 1 merged into 2
      Fact(kTenant, 2, 1, d + 1, 500),    // placed by 1 after the merge: counts for 2
  };
  for (const absl::Status& s : f.facts.Apply(batch)) REQUIRE(s.ok());
  CHECK(f.models.Scores(kTenant, Uuid(7, 'c'), d + 2)->orders == 0);  // known, no purchases
  CHECK(f.models.Scores(kTenant, Uuid(2, 'c'), d + 2)->orders == 2);
  // A replayed merge event changes nothing; the unmerge gives 1 its orders back.
  REQUIRE(f.facts.Apply({change(Kind::kUnmerged, "e3", 2, 1), change(Kind::kMerged, "e2", 2, 1)}) ==
          std::vector<absl::Status>(2, absl::OkStatus()));
  CHECK(f.models.Scores(kTenant, Uuid(1, 'c'), d + 2)->orders == 2);
  CHECK(f.models.Scores(kTenant, Uuid(2, 'c'), d + 2).status().code() ==
        absl::StatusCode::kNotFound);
  // Erasure forgets the customer and its orders.
  REQUIRE(f.facts.Apply({change(Kind::kErased, "e4", 1)})[0].ok());
  CHECK(f.models.Scores(kTenant, Uuid(1, 'c'), d + 2).status().code() ==
        absl::StatusCode::kNotFound);
  // A change without ids is refused, not retried.
  events::CustomerChange bad = change(Kind::kMerged, "e5", 2, 1);
  bad.other_id = "";
  CHECK(f.facts.Apply({bad})[0].code() == absl::StatusCode::kInvalidArgument);
}

TEST_CASE("facts: a failed tenant batch is retried fact by fact", "[segmentation][app]") {
  Fixture f;
  f.store.FailBatchesWith(absl::UnavailableError("pg down"));
  const absl::CivilDay d(1998, 1, 5);
  std::vector<absl::Status> out = f.facts.Apply(
      {Fact(kTenant, 1, 1, d, 100), Fact(kTenant, 2, 1, d, 200), Fact(kOther, 3, 3, d, 300)});
  for (const absl::Status& s : out) CHECK(s.ok());  // one by one they go in
  CHECK(f.models.Scores(kTenant, Uuid(1, 'c'), d)->orders == 2);
}

TEST_CASE("scheduled refits: models older than the age limit, once a day", "[segmentation][app]") {
  Fixture f;
  f.LoadCdnow();
  app::RefitRequest req;
  req.settings.time_zone = "Europe/Zurich";
  REQUIRE(f.models.RefitClv(Actor("first"), req).ok());
  auto none = f.models.RefitDue(absl::Hours(24));
  REQUIRE(none.ok());
  CHECK(none->refitted == 0);  // fresh
  f.clock.Advance(absl::Hours(25));
  auto due = f.models.RefitDue(absl::Hours(24));
  REQUIRE(due.ok());
  CHECK(due->refitted == 1);
  CHECK(f.store.writes() == 2);
  auto m = f.models.GetClv(kTenant);
  REQUIRE(m.ok());
  CHECK(m->fitted_at == f.clock.Now());
  CHECK(m->time_zone == "Europe/Zurich");  // the model's own settings
  CHECK(m->as_of == absl::ToCivilDay(f.clock.Now(), absl::FixedTimeZone(3600)));
  // Fitted again: not due; another tenant without a model is never refitted.
  auto again = f.models.RefitDue(absl::Hours(24));
  REQUIRE(again.ok());
  CHECK(again->refitted == 0);
  CHECK(f.store.writes() == 2);
}

}  // namespace
}  // namespace crm::segmentation

namespace crm::segmentation {
namespace {

TEST_CASE("scores reuse the tenant's RFM breakpoints until its purchases change",
          "[segmentation][app][scores]") {
  crm::testing::FakeSegmentationStore store;
  crm::testing::FixedClock clock{At(absl::CivilDay(1998, 7, 1))};
  app::PurchaseVersions versions;
  app::Facts facts{store, &versions};
  app::Models cached{store, store, store, clock, &versions};
  app::Models uncached{store, store, store, clock};
  const absl::CivilDay d(1998, 6, 1);
  std::vector<app::Fact> batch;
  for (int c = 1; c <= 10; ++c) batch.emplace_back(Fact(kTenant, c, c, d, 1000 * c));
  for (const absl::Status& s : facts.Apply(batch)) REQUIRE(s.ok());
  auto m_of = [&](app::Models& m) {
    auto s = m.Scores(kTenant, Uuid(5, 'c'), absl::CivilDay(1998, 7, 1));
    REQUIRE(s.ok());
    REQUIRE(s->rfm.has_value());
    CHECK(s->monetary == Approx(50.0));  // the customer's own values are always read now
    return s->rfm->m;
  };
  CHECK(m_of(cached) == 3);
  CHECK(m_of(uncached) == 3);

  // Ten bigger spenders stored without the fact use case (no version bump):
  // the cached breakpoints stay, the uncached path sees them.
  std::vector<events::OrderFact> more;
  for (int c = 11; c <= 20; ++c) more.push_back(Fact(kTenant, c, c, d, 100000 * c));
  REQUIRE(store.RecordOrders(kTenant, more).ok());
  clock.Advance(absl::Hours(1));
  CHECK(m_of(cached) == 3);
  CHECK(m_of(uncached) == 2);

  // A purchase through the facts bumps the tenant's version: recomputed, at
  // most once per kPopulationFloor while purchases keep changing.
  for (const absl::Status& s : facts.Apply({Fact(kTenant, 21, 21, d, 100)})) REQUIRE(s.ok());
  CHECK(m_of(cached) == 2);
  CHECK(m_of(uncached) == 2);
  for (const absl::Status& s : facts.Apply({Fact(kTenant, 22, 22, d, 100)})) REQUIRE(s.ok());
  std::vector<events::OrderFact> rich;
  for (int c = 23; c <= 40; ++c) rich.push_back(Fact(kTenant, c, c, d, 100));
  REQUIRE(store.RecordOrders(kTenant, rich).ok());  // moves customer 5 up
  clock.Advance(app::Models::kPopulationFloor - absl::Seconds(1));
  const int within_floor = m_of(cached);
  clock.Advance(absl::Seconds(1));
  CHECK(m_of(cached) == m_of(uncached));
  CHECK(m_of(uncached) > within_floor);
}

}  // namespace
}  // namespace crm::segmentation
