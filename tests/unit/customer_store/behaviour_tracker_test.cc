// TrackEvents and IdentifyCustomer use cases (app/behaviour.h) over the
// in-memory BehaviourRepository.
#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "libs/common/errors.h"
#include "services/customer_store/app/behaviour.h"
#include "tests/support/fakes/common_fakes.h"
#include "tests/support/fakes/customer_store/fake_behaviour_repository.h"
#include "tests/support/fakes/customer_store/fake_view_cache.h"

namespace {

using namespace crm::customer_store;  // NOLINT
using crm::common::FieldOf;
using crm::common::ReasonOf;
using crm::testing::FakeBehaviourRepository;
using crm::testing::FakeViewCache;
using crm::testing::FixedClock;
using crm::testing::SequentialIdGenerator;

constexpr char kTenant[] = "11111111-1111-4111-8111-111111111111";
constexpr char kOtherTenant[] = "22222222-2222-4222-8222-222222222222";
constexpr char kAda[] = "aaaaaaaa-0000-4000-8000-000000000001";
constexpr char kBob[] = "bbbbbbbb-0000-4000-8000-000000000002";
constexpr char kMerged[] = "cccccccc-0000-4000-8000-000000000003";

struct Fixture {
  FakeBehaviourRepository repo;
  FakeViewCache cache;
  FixedClock clock{absl::FromUnixSeconds(1700000000)};
  SequentialIdGenerator ids{100};
  app::BehaviourTracker tracker{repo, cache, clock, ids};

  Fixture() {
    repo.PutCustomer(kTenant, kAda);
    repo.PutCustomer(kTenant, kBob);
    repo.PutCustomer(kTenant, kMerged);
    repo.MarkMerged(kTenant, kMerged, kAda);
    repo.PutIdentity(kTenant, 1, "", "ada@example.com", kAda);
    repo.PutIdentity(kTenant, 3, "erp", "C-2", kBob);
    repo.PutCustomer(kOtherTenant, "dddddddd-0000-4000-8000-000000000004");
  }

