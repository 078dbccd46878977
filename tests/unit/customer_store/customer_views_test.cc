// The 360 view's assembly (app::CustomerViews) over in-memory fakes: the
// segmentation engine's sections (scores, segments) filled when it answers,
// each left out with its own status when it is down, slow or refuses, an
// unknown customer read as empty sections, and the view's own part served
// (and cached) regardless.
#include "services/customer_store/app/customer_views.h"

#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "tests/support/fakes/common_fakes.h"
#include "tests/support/fakes/customer_store/fake_customer_insights.h"
#include "tests/support/fakes/customer_store/fake_customer_repository.h"
#include "tests/support/fakes/customer_store/fake_view_cache.h"

namespace {

using namespace crm::customer_store;  // NOLINT
using crm::testing::FakeCustomerInsights;
using crm::testing::FakeCustomerRepository;
using crm::testing::FakeViewCache;
using crm::testing::FixedClock;
using crm::testing::SequentialIdGenerator;

constexpr char kTenant[] = "11111111-1111-4111-8111-111111111111";
constexpr char kMissingId[] = "99999999-9999-4999-8999-999999999999";

std::string Serialize(const domain::CustomerView& v) {
  return absl::StrCat(v.customer.id, "|", v.customer.given_name);
}

struct Fixture {
  FakeCustomerRepository repo;
  FakeViewCache cache;
  FixedClock clock{absl::FromUnixSeconds(1700000000)};
  SequentialIdGenerator ids;
  app::CustomerStore store{repo, cache, clock, ids};
  FakeCustomerInsights insights;
  app::CustomerViews views{store, insights, absl::Milliseconds(100)};
  app::Caller caller{kTenant, "key-1", "marketer", "req-1", "", absl::InfiniteFuture()};
  std::string id;

  Fixture() {
    domain::Customer c;
    c.given_name = "Ada";
    c.emails = {"ada@example.com"};
    auto r = store.Create(app::Actor{kTenant, "key-1", "", "CreateCustomer"}, c);
    REQUIRE(r.ok());
    id = r->id;
  }

