// Use cases of the customer store over in-memory fakes of its ports.
#include "services/customer_store/app/customer_store.h"

#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "libs/common/errors.h"
#include "libs/common/id.h"
#include "tests/support/fakes/common_fakes.h"
#include "tests/support/fakes/customer_store/fake_customer_repository.h"
#include "tests/support/fakes/customer_store/fake_view_cache.h"

namespace {

using namespace crm::customer_store;  // NOLINT
using crm::common::FieldOf;
using crm::common::ReasonOf;
using crm::testing::FakeCustomerRepository;
using crm::testing::FakeViewCache;
using crm::testing::FixedClock;
using crm::testing::SequentialIdGenerator;
using domain::Customer;

constexpr char kTenant[] = "11111111-1111-4111-8111-111111111111";
constexpr char kOtherTenant[] = "22222222-2222-4222-8222-222222222222";
constexpr char kMissingId[] = "99999999-9999-4999-8999-999999999999";

struct Fixture {
  FakeCustomerRepository repo;
  FakeViewCache cache;
  FixedClock clock{absl::FromUnixSeconds(1700000000)};
  SequentialIdGenerator ids;
  app::CustomerStore store{repo, cache, clock, ids};
  app::Actor actor{kTenant, "k0123456789abcdef", "", "CreateCustomer"};

