// The fake must honour the CustomerRepository contract, or use-case tests
// built on it prove nothing. Its writes are driven through CustomerTx by the
// app layer's customer writes, as PostgreSQL's are.
#include "tests/support/fakes/customer_store/fake_customer_repository.h"

#include <catch2/catch.hpp>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "libs/common/errors.h"
#include "services/customer_store/app/customer_writes.h"
#include "tests/support/fakes/common_fakes.h"

namespace {

using namespace crm::customer_store;  // NOLINT
using crm::common::ReasonOf;
using crm::testing::FakeCustomerRepository;
using crm::testing::SequentialIdGenerator;
using domain::Customer;

constexpr char kTenant[] = "11111111-1111-4111-8111-111111111111";
constexpr char kOther[] = "22222222-2222-4222-8222-222222222222";

Customer Make(uint64_t n, std::vector<std::string> emails = {}) {
  Customer c;
  c.id = SequentialIdGenerator::IdFor(n);
  c.given_name = absl::StrCat("C", n);
  c.emails = std::move(emails);
  c.version = 1;
  return c;
}

// The customer writes of the app layer (app/customer_writes.h), over the fake.
absl::StatusOr<Customer> Insert(FakeCustomerRepository& repo, const app::Actor& a,
                                const Customer& c) {
  auto r = app::InsertCustomer(repo, a, c);
  if (!r.ok()) return r.status();
  return r->customer;
}
absl::StatusOr<Customer> Update(FakeCustomerRepository& repo, const app::Actor& a,
                                const std::string& id, const std::string& if_match,
                                const app::Mutation& mutate) {
  auto r = app::UpdateCustomer(repo, a, id, if_match, mutate);
  if (!r.ok()) return r.status();
  return r->customer;
}

TEST_CASE("FakeCustomerRepository honours the port contract", "[customer_store][fakes]") {
  FakeCustomerRepository repo;
  app::Actor actor{kTenant, "p", "", "CreateCustomer"};
  REQUIRE(Insert(repo, actor, Make(1, {"a@example.com"})).ok());

  SECTION("tenant scoping") {
    auto r = repo.Get(kOther, SequentialIdGenerator::IdFor(1));
    CHECK(r.status().code() == absl::StatusCode::kNotFound);
    CHECK(ReasonOf(r.status()) == "CUSTOMER_NOT_FOUND");
    app::Actor other = actor;
    other.tenant_id = kOther;
    auto u = Update(repo, other, SequentialIdGenerator::IdFor(1), "", [](Customer& c) {
      c.given_name = "x";
      return absl::OkStatus();
    });
    CHECK(ReasonOf(u.status()) == "CUSTOMER_NOT_FOUND");
    CHECK(repo.Get(kTenant, SequentialIdGenerator::IdFor(1))->given_name == "C1");
  }
  SECTION("identity uniqueness per tenant") {
    auto dup = Insert(repo, actor, Make(2, {"a@example.com"}));
    CHECK(dup.status().code() == absl::StatusCode::kAlreadyExists);
    CHECK(ReasonOf(dup.status()) == "IDENTITY_TAKEN");
    app::Actor other = actor;
    other.tenant_id = kOther;
    CHECK(Insert(repo, other, Make(2, {"a@example.com"})).ok());
  }
  SECTION("etag, version + 1 and no-op updates") {
    std::string id = SequentialIdGenerator::IdFor(1);
    auto stale = Update(repo, actor, id, "2", [](Customer&) { return absl::OkStatus(); });
    CHECK(stale.status().code() == absl::StatusCode::kAborted);
    CHECK(ReasonOf(stale.status()) == "ETAG_MISMATCH");
    int writes = repo.writes();
    auto noop = Update(repo, actor, id, "1", [](Customer& c) {
      c.update_time = absl::Now();
      return absl::OkStatus();
    });
    REQUIRE(noop.ok());
    CHECK(noop->version == 1);
    CHECK(repo.writes() == writes);
    auto changed = Update(repo, actor, id, "1", [](Customer& c) {
      c.given_name = "Changed";
      return absl::OkStatus();
    });
    REQUIRE(changed.ok());
    CHECK(changed->version == 2);
    CHECK(repo.writes() == writes + 1);
    CHECK(repo.Get(kTenant, id)->given_name == "Changed");
    auto failed = Update(repo, actor, id, "", [](Customer& c) {
      c.given_name = "Lost";
      return absl::InternalError("boom");
    });
    CHECK(failed.status().code() == absl::StatusCode::kInternal);
    CHECK(repo.Get(kTenant, id)->given_name == "Changed");
  }
  SECTION("an update cannot take another customer's identity") {
    REQUIRE(Insert(repo, actor, Make(2, {"b@example.com"})).ok());
    auto r = Update(repo, actor, SequentialIdGenerator::IdFor(2), "", [](Customer& c) {
      c.emails.push_back("a@example.com");
      return absl::OkStatus();
    });
    CHECK(ReasonOf(r.status()) == "IDENTITY_TAKEN");
    CHECK(repo.Get(kTenant, SequentialIdGenerator::IdFor(2))->emails.size() == 1);
  }
  SECTION("request_id replay on Insert") {
    app::Actor a = actor;
    a.idempotency_key = "r1";
    auto first = Insert(repo, a, Make(5));
    auto replay = Insert(repo, a, Make(6));
    REQUIRE(first.ok());
    REQUIRE(replay.ok());
    CHECK(replay->id == SequentialIdGenerator::IdFor(5));
    CHECK(repo.Get(kTenant, SequentialIdGenerator::IdFor(6)).status().code() ==
          absl::StatusCode::kNotFound);
    a.method = "UpsertCustomer";
    CHECK(Insert(repo, a, Make(7)).status().code() == absl::StatusCode::kInvalidArgument);
  }
  SECTION("paging by id") {
    for (uint64_t n = 2; n <= 5; ++n) REQUIRE(Insert(repo, actor, Make(n)).ok());
    app::ListQuery q;
    q.limit = 2;
    std::vector<std::string> seen;
    for (int pages = 0; pages < 10; ++pages) {
      auto page = repo.List(kTenant, q);
      REQUIRE(page.ok());
      for (const auto& c : page->items) seen.push_back(c.id);
      if (page->next_cursor.empty()) break;
      CHECK(page->next_cursor == page->items.back().id);
      q.after_id = page->next_cursor;
    }
    REQUIRE(seen.size() == 5);
    for (uint64_t n = 1; n <= 5; ++n) CHECK(seen[n - 1] == SequentialIdGenerator::IdFor(n));
    q = app::ListQuery{};
    q.limit = 5;
    CHECK(repo.List(kTenant, q)->next_cursor.empty());
    CHECK(repo.List(kOther, q)->items.empty());
  }
  SECTION("interaction paging by (time, id) cursor") {
    std::string id = SequentialIdGenerator::IdFor(1);
    // Two interactions share a timestamp: the id breaks the tie.
    int64_t times[] = {100, 200, 200, 300, 50};
    for (int n = 0; n < 5; ++n) {
      domain::Interaction i;
      i.id = SequentialIdGenerator::IdFor(100 + n);
      i.kind = n == 4 ? domain::InteractionKind::kNote : domain::InteractionKind::kCall;
      i.occur_time = absl::FromUnixSeconds(times[n]);
      REQUIRE(crm::customer_store::app::AppendInteraction(repo, actor, id, i).ok());
    }
    app::InteractionQuery q;
    q.limit = 2;
    std::vector<std::string> seen;
    for (int pages = 0; pages < 10; ++pages) {
      auto page = repo.Interactions(kTenant, id, q);
      REQUIRE(page.ok());
      for (const auto& i : page->items) seen.push_back(i.id);
      if (page->next_cursor.empty()) break;
      q.before_cursor = page->next_cursor;
    }
    CHECK(seen == std::vector<std::string>{
                      SequentialIdGenerator::IdFor(103), SequentialIdGenerator::IdFor(102),
                      SequentialIdGenerator::IdFor(101), SequentialIdGenerator::IdFor(100),
                      SequentialIdGenerator::IdFor(104)});
    app::InteractionQuery notes;
    notes.kind = domain::InteractionKind::kNote;
    auto n = repo.Interactions(kTenant, id, notes);
    REQUIRE(n.ok());
    REQUIRE(n->items.size() == 1);
    CHECK(n->items[0].id == SequentialIdGenerator::IdFor(104));
    app::InteractionQuery bad;
    bad.before_cursor = "garbage";
    CHECK(ReasonOf(repo.Interactions(kTenant, id, bad).status()) == "INVALID_PAGE_TOKEN");
  }
  SECTION("FindOwners returns distinct owners") {
    REQUIRE(Insert(repo, actor, Make(2, {"b@example.com"})).ok());
    auto owners = repo.FindOwners(
        kTenant, {{domain::IdentityKind::kEmail, "b@example.com", "", absl::InfinitePast()},
                  {domain::IdentityKind::kEmail, "a@example.com", "", absl::InfinitePast()},
                  {domain::IdentityKind::kEmail, "b@example.com", "", absl::InfinitePast()},
                  {domain::IdentityKind::kPhone, "a@example.com", "", absl::InfinitePast()}});
    REQUIRE(owners.ok());
    CHECK(*owners == std::vector<std::string>{SequentialIdGenerator::IdFor(2),
                                              SequentialIdGenerator::IdFor(1)});
    CHECK(repo.FindOwners(kOther, {{domain::IdentityKind::kEmail, "a@example.com", "",
                                    absl::InfinitePast()}})
              ->empty());
  }
  SECTION("FailWith makes every call fail") {
    repo.FailWith(absl::UnavailableError("db down"));
    CHECK(repo.Get(kTenant, SequentialIdGenerator::IdFor(1)).status().code() ==
          absl::StatusCode::kUnavailable);
    repo.FailWith(std::nullopt);
    CHECK(repo.Get(kTenant, SequentialIdGenerator::IdFor(1)).ok());
  }
}

}  // namespace