  app::ViewAnswer Read() {
    absl::StatusOr<app::ViewAnswer> r = views.Read(caller, id, 0, Serialize);
    INFO(r.status());
    REQUIRE(r.ok());
    CHECK(r->own_bytes == absl::StrCat(id, "|Ada"));  // the rest of the view, whole
    return *std::move(r);
  }
};

const domain::SectionState& Section(const app::ViewAnswer& a, const std::string& name) {
  for (const domain::SectionState& s : a.insights.sections) {
    if (s.name == name) return s;
  }
  FAIL("no section " << name);
  static domain::SectionState none;
  return none;
}

domain::CustomerScores SomeScores() {
  domain::CustomerScores s;
  s.as_of = "2026-03-01";
  s.currency_code = "CHF";
  s.orders = 4;
  s.monetary = 310.5;
  s.last_purchase = "2026-02-20";
  s.rfm = domain::RfmScore{5, 4, 3, 543, "Loyal"};
  s.has_model_scores = true;
  s.p_alive = 0.9;
  s.churn_risk = 0.1;
  s.horizon = 52;
  s.expected_purchases = 3.2;
  s.expected_spend = 80;
  s.clv = 240;
  return s;
}

TEST_CASE("CustomerViews: both sections filled when segmentation answers",
          "[customer_store][app][view]") {
  Fixture f;
  f.insights.set_scores(SomeScores());
  f.insights.set_segments(FakeCustomerInsights::Segments{
      {"vip", "VIP", absl::FromUnixSeconds(1699990000)}, {"wine", "Wine lovers", absl::Now()}});
  app::ViewAnswer a = f.Read();
  REQUIRE(a.insights.scores.has_value());
  CHECK(a.insights.scores->clv == 240);
  CHECK(a.insights.scores->rfm->segment == "Loyal");
  REQUIRE(a.insights.segments.has_value());
  REQUIRE(a.insights.segments->size() == 2);
  CHECK((*a.insights.segments)[0].segment_id == "vip");
  CHECK(a.insights.sections.size() == 2);
  CHECK(Section(a, "scores").owner == "segmentation");
  CHECK_FALSE(Section(a, "scores").unavailable.has_value());
  CHECK_FALSE(Section(a, "segments").unavailable.has_value());
}

TEST_CASE("CustomerViews: a customer segmentation has not seen reads as empty sections",
          "[customer_store][app][view]") {
  Fixture f;  // the fake answers NOT_FOUND by default
  app::ViewAnswer a = f.Read();
  REQUIRE(a.insights.scores.has_value());
  CHECK_FALSE(a.insights.scores->has_model_scores);
  CHECK_FALSE(a.insights.scores->model_absent_reason.empty());
  CHECK_FALSE(a.insights.scores->rfm.has_value());
  REQUIRE(a.insights.segments.has_value());
  CHECK(a.insights.segments->empty());
  CHECK_FALSE(Section(a, "scores").unavailable.has_value());
  CHECK_FALSE(Section(a, "segments").unavailable.has_value());
}

TEST_CASE("CustomerViews: scores without a model keep the engine's reason",
          "[customer_store][app][view]") {
  Fixture f;
  domain::CustomerScores s;
  s.as_of = "2026-03-01";
  s.currency_code = "CHF";
  s.orders = 1;
  s.model_absent_reason = "no lifetime-value model yet";
  f.insights.set_scores(s);
  app::ViewAnswer a = f.Read();
  REQUIRE(a.insights.scores.has_value());
  CHECK_FALSE(a.insights.scores->has_model_scores);
  CHECK(a.insights.scores->model_absent_reason == "no lifetime-value model yet");
}

TEST_CASE("CustomerViews: each section degrades on its own, with a status saying why",
          "[customer_store][app][view]") {
  Fixture f;
  SECTION("segmentation down: both sections UNAVAILABLE, retryable") {
    f.insights.set_scores(absl::UnavailableError("connection refused"));
    f.insights.set_segments(absl::UnavailableError("connection refused"));
    app::ViewAnswer a = f.Read();
    CHECK_FALSE(a.insights.scores.has_value());
    CHECK_FALSE(a.insights.segments.has_value());
    for (const char* name : {"scores", "segments"}) {
      const domain::SectionState& s = Section(a, name);
      REQUIRE(s.unavailable.has_value());
      CHECK(s.unavailable->code == absl::StatusCode::kUnavailable);
      CHECK(s.unavailable->reason == "DEPENDENCY_UNAVAILABLE");
      CHECK(s.unavailable->retryable);
      CHECK_FALSE(s.unavailable->message.empty());
      // The transport detail stays out of what the client reads.
      CHECK(s.unavailable->message.find("refused") == std::string::npos);
    }
  }
  SECTION("an engine without GetCustomerSegments (an older version): scores served, segments UNIMPLEMENTED") {
    f.insights.set_scores(SomeScores());
    f.insights.set_segments(absl::UnimplementedError("GetCustomerSegments"));
    app::ViewAnswer a = f.Read();
    CHECK(a.insights.scores.has_value());
    CHECK_FALSE(Section(a, "scores").unavailable.has_value());
    CHECK_FALSE(a.insights.segments.has_value());
    const domain::SectionState& s = Section(a, "segments");
    REQUIRE(s.unavailable.has_value());
    CHECK(s.unavailable->code == absl::StatusCode::kUnimplemented);
    CHECK_FALSE(s.unavailable->retryable);
  }
  SECTION("the adapter's deadline passed: DEADLINE_EXCEEDED") {
    f.insights.set_scores(absl::DeadlineExceededError("Deadline Exceeded"));
    f.insights.set_segments(FakeCustomerInsights::Segments{});
    app::ViewAnswer a = f.Read();
    REQUIRE(Section(a, "scores").unavailable.has_value());
    CHECK(Section(a, "scores").unavailable->code == absl::StatusCode::kDeadlineExceeded);
    CHECK(Section(a, "scores").unavailable->retryable);
    CHECK(a.insights.segments.has_value());
  }
  SECTION("a refusal of our request is INTERNAL, not the client's to fix") {
    f.insights.set_scores(absl::PermissionDeniedError("no"));
    f.insights.set_segments(absl::InvalidArgumentError("customer_id"));
    app::ViewAnswer a = f.Read();
    for (const char* name : {"scores", "segments"}) {
      REQUIRE(Section(a, name).unavailable.has_value());
      CHECK(Section(a, name).unavailable->code == absl::StatusCode::kInternal);
      CHECK(Section(a, name).unavailable->reason == "INTERNAL_ERROR");
      CHECK_FALSE(Section(a, name).unavailable->retryable);
    }
  }
}

TEST_CASE("CustomerViews: a peer that never answers costs the wait, not the view",
          "[customer_store][app][view]") {
  Fixture f;
  f.insights.hang_scores();
  f.insights.hang_segments();
  const absl::Time start = absl::Now();
  app::ViewAnswer a = f.Read();
  const absl::Duration took = absl::Now() - start;
  CHECK(took >= absl::Milliseconds(90));
  CHECK(took < absl::Seconds(2));  // both waits run together: ~100ms, not twice that per call
  for (const char* name : {"scores", "segments"}) {
    REQUIRE(Section(a, name).unavailable.has_value());
    CHECK(Section(a, name).unavailable->code == absl::StatusCode::kDeadlineExceeded);
  }
  SECTION("and no longer than the caller's own deadline") {
    f.caller.deadline = absl::Now() + absl::Milliseconds(10);
    const absl::Time t0 = absl::Now();
    app::ViewAnswer b = f.Read();
    CHECK(absl::Now() - t0 < absl::Milliseconds(90));
    CHECK(Section(b, "scores").unavailable.has_value());
  }
}

TEST_CASE("CustomerViews: the caller's context is what segmentation is asked with",
          "[customer_store][app][view]") {
  Fixture f;
  f.Read();
  std::vector<app::Caller> callers = f.insights.callers();
  REQUIRE(callers.size() == 2);
  for (const app::Caller& c : callers) {
    CHECK(c.tenant_id == kTenant);
    CHECK(c.principal == "key-1");
    CHECK(c.roles == "marketer");
    CHECK(c.request_id == "req-1");
  }
}

TEST_CASE("CustomerViews: the own part's errors stay errors, the engine's never are",
          "[customer_store][app][view]") {
  Fixture f;
  f.insights.set_scores(absl::UnavailableError("down"));
  SECTION("an unknown customer is NOT_FOUND") {
    auto r = f.views.Read(f.caller, kMissingId, 0, Serialize);
    CHECK(r.status().code() == absl::StatusCode::kNotFound);
  }
  SECTION("a malformed id is INVALID_ARGUMENT and asks no engine") {
    auto r = f.views.Read(f.caller, "not-a-uuid", 0, Serialize);
    CHECK(r.status().code() == absl::StatusCode::kInvalidArgument);
    CHECK(f.insights.calls() == 0);
  }
  SECTION("a bad interaction_limit asks no engine") {
    auto r = f.views.Read(f.caller, f.id, 101, Serialize);
    CHECK(r.status().code() == absl::StatusCode::kInvalidArgument);
    CHECK(f.insights.calls() == 0);
  }
}

TEST_CASE("CustomerViews: the own part is cached, the engine's sections are asked every read",
          "[customer_store][app][view]") {
  Fixture f;
  f.insights.set_scores(absl::UnavailableError("down"));
  app::ViewAnswer first = f.Read();
  CHECK(Section(first, "scores").unavailable.has_value());
  CHECK(f.cache.put_calls() == 1);
  f.insights.set_scores(SomeScores());
  app::ViewAnswer second = f.Read();  // the own part from the cache
  CHECK(f.cache.put_calls() == 1);
  CHECK(f.insights.calls() == 4);
  CHECK_FALSE(Section(second, "scores").unavailable.has_value());
  CHECK(second.insights.scores.has_value());
}

TEST_CASE("SectionStatusOf maps every code to one the client can act on",
          "[customer_store][app][view]") {
  using absl::StatusCode;
  struct Row {
    absl::Status in;
    StatusCode code;
    bool retryable;
  };
  for (const Row& r :
       std::vector<Row>{{absl::DeadlineExceededError("x"), StatusCode::kDeadlineExceeded, true},
                        {absl::UnavailableError("x"), StatusCode::kUnavailable, true},
                        {absl::ResourceExhaustedError("x"), StatusCode::kUnavailable, true},
                        {absl::AbortedError("x"), StatusCode::kUnavailable, true},
                        {absl::UnimplementedError("x"), StatusCode::kUnimplemented, false},
                        {absl::InternalError("x"), StatusCode::kInternal, false},
                        {absl::UnauthenticatedError("x"), StatusCode::kInternal, false},
                        {absl::FailedPreconditionError("x"), StatusCode::kInternal, false}}) {
    domain::SectionStatus s = crm::common::SectionStatusOf(r.in, "segmentation");
    INFO(r.in);
    CHECK(s.code == r.code);
    CHECK(s.retryable == r.retryable);
    CHECK(s.message.find("segmentation") != std::string::npos);
  }
}

}  // namespace