  app::Actor Actor(const std::string& key = "", const std::string& method = "TrackEvents",
                   const std::string& tenant = kTenant) {
    app::Actor a{tenant, "k0123456789abcdef", "", method, key, ""};
    if (!key.empty()) a.fingerprint = "fp";
    return a;
  }
};

domain::BehaviourInput Event(const std::string& type = "page.viewed") {
  domain::BehaviourInput in;
  in.type = type;
  in.properties.path = "/";
  return in;
}
domain::BehaviourInput ForCustomer(const std::string& id) {
  domain::BehaviourInput in = Event();
  in.customer_id = id;
  return in;
}
domain::BehaviourInput ForVisitor(const std::string& v, const std::string& type = "page.viewed") {
  domain::BehaviourInput in = Event(type);
  in.visitor_id = v;
  return in;
}

TEST_CASE("A batch is stored in one append, refused events come back with reasons") {
  Fixture f;
  domain::BehaviourInput by_email = Event("product.viewed");
  by_email.email = "ADA@example.com";
  domain::BehaviourInput by_erp = Event("cart.item_added");
  by_erp.external_id_source = "erp";
  by_erp.external_id = "C-2";
  domain::BehaviourInput unknown_email = Event();
  unknown_email.email = "nobody@example.com";
  domain::BehaviourInput bad_type = ForVisitor("v1", "order.placed");
  std::vector<domain::BehaviourInput> batch = {ForCustomer(kAda),
                                               by_email,
                                               by_erp,
                                               ForVisitor("v1"),
                                               ForCustomer("eeeeeeee-0000-4000-8000-000000000009"),
                                               unknown_email,
                                               bad_type,
                                               ForCustomer(kMerged)};

  absl::StatusOr<app::TrackOutcome> out = f.tracker.Track(f.Actor(), batch);
  REQUIRE(out.ok());
  REQUIRE(out->results.size() == batch.size());
  CHECK(out->accepted == 5);
  CHECK(out->refused == 3);
  for (size_t i = 0; i < batch.size(); ++i) CHECK(out->results[i].index == static_cast<int>(i));
  CHECK(out->results[0].customer_id == kAda);
  CHECK(out->results[1].customer_id == kAda);
  CHECK(out->results[2].customer_id == kBob);
  CHECK(out->results[3].accepted);
  CHECK(out->results[3].customer_id.empty());  // anonymous
  CHECK_FALSE(out->results[4].accepted);
  CHECK(out->results[4].reason == "CUSTOMER_NOT_FOUND");
  CHECK(out->results[4].field == "customer_id");
  CHECK(out->results[5].reason == "CUSTOMER_NOT_RESOLVED");
  CHECK(out->results[5].field == "email");
  CHECK(out->results[6].reason == "UNKNOWN_EVENT_TYPE");
  CHECK(out->results[7].customer_id == kAda);  // a merged id counts for its survivor
  CHECK_FALSE(out->results[0].event_id.empty());

  CHECK(f.repo.appends() == 1);
  std::vector<domain::BehaviourEvent> stored = f.repo.Events(kTenant);
  REQUIRE(stored.size() == 5);
  CHECK(stored[0].id == out->results[0].event_id);
  std::vector<std::string> emitted = f.repo.emitted();
  REQUIRE(emitted.size() == 5);
  CHECK(emitted[0] == std::string("behaviour.page.viewed:") + kAda);
  CHECK(emitted[2] == std::string("behaviour.cart.item_added:") + kBob);
  CHECK(emitted[3] == "behaviour.page.viewed:visitor/v1");
  // The views of the customers who got events are invalidated.
  CHECK(f.cache.invalidate_calls() == 2);
}

TEST_CASE("Batch bounds: 1..500 events") {
  Fixture f;
  absl::StatusOr<app::TrackOutcome> out = f.tracker.Track(f.Actor(), {});
  CHECK(out.status().code() == absl::StatusCode::kInvalidArgument);
  CHECK(FieldOf(out.status()) == "events");
  std::vector<domain::BehaviourInput> big(domain::kMaxTrackBatch + 1, ForVisitor("v"));
  CHECK(f.tracker.Track(f.Actor(), big).status().code() == absl::StatusCode::kInvalidArgument);
  big.pop_back();
  absl::StatusOr<app::TrackOutcome> full = f.tracker.Track(f.Actor(), big);
  REQUIRE(full.ok());
  CHECK(full->accepted == domain::kMaxTrackBatch);
  CHECK(f.repo.appends() == 1);
}

TEST_CASE("A batch with nothing accepted stores nothing but answers every event") {
  Fixture f;
  absl::StatusOr<app::TrackOutcome> out =
      f.tracker.Track(f.Actor(), {ForVisitor("v", "nope"), ForCustomer(kBob + std::string("x"))});
  REQUIRE(out.ok());
  CHECK(out->accepted == 0);
  CHECK(out->refused == 2);
  CHECK(f.repo.appends() == 0);
  CHECK(f.repo.emitted().empty());
}

TEST_CASE("request_id: a retry answers the first results and stores nothing again") {
  Fixture f;
  absl::StatusOr<app::TrackOutcome> first =
      f.tracker.Track(f.Actor("req-1"), {ForCustomer(kAda), ForVisitor("v1")});
  REQUIRE(first.ok());
  absl::StatusOr<app::TrackOutcome> again =
      f.tracker.Track(f.Actor("req-1"), {ForCustomer(kAda), ForVisitor("v1")});
  REQUIRE(again.ok());
  CHECK(again->results[0].event_id == first->results[0].event_id);
  CHECK(f.repo.Events(kTenant).size() == 2);
  CHECK(f.repo.emitted().size() == 2);
  // The same key with another body.
  app::Actor other = f.Actor("req-1");
  other.fingerprint = "another";
  CHECK(ReasonOf(f.tracker.Track(other, {ForVisitor("v2")}).status()) == "IDEMPOTENCY_KEY_REUSED");
}

TEST_CASE("Tenants are apart: another tenant's customer is not found") {
  Fixture f;
  absl::StatusOr<app::TrackOutcome> out =
      f.tracker.Track(f.Actor("", "TrackEvents", kOtherTenant), {ForCustomer(kAda)});
  REQUIRE(out.ok());
  CHECK(out->results[0].reason == "CUSTOMER_NOT_FOUND");
  CHECK(f.repo.Events(kOtherTenant).empty());
}

TEST_CASE("Identify links a visitor once, its events before and after count for the customer") {
  Fixture f;
  REQUIRE(f.tracker.Track(f.Actor(), {ForVisitor("v9"), ForVisitor("v9", "product.viewed")}).ok());

  absl::StatusOr<app::IdentifyOutcome> id =
      f.tracker.Identify(f.Actor("", "IdentifyCustomer"), kAda, "v9");
  REQUIRE(id.ok());
  CHECK(id->linked);
  CHECK(id->earlier_events == 2);
  CHECK(f.repo.Links(kTenant).at("v9") == kAda);

  // Again: nothing new, no second customer.identified.
  absl::StatusOr<app::IdentifyOutcome> again =
      f.tracker.Identify(f.Actor("", "IdentifyCustomer"), kAda, "v9");
  REQUIRE(again.ok());
  CHECK_FALSE(again->linked);
  int identified = 0;
  for (const auto& e : f.repo.emitted()) identified += e.rfind("customer.identified:", 0) == 0;
  CHECK(identified == 1);

  // Later events of the visitor are the customer's from the start.
  absl::StatusOr<app::TrackOutcome> later = f.tracker.Track(f.Actor(), {ForVisitor("v9")});
  REQUIRE(later.ok());
  CHECK(later->results[0].customer_id == kAda);
  CHECK(f.repo.emitted().back() == std::string("behaviour.page.viewed:") + kAda);

  // Another customer may not take the visitor.
  absl::StatusOr<app::IdentifyOutcome> taken =
      f.tracker.Identify(f.Actor("", "IdentifyCustomer"), kBob, "v9");
  CHECK(taken.status().code() == absl::StatusCode::kAlreadyExists);
  CHECK(ReasonOf(taken.status()) == "IDENTITY_TAKEN");
  CHECK(FieldOf(taken.status()) == "visitor_id");
}

TEST_CASE("An identify event in a batch links its visitor as Identify does") {
  Fixture f;
  domain::BehaviourInput identify = ForCustomer(kMerged);  // reads as its survivor, Ada
  identify.type = "identify";
  identify.visitor_id = "v7";
  absl::StatusOr<app::TrackOutcome> out =
      f.tracker.Track(f.Actor(), {ForVisitor("v7"), identify, ForVisitor("v7", "product.viewed")});
  REQUIRE(out.ok());
  CHECK((out->accepted == 3 && out->refused == 0));
  CHECK(out->results[0].customer_id.empty());  // before the link: anonymous (counts through it)
  CHECK(out->results[1].customer_id == kAda);
  CHECK(out->results[1].event_id.empty());  // a link, not a stored event
  CHECK(out->results[2].customer_id == kAda);
  CHECK(f.repo.Events(kTenant).size() == 2);
  CHECK(f.repo.Links(kTenant).at("v7") == kAda);
  int identified = 0;
  for (const auto& e : f.repo.emitted())
    identified += e == std::string("customer.identified:") + kAda;
  CHECK(identified == 1);

  // Again, in another batch: accepted, nothing new.
  domain::BehaviourInput again = ForCustomer(kAda);
  again.type = "identify";
  again.visitor_id = "v7";
  out = f.tracker.Track(f.Actor(), {again});
  REQUIRE(out.ok());
  CHECK(out->accepted == 1);
  identified = 0;
  for (const auto& e : f.repo.emitted()) identified += e.rfind("customer.identified:", 0) == 0;
  CHECK(identified == 1);

  // Another customer may not take it; the rest of the batch stays.
  domain::BehaviourInput taken = ForCustomer(kBob);
  taken.type = "identify";
  taken.visitor_id = "v7";
  domain::BehaviourInput no_visitor = ForCustomer(kBob);
  no_visitor.type = "identify";
  domain::BehaviourInput no_customer = ForVisitor("v8", "identify");
  out = f.tracker.Track(f.Actor(), {taken, no_visitor, no_customer, ForCustomer(kBob)});
  REQUIRE(out.ok());
  CHECK((out->accepted == 1 && out->refused == 3));
  CHECK((out->results[0].reason == "IDENTITY_TAKEN" && out->results[0].field == "visitor_id"));
  CHECK((out->results[1].reason == "INVALID_FIELD" && out->results[1].field == "visitor_id"));
  CHECK((out->results[2].reason == "INVALID_FIELD" && out->results[2].field == "customer_id"));
  CHECK(out->results[3].accepted);
  CHECK(f.repo.Links(kTenant).size() == 1);
}

TEST_CASE("Identify refuses bad input and unknown customers") {
  Fixture f;
  CHECK(FieldOf(f.tracker.Identify(f.Actor("", "IdentifyCustomer"), "nope", "v1").status()) ==
        "customer_id");
  CHECK(FieldOf(f.tracker.Identify(f.Actor("", "IdentifyCustomer"), kAda, "bad id").status()) ==
        "visitor_id");
  CHECK(ReasonOf(f.tracker
                     .Identify(f.Actor("", "IdentifyCustomer"),
                               "eeeeeeee-0000-4000-8000-000000000009", "v1")
                     .status()) == "CUSTOMER_NOT_FOUND");
  CHECK(ReasonOf(f.tracker.Identify(f.Actor("", "IdentifyCustomer"), kMerged, "v1").status()) ==
        "CUSTOMER_MERGED");
  CHECK(f.repo.Links(kTenant).empty());
}

TEST_CASE("A customer erased between the lookup and the lock gets no events") {
  Fixture f;
  REQUIRE(f.tracker.Identify(f.Actor("", "IdentifyCustomer"), kBob, "v-bob").ok());
  f.repo.VanishOnLock(kTenant, kBob);
  domain::BehaviourInput by_erp = Event();
  by_erp.external_id_source = "erp";
  by_erp.external_id = "C-2";
  absl::StatusOr<app::TrackOutcome> out = f.tracker.Track(
      f.Actor(), {ForCustomer(kBob), by_erp, ForVisitor("v-bob"), ForCustomer(kAda)});
  REQUIRE(out.ok());
  CHECK(out->results[0].reason == "CUSTOMER_NOT_FOUND");
  CHECK(out->results[1].reason == "CUSTOMER_NOT_RESOLVED");
  CHECK(out->results[2].accepted);
  CHECK(out->results[2].customer_id.empty());  // stored anonymous
  CHECK(out->results[3].customer_id == kAda);
  for (const auto& e : f.repo.Events(kTenant)) CHECK(e.customer_id != kBob);
}

}  // namespace