  Customer Create(std::vector<std::string> emails, std::string given = "Ada") {
    Customer c;
    c.given_name = std::move(given);
    c.emails = std::move(emails);
    auto r = store.Create(actor, c);
    REQUIRE(r.ok());
    return *r;
  }
};

std::string Serialize(const domain::CustomerView& v) {
  return absl::StrCat(v.customer.id, "|", v.customer.given_name, "|", v.recent_interactions.size(),
                      "|", v.interaction_count, "|", v.consents.size());
}

TEST_CASE("CustomerStore::Create normalizes and assigns id, version and times",
          "[customer_store][app]") {
  Fixture f;
  Customer in;
  in.given_name = "  Ada ";
  in.emails = {"ADA@Example.com"};
  in.phones = {"0041 44 668 18 00"};
  in.id = "ignored";
  auto r = f.store.Create(f.actor, in);
  REQUIRE(r.ok());
  CHECK(r->id == SequentialIdGenerator::IdFor(1));
  CHECK(crm::common::IsUuid(r->id));
  CHECK(r->version == 1);
  CHECK(r->create_time == f.clock.Now());
  CHECK(r->update_time == f.clock.Now());
  CHECK(r->given_name == "Ada");
  CHECK(r->emails == std::vector<std::string>{"ada@example.com"});
  CHECK(r->phones == std::vector<std::string>{"+41446681800"});
  auto stored = f.store.Get(kTenant, r->id);
  REQUIRE(stored.ok());
  CHECK(stored->emails == r->emails);

  SECTION("invalid input never reaches the repository") {
    Customer bad;
    bad.emails = {"not-an-email"};
    int calls = f.repo.calls();
    absl::Status s = f.store.Create(f.actor, bad).status();
    CHECK(s.code() == absl::StatusCode::kInvalidArgument);
    CHECK(FieldOf(s) == "emails[0]");
    CHECK(f.repo.calls() == calls);
  }
  SECTION("an identity of another customer is IDENTITY_TAKEN") {
    Customer dup;
    dup.emails = {"ada@EXAMPLE.com"};
    absl::Status s = f.store.Create(f.actor, dup).status();
    CHECK(s.code() == absl::StatusCode::kAlreadyExists);
    CHECK(ReasonOf(s) == "IDENTITY_TAKEN");
  }
  SECTION("the same identity in another tenant is fine") {
    app::Actor other = f.actor;
    other.tenant_id = kOtherTenant;
    Customer dup;
    dup.emails = {"ada@example.com"};
    CHECK(f.store.Create(other, dup).ok());
  }
  SECTION("a repeated request_id returns the first customer") {
    app::Actor a = f.actor;
    a.idempotency_key = "req-1";
    auto first = f.store.Create(a, Customer{});
    auto again = f.store.Create(a, Customer{});
    REQUIRE(first.ok());
    REQUIRE(again.ok());
    CHECK(again->id == first->id);
  }
}

TEST_CASE("CustomerStore::Get checks the id and the tenant", "[customer_store][app]") {
  Fixture f;
  Customer c = f.Create({"ada@example.com"});
  SECTION("non-UUID id") {
    int calls = f.repo.calls();
    absl::Status s = f.store.Get(kTenant, "not-a-uuid").status();
    CHECK(s.code() == absl::StatusCode::kInvalidArgument);
    CHECK(FieldOf(s) == "customer_id");
    CHECK(f.repo.calls() == calls);
  }
  SECTION("another tenant's id is NOT_FOUND") {
    absl::Status s = f.store.Get(kOtherTenant, c.id).status();
    CHECK(s.code() == absl::StatusCode::kNotFound);
    CHECK(ReasonOf(s) == "CUSTOMER_NOT_FOUND");
  }
  SECTION("unknown id is NOT_FOUND") {
    CHECK(f.store.Get(kTenant, kMissingId).status().code() == absl::StatusCode::kNotFound);
  }
}

TEST_CASE("CustomerStore::Update validates the mask, applies it and invalidates the cache",
          "[customer_store][app]") {
  Fixture f;
  Customer c = f.Create({"ada@example.com"});
  f.clock.Advance(absl::Minutes(3));
  Customer patch;
  patch.given_name = "  Augusta ";
  patch.family_name = "not applied";
  patch.emails = {"AUGUSTA@example.com"};

  SECTION("applies the mask, normalizes, bumps the version and invalidates") {
    auto r = f.store.Update(f.actor, c.id, patch, {"given_name", "emails"}, "1");
    REQUIRE(r.ok());
    CHECK(r->given_name == "Augusta");
    CHECK(r->family_name.empty());
    CHECK(r->emails == std::vector<std::string>{"augusta@example.com"});
    CHECK(r->version == 2);
    CHECK(r->update_time == f.clock.Now());
    CHECK(r->create_time == c.create_time);
    CHECK(f.cache.invalidate_calls() == 1);
    CHECK(f.cache.GenerationOf(kTenant, c.id) == "1");
    // The old email is free again, the new one is taken.
    CHECK(f.store.Create(f.actor, [] {
                 Customer x;
                 x.emails = {"ada@example.com"};
                 return x;
               }())
              .ok());
  }
  SECTION("a bad mask is refused before the repository is touched") {
    int calls = f.repo.calls();
    absl::Status s = f.store.Update(f.actor, c.id, patch, {"given_name", "etag"}, "").status();
    CHECK(s.code() == absl::StatusCode::kInvalidArgument);
    CHECK(ReasonOf(s) == "INVALID_UPDATE_MASK");
    CHECK(f.repo.calls() == calls);
    CHECK(f.repo.loads_for_update() == 0);
    CHECK(f.cache.invalidate_calls() == 0);
    s = f.store.Update(f.actor, c.id, patch, {}, "").status();
    CHECK(ReasonOf(s) == "INVALID_UPDATE_MASK");
    CHECK(f.repo.calls() == calls);
  }
  SECTION("a stale etag is ABORTED and does not invalidate") {
    absl::Status s = f.store.Update(f.actor, c.id, patch, {"given_name"}, "7").status();
    CHECK(s.code() == absl::StatusCode::kAborted);
    CHECK(ReasonOf(s) == "ETAG_MISMATCH");
    CHECK(f.cache.invalidate_calls() == 0);
    CHECK(f.store.Get(kTenant, c.id)->given_name == "Ada");
  }
  SECTION("invalid result of the mask is refused and nothing is written") {
    Customer bad;
    bad.emails = {"broken"};
    int writes = f.repo.writes();
    absl::Status s = f.store.Update(f.actor, c.id, bad, {"emails"}, "").status();
    CHECK(s.code() == absl::StatusCode::kInvalidArgument);
    CHECK(FieldOf(s) == "emails[0]");
    CHECK(f.repo.writes() == writes);
    CHECK(f.cache.invalidate_calls() == 0);
  }
  SECTION("another tenant's customer is NOT_FOUND") {
    app::Actor other = f.actor;
    other.tenant_id = kOtherTenant;
    absl::Status s = f.store.Update(other, c.id, patch, {"given_name"}, "").status();
    CHECK(s.code() == absl::StatusCode::kNotFound);
    CHECK(ReasonOf(s) == "CUSTOMER_NOT_FOUND");
    CHECK(f.cache.invalidate_calls() == 0);
  }
  SECTION("a no-op update writes nothing and keeps the version") {
    Customer same;
    same.given_name = "Ada";
    int writes = f.repo.writes();
    auto r = f.store.Update(f.actor, c.id, same, {"given_name"}, "1");
    REQUIRE(r.ok());
    CHECK(r->version == 1);
    CHECK(f.repo.writes() == writes);
  }
  SECTION("non-UUID id") {
    CHECK(FieldOf(f.store.Update(f.actor, "x", patch, {"given_name"}, "").status()) ==
          "customer_id");
  }
}

TEST_CASE("CustomerStore::Search needs exactly one criterion and normalizes it",
          "[customer_store][app]") {
  Fixture f;
  Customer ada = f.Create({"ada@example.com"}, "Ada");
  Customer bob;
  bob.given_name = "Bob";
  bob.phones = {"+41446681800"};
  auto b = f.store.Create(f.actor, bob);
  REQUIRE(b.ok());

  SECTION("email is normalized") {
    app::SearchQuery q;
    q.email = "  ADA@example.COM ";
    auto r = f.store.Search(kTenant, q);
    REQUIRE(r.ok());
    REQUIRE(r->items.size() == 1);
    CHECK(r->items[0].id == ada.id);
  }
  SECTION("phone is normalized") {
    app::SearchQuery q;
    q.phone = "0041 44 668 18 00";
    auto r = f.store.Search(kTenant, q);
    REQUIRE(r.ok());
    REQUIRE(r->items.size() == 1);
    CHECK(r->items[0].id == b->id);
  }
  SECTION("name prefix is lower-cased and trimmed") {
    app::SearchQuery q;
    q.name_prefix = "  BO";
    auto r = f.store.Search(kTenant, q);
    REQUIRE(r.ok());
    REQUIRE(r->items.size() == 1);
    CHECK(r->items[0].id == b->id);
  }
  SECTION("zero or two criteria are refused") {
    int calls = f.repo.calls();
    app::SearchQuery none;
    CHECK(f.store.Search(kTenant, none).status().code() == absl::StatusCode::kInvalidArgument);
    app::SearchQuery two;
    two.email = "ada@example.com";
    two.phone = "+41446681800";
    CHECK(f.store.Search(kTenant, two).status().code() == absl::StatusCode::kInvalidArgument);
    CHECK(f.repo.calls() == calls);
  }
  SECTION("invalid criteria name their field") {
    app::SearchQuery q;
    q.phone = "044 668 18 00";
    CHECK(FieldOf(f.store.Search(kTenant, q).status()) == "phone");
    app::SearchQuery e;
    e.email = "nope";
    CHECK(FieldOf(f.store.Search(kTenant, e).status()) == "email");
    app::SearchQuery blank;
    blank.name_prefix = "   ";
    CHECK(FieldOf(f.store.Search(kTenant, blank).status()) == "name_prefix");
  }
}

TEST_CASE("CustomerStore::Upsert matches on identities", "[customer_store][app]") {
  Fixture f;
  SECTION("creates when no identity is known") {
    Customer c;
    c.given_name = "Ada";
    c.emails = {"Ada@Example.com"};
    auto r = f.store.Upsert(f.actor, c, {"given_name"});
    REQUIRE(r.ok());
    CHECK(r->created);
    CHECK(r->customer.version == 1);
    CHECK(r->customer.emails == std::vector<std::string>{"ada@example.com"});
    CHECK(f.store.Get(kTenant, r->customer.id).ok());
  }
  SECTION("updates the one owner and unions identities") {
    Customer existing = f.Create({"ada@example.com"}, "Ada");
    f.clock.Advance(absl::Hours(1));
    Customer c;
    c.given_name = "Augusta";
    c.family_name = "not present";
    c.emails = {"ADA@example.com", "augusta@example.com"};
    c.phones = {"+41 44 668 18 00"};
    auto r = f.store.Upsert(f.actor, c, {"given_name", "emails", "phones"});
    REQUIRE(r.ok());
    CHECK_FALSE(r->created);
    CHECK(r->customer.id == existing.id);
    CHECK(r->customer.given_name == "Augusta");
    CHECK(r->customer.family_name.empty());
    CHECK(r->customer.emails ==
          std::vector<std::string>{"ada@example.com", "augusta@example.com"});
    CHECK(r->customer.phones == std::vector<std::string>{"+41446681800"});
    CHECK(r->customer.version == 2);
    CHECK(r->customer.update_time == f.clock.Now());
    CHECK(f.cache.invalidate_calls() == 1);
    // The union is persisted: the new email now finds the same customer.
    app::SearchQuery q;
    q.email = "augusta@example.com";
    auto found = f.store.Search(kTenant, q);
    REQUIRE(found.ok());
    REQUIRE(found->items.size() == 1);
    CHECK(found->items[0].id == existing.id);
  }
  SECTION("identities of two customers are refused") {
    Customer a = f.Create({"a@example.com"});
    Customer b = f.Create({"b@example.com"});
    Customer c;
    c.emails = {"a@example.com", "b@example.com"};
    absl::Status s = f.store.Upsert(f.actor, c, {}).status();
    CHECK(s.code() == absl::StatusCode::kAlreadyExists);
    CHECK(ReasonOf(s) == "IDENTITY_TAKEN");
    CHECK(f.repo.loads_for_update() == 0);
    CHECK(f.store.Get(kTenant, a.id)->emails == std::vector<std::string>{"a@example.com"});
  }
  SECTION("no identities are refused") {
    Customer c;
    c.given_name = "Nobody";
    absl::Status s = f.store.Upsert(f.actor, c, {"given_name"}).status();
    CHECK(s.code() == absl::StatusCode::kInvalidArgument);
    CHECK_FALSE(FieldOf(s).empty());
    CHECK(f.repo.calls() == 0);
  }
  SECTION("identities of another tenant do not match") {
    app::Actor other = f.actor;
    other.tenant_id = kOtherTenant;
    Customer mine = f.Create({"ada@example.com"});
    Customer c;
    c.emails = {"ada@example.com"};
    auto r = f.store.Upsert(other, c, {});
    REQUIRE(r.ok());
    CHECK(r->created);
    CHECK(r->customer.id != mine.id);
  }
}

domain::Consent MarketingEmail(domain::ConsentStatus s) {
  domain::Consent c;
  c.channel = domain::ConsentChannel::kEmail;
  c.purpose = domain::ConsentPurpose::kMarketing;
  c.status = s;
  return c;
}

TEST_CASE("CustomerStore::RecordConsent and Consents", "[customer_store][app]") {
  Fixture f;
  Customer c = f.Create({"ada@example.com"});
  SECTION("record_time defaults to the clock and the cache is invalidated") {
    auto r = f.store.RecordConsent(f.actor, c.id, MarketingEmail(domain::ConsentStatus::kOptedIn));
    REQUIRE(r.ok());
    CHECK(r->record_time == f.clock.Now());
    CHECK(f.cache.invalidate_calls() == 1);
  }
  SECTION("a record_time more than 5 minutes ahead is refused") {
    domain::Consent late = MarketingEmail(domain::ConsentStatus::kOptedIn);
    late.record_time = f.clock.Now() + absl::Minutes(5) + absl::Seconds(1);
    absl::Status s = f.store.RecordConsent(f.actor, c.id, late).status();
    CHECK(s.code() == absl::StatusCode::kInvalidArgument);
    CHECK(FieldOf(s) == "consent.record_time");
    CHECK(f.cache.invalidate_calls() == 0);
    late.record_time = f.clock.Now() + absl::Minutes(5);  // clock skew allowance
    CHECK(f.store.RecordConsent(f.actor, c.id, late).ok());
  }
  SECTION("invalid consents and unknown customers") {
    CHECK(FieldOf(f.store.RecordConsent(f.actor, c.id, domain::Consent{}).status()) ==
          "consent.channel");
    absl::Status s =
        f.store.RecordConsent(f.actor, kMissingId, MarketingEmail(domain::ConsentStatus::kOptedIn))
            .status();
    CHECK(s.code() == absl::StatusCode::kNotFound);
    CHECK(f.cache.invalidate_calls() == 0);
  }
  SECTION("Consents returns the current state, or the whole history") {
    REQUIRE(f.store.RecordConsent(f.actor, c.id, MarketingEmail(domain::ConsentStatus::kOptedIn)).ok());
    f.clock.Advance(absl::Minutes(1));
    REQUIRE(
        f.store.RecordConsent(f.actor, c.id, MarketingEmail(domain::ConsentStatus::kOptedOut)).ok());
    auto current = f.store.Consents(kTenant, c.id, false);
    REQUIRE(current.ok());
    REQUIRE(current->size() == 1);
    CHECK(current->at(0).status == domain::ConsentStatus::kOptedOut);
    auto history = f.store.Consents(kTenant, c.id, true);
    REQUIRE(history.ok());
    CHECK(history->size() == 2);
    CHECK(f.store.Consents(kTenant, "nope", false).status().code() ==
          absl::StatusCode::kInvalidArgument);
    CHECK(f.store.Consents(kOtherTenant, c.id, false).status().code() ==
          absl::StatusCode::kNotFound);
  }
}

TEST_CASE("CustomerStore::AddInteraction assigns id and default time", "[customer_store][app]") {
  Fixture f;
  Customer c = f.Create({"ada@example.com"});
  domain::Interaction i;
  i.kind = domain::InteractionKind::kCall;
  i.id = "caller-chosen";
  auto r = f.store.AddInteraction(f.actor, c.id, i);
  REQUIRE(r.ok());
  CHECK(r->id == SequentialIdGenerator::IdFor(2));
  CHECK(r->occur_time == f.clock.Now());
  CHECK(f.cache.invalidate_calls() == 1);

  domain::Interaction past = i;
  past.occur_time = absl::FromUnixSeconds(1600000000);
  auto p = f.store.AddInteraction(f.actor, c.id, past);
  REQUIRE(p.ok());
  CHECK(p->occur_time == absl::FromUnixSeconds(1600000000));

  domain::Interaction bad;
  CHECK(FieldOf(f.store.AddInteraction(f.actor, c.id, bad).status()) == "interaction.kind");
  auto page = f.store.Interactions(kTenant, c.id, app::InteractionQuery{});
  REQUIRE(page.ok());
  REQUIRE(page->items.size() == 2);
  CHECK(page->items[0].id == r->id);  // newest first
}

TEST_CASE("CustomerStore::ViewBytes reads through the cache", "[customer_store][app]") {
  Fixture f;
  Customer c = f.Create({"ada@example.com"});
  std::string expected = absl::StrCat(c.id, "|Ada|0|0|0");

  SECTION("a miss loads and Puts with the generation, then a hit skips the repository") {
    auto first = f.store.ViewBytes(kTenant, c.id, 0, Serialize);
    REQUIRE(first.ok());
    CHECK(*first == expected);
    CHECK(f.repo.load_view_calls() == 1);
    CHECK(f.cache.put_calls() == 1);
    CHECK(f.cache.Stored(kTenant, c.id) == expected);

    auto second = f.store.ViewBytes(kTenant, c.id, 0, Serialize);
    REQUIRE(second.ok());
    CHECK(*second == expected);
    CHECK(f.repo.load_view_calls() == 1);
    CHECK(f.cache.put_calls() == 1);
  }
  SECTION("a cached value is returned as is") {
    f.cache.Put(kTenant, c.id, "0", "cached-bytes");
    int calls = f.repo.calls();
    auto r = f.store.ViewBytes(kTenant, c.id, app::kDefaultViewInteractions, Serialize);
    REQUIRE(r.ok());
    CHECK(*r == "cached-bytes");
    CHECK(f.repo.calls() == calls);
  }
  SECTION("a write invalidates: the next read reloads") {
    REQUIRE(f.store.ViewBytes(kTenant, c.id, 0, Serialize).ok());
    domain::Interaction i;
    i.kind = domain::InteractionKind::kNote;
    REQUIRE(f.store.AddInteraction(f.actor, c.id, i).ok());
    auto r = f.store.ViewBytes(kTenant, c.id, 0, Serialize);
    REQUIRE(r.ok());
    CHECK(*r == absl::StrCat(c.id, "|Ada|1|1|0"));
    CHECK(f.repo.load_view_calls() == 2);
  }
  SECTION("a Put racing an Invalidate is never served") {
    auto lookup = f.cache.Get(kTenant, c.id);
    f.cache.Invalidate(kTenant, c.id);
    f.cache.Put(kTenant, c.id, lookup.generation, "stale");
    auto r = f.store.ViewBytes(kTenant, c.id, 0, Serialize);
    REQUIRE(r.ok());
    CHECK(*r == expected);
  }
  SECTION("a non-default interaction_limit bypasses the cache") {
    f.cache.Put(kTenant, c.id, "0", "cached-bytes");
    int gets = f.cache.get_calls();
    auto r = f.store.ViewBytes(kTenant, c.id, 5, Serialize);
    REQUIRE(r.ok());
    CHECK(*r == expected);
    CHECK(f.cache.get_calls() == gets);
    CHECK(f.cache.put_calls() == 1);  // only the test's own Put
    CHECK(f.repo.load_view_calls() == 1);
  }
  SECTION("a cache that is down still serves from the repository") {
    f.cache.set_down(true);
    auto r = f.store.ViewBytes(kTenant, c.id, 0, Serialize);
    REQUIRE(r.ok());
    CHECK(*r == expected);
    CHECK(f.cache.put_calls() == 0);
    CHECK(f.repo.load_view_calls() == 1);
  }
  SECTION("limits outside 0..100 are refused") {
    for (int limit : {-1, 101}) {
      absl::Status s = f.store.ViewBytes(kTenant, c.id, limit, Serialize).status();
      CHECK(s.code() == absl::StatusCode::kInvalidArgument);
      CHECK(FieldOf(s) == "interaction_limit");
    }
    CHECK(f.store.ViewBytes(kTenant, c.id, 100, Serialize).ok());
    CHECK(f.cache.get_calls() == 0);
  }
  SECTION("unknown or foreign customers are NOT_FOUND and nothing is cached") {
    CHECK(f.store.ViewBytes(kOtherTenant, c.id, 0, Serialize).status().code() ==
          absl::StatusCode::kNotFound);
    CHECK(f.cache.put_calls() == 0);
    CHECK(FieldOf(f.store.ViewBytes(kTenant, "x", 0, Serialize).status()) == "customer_id");
  }
}

TEST_CASE("CustomerStore::Erase and Export", "[customer_store][app]") {
  Fixture f;
  Customer c = f.Create({"ada@example.com"});
  domain::Interaction i;
  i.kind = domain::InteractionKind::kCall;
  REQUIRE(f.store.AddInteraction(f.actor, c.id, i).ok());
  auto e = f.store.Export(kTenant, c.id);
  REQUIRE(e.ok());
  CHECK(e->customer.id == c.id);
  CHECK(e->identities.size() == 1);
  CHECK(e->interactions.size() == 1);
  int invalidations = f.cache.invalidate_calls();
  CHECK(f.store.Erase(f.actor, c.id, "9").status().code() == absl::StatusCode::kAborted);
  CHECK(f.cache.invalidate_calls() == invalidations);
  auto r = f.store.Erase(f.actor, c.id, "1");
  REQUIRE(r.ok());
  CHECK(r->interactions_erased == 1);
  CHECK(r->identities_erased == 1);
  CHECK(f.cache.invalidate_calls() == invalidations + 1);
  CHECK(f.store.Get(kTenant, c.id).status().code() == absl::StatusCode::kNotFound);
  // The email is free again.
  CHECK(f.store.Create(f.actor, [] {
               Customer x;
               x.emails = {"ada@example.com"};
               return x;
             }())
            .ok());
}

}  // namespace