TEST_CASE("CustomerViews with the insights cache: definitive answers are reused for the TTL only",
          "[customer_store][app][view]") {
  Fixture f;
  app::InsightsCache kept(f.clock, absl::Seconds(5));
  app::CustomerViews views{f.store, f.insights, absl::Milliseconds(100), &kept};
  auto read = [&] {
    absl::StatusOr<app::ViewAnswer> r = views.Read(f.caller, f.id, 0, Serialize);
    REQUIRE(r.ok());
    return *std::move(r);
  };
  f.insights.set_scores(SomeScores());
  f.insights.set_segments(FakeCustomerInsights::Segments{{"vip", "VIP", absl::Now()}});
  const int before = f.insights.calls();
  app::ViewAnswer first = read();
  CHECK(f.insights.calls() == before + 2);
  // Within the TTL: the same sections, the engine not asked.
  f.insights.set_scores(absl::UnavailableError("down"));
  f.clock.Advance(absl::Seconds(4));
  app::ViewAnswer second = read();
  CHECK(f.insights.calls() == before + 2);
  REQUIRE(second.insights.scores.has_value());
  CHECK(second.insights.scores->clv == 240);
  REQUIRE(second.insights.segments.has_value());
  CHECK(second.insights.segments->size() == 1);
  CHECK_FALSE(Section(second, app::kScoresSection).unavailable.has_value());
  // Past it: asked again; a failure is shown and not kept.
  f.clock.Advance(absl::Seconds(2));
  app::ViewAnswer third = read();
  CHECK(f.insights.calls() == before + 4);
  CHECK(Section(third, app::kScoresSection).unavailable.has_value());
  read();
  CHECK(f.insights.calls() == before + 5);  // scores asked again, segments kept
  // Another tenant's read of the same id is its own.
  app::Caller other = f.caller;
  other.tenant_id = "22222222-2222-4222-8222-222222222222";
  CHECK_FALSE(kept.ScoresOf(other.tenant_id, f.id).has_value());
  CHECK(kept.SegmentsOf(f.caller.tenant_id, f.id).has_value());
}