TEST_CASE("CustomerStore::BatchGet answers the customers found with current consents",
          "[customer_store][app]") {
  Fixture f;
  Customer a = f.Create({"ada@example.com"});
  Customer b = f.Create({"bob@example.com"});
  REQUIRE(
      f.store.RecordConsent(f.actor, a.id, MarketingEmail(domain::ConsentStatus::kOptedIn)).ok());
  f.clock.Advance(absl::Minutes(1));
  REQUIRE(
      f.store.RecordConsent(f.actor, a.id, MarketingEmail(domain::ConsentStatus::kOptedOut)).ok());
  auto got = f.store.BatchGet(kTenant, {a.id, kMissingId, b.id, a.id}, true);
  REQUIRE(got.ok());
  REQUIRE(got->found.size() == 2);  // a given twice: once
  CHECK(got->missing == std::vector<std::string>{kMissingId});
  for (const auto& r : got->found) {
    if (r.customer.id == a.id) {
      REQUIRE(r.consent_history.size() == 1);  // the current state only
      CHECK(r.consent_history[0].status == domain::ConsentStatus::kOptedOut);
      CHECK(r.customer.emails == std::vector<std::string>{"ada@example.com"});
    } else {
      CHECK(r.customer.id == b.id);
      CHECK(r.consent_history.empty());
    }
  }
  // Another tenant's ids are missing.
  auto foreign = f.store.BatchGet("another-tenant", {a.id}, true);
  REQUIRE(foreign.ok());
  CHECK(foreign->found.empty());
  CHECK(foreign->missing == std::vector<std::string>{a.id});
  // Malformed ids and sizes are refused, naming the field.
  CHECK(FieldOf(f.store.BatchGet(kTenant, {a.id, "x"}, true).status()) == "customer_ids");
  CHECK(FieldOf(f.store.BatchGet(kTenant, {}, true).status()) == "customer_ids");
  CHECK(FieldOf(f.store.BatchGet(kTenant, std::vector<std::string>(501, a.id), true).status()) ==
        "customer_ids");
}