TEST_CASE("InsightsCache keeps OK and NOT_FOUND answers, at most max entries, nothing with TTL 0",
          "[customer_store][app][view]") {
  FixedClock clock{absl::FromUnixSeconds(1700000000)};
  app::InsightsCache cache(clock, absl::Seconds(5), 2);
  cache.Keep(kTenant, "a", app::InsightsCache::Scores(absl::NotFoundError("unknown")));
  cache.Keep(kTenant, "b", app::InsightsCache::Scores(absl::InternalError("boom")));
  cache.Keep(kTenant, "c", app::InsightsCache::Segments(std::vector<domain::SegmentMembership>{}));
  REQUIRE(cache.ScoresOf(kTenant, "a").has_value());
  CHECK(absl::IsNotFound(cache.ScoresOf(kTenant, "a")->status()));
  CHECK_FALSE(cache.ScoresOf(kTenant, "b").has_value());
  CHECK_FALSE(cache.ScoresOf(kTenant, "c").has_value());  // only its segments
  CHECK(cache.SegmentsOf(kTenant, "c").has_value());
  CHECK(cache.size() == 2);
  clock.Advance(absl::Seconds(1));
  cache.Keep(kTenant, "d", app::InsightsCache::Scores(domain::CustomerScores{}));
  CHECK(cache.size() == 2);  // the oldest ("a") made room
  CHECK_FALSE(cache.ScoresOf(kTenant, "a").has_value());
  CHECK(cache.ScoresOf(kTenant, "d").has_value());
  app::InsightsCache off(clock, absl::ZeroDuration());
  off.Keep(kTenant, "a", app::InsightsCache::Scores(domain::CustomerScores{}));
  CHECK(off.size() == 0);
}
