// The transaction engine's memory of known customers (app::KnownCustomers),
// the directory that uses it (app::CachingCustomerDirectory) and the order
// path over it (app::Orders): pure, with a clock that only moves when told.
#include "services/transaction/app/known_customers.h"

#include <catch2/catch.hpp>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "libs/common/errors.h"
#include "services/transaction/app/caching_customer_directory.h"
#include "services/transaction/app/orders.h"
#include "tests/support/fakes/common_fakes.h"
#include "tests/support/fakes/transaction/fake_order_repository.h"

namespace {

using namespace crm::transaction;  // NOLINT
using crm::common::ReasonOf;
using crm::testing::FakeOrderRepository;
using crm::testing::FixedClock;
using crm::testing::SequentialIdGenerator;

constexpr char kTenant[] = "11111111-1111-4111-8111-111111111111";
constexpr char kOtherTenant[] = "22222222-2222-4222-8222-222222222222";
constexpr char kA[] = "aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa";
constexpr char kB[] = "bbbbbbbb-bbbb-4bbb-8bbb-bbbbbbbbbbbb";
constexpr char kC[] = "cccccccc-cccc-4ccc-8ccc-cccccccccccc";
constexpr char kD[] = "dddddddd-dddd-4ddd-8ddd-dddddddddddd";

app::KnownCustomersOptions Opts(size_t capacity, absl::Duration ttl) {
  app::KnownCustomersOptions o;
  o.capacity = capacity;
  o.ttl = ttl;
  return o;
}

// customer-store as the transaction engine sees it: customers of a tenant
// reading as themselves or as their survivor; erased ones are gone.
class FakeDirectory final : public app::CustomerDirectory {
 public:
  void Add(const std::string& tenant, const std::string& id) { customers[tenant][id] = id; }
  void Merge(const std::string& tenant, const std::string& source, const std::string& survivor) {
    customers[tenant][source] = survivor;
  }
  void Erase(const std::string& tenant, const std::string& id) { customers[tenant].erase(id); }

  absl::StatusOr<std::vector<app::RefResolution>> ResolveBatch(
      const app::Actor& actor, const std::vector<app::CustomerRefInput>& refs,
      bool create) override {
    batches.push_back(refs);
    creates.push_back(create);
    if (on_call) on_call();
    if (!fail.ok()) return fail;
    std::vector<app::RefResolution> out(refs.size());
    for (size_t i = 0; i < refs.size(); ++i) {
      auto& known = customers[actor.tenant_id];
      auto it = known.find(refs[i].customer_id);
      if (refs[i].customer_id.empty()) {
        out[i].customer_id = "eeeeeeee-eeee-4eee-8eee-eeeeeeeeeeee";  // by identities
      } else if (it == known.end()) {
        out[i].error = crm::common::WithReason(absl::FailedPreconditionError("no customer"),
                                               "CUSTOMER_NOT_FOUND");
      } else {
        out[i].customer_id = it->second;
        out[i].merged = it->second != refs[i].customer_id;
      }
    }
    return out;
  }
  absl::StatusOr<app::ResolvedCustomer> Resolve(const app::Actor&, const app::CustomerIdentities&,
                                                bool) override {
    ++resolves;
    return app::ResolvedCustomer{kD, false};
  }

  std::map<std::string, std::map<std::string, std::string>> customers;
  std::vector<std::vector<app::CustomerRefInput>> batches;
  std::vector<bool> creates;
  int resolves = 0;
  absl::Status fail;
  std::function<void()> on_call;
};

app::Actor ActorOf(const std::string& tenant, const std::string& key = "req-1") {
  return app::Actor{tenant, "k-1", "x-1", "CreateOrder", key, "fp-" + key};
}

}  // namespace

TEST_CASE("KnownCustomers remembers confirmed customers for the TTL",
          "[transaction][known_customers]") {
  FixedClock clock;
  app::KnownCustomers known(clock, Opts(10, absl::Seconds(60)));
  CHECK_FALSE(known.Find(kTenant, kA).has_value());
  known.Remember(known.Epoch(), kTenant, kA, kA);
  known.Remember(known.Epoch(), kTenant, kB, kC);  // B was merged into C
  REQUIRE(known.Find(kTenant, kA).has_value());
  CHECK(*known.Find(kTenant, kA) == kA);
  CHECK(*known.Find(kTenant, kB) == kC);

  SECTION("another tenant's id is not known") { CHECK_FALSE(known.Find(kOtherTenant, kA)); }
  SECTION("an entry expires TTL after it was confirmed, not after it was last read") {
    clock.Advance(absl::Seconds(59));
    CHECK(known.Find(kTenant, kA).has_value());
    clock.Advance(absl::Seconds(1));
    CHECK_FALSE(known.Find(kTenant, kA).has_value());
    CHECK(known.stats().expired == 1);
    CHECK(known.size() == 1);
  }
  SECTION("confirming again renews the TTL") {
    clock.Advance(absl::Seconds(50));
    known.Remember(known.Epoch(), kTenant, kA, kA);
    clock.Advance(absl::Seconds(50));
    CHECK(known.Find(kTenant, kA).has_value());
    CHECK_FALSE(known.Find(kTenant, kB).has_value());
  }
  SECTION("hits and misses are counted") {
    CHECK(known.stats().hits == 3);
    CHECK(known.stats().misses == 1);
  }
}

TEST_CASE("KnownCustomers is bounded: the least recently used entry goes first",
          "[transaction][known_customers]") {
  FixedClock clock;
  app::KnownCustomers known(clock, Opts(2, absl::Seconds(60)));
  known.Remember(known.Epoch(), kTenant, kA, kA);
  known.Remember(known.Epoch(), kTenant, kB, kB);
  CHECK(known.Find(kTenant, kA).has_value());  // A is now the most recent
  known.Remember(known.Epoch(), kTenant, kC, kC);
  CHECK(known.size() == 2);
  CHECK(known.stats().evicted == 1);
  CHECK(known.Find(kTenant, kA).has_value());
  CHECK_FALSE(known.Find(kTenant, kB).has_value());
  CHECK(known.Find(kTenant, kC).has_value());
}

TEST_CASE("KnownCustomers with capacity 0 or TTL 0 remembers nothing",
          "[transaction][known_customers]") {
  FixedClock clock;
  app::KnownCustomers none(clock, Opts(0, absl::Seconds(60)));
  none.Remember(none.Epoch(), kTenant, kA, kA);
  CHECK_FALSE(none.Find(kTenant, kA).has_value());
  app::KnownCustomers no_ttl(clock, Opts(10, absl::ZeroDuration()));
  no_ttl.Remember(no_ttl.Epoch(), kTenant, kA, kA);
  CHECK_FALSE(no_ttl.Find(kTenant, kA).has_value());
  CHECK_FALSE(no_ttl.enabled());
}

TEST_CASE("KnownCustomers forgets by customer and by survivor, per tenant",
          "[transaction][known_customers]") {
  FixedClock clock;
  app::KnownCustomers known(clock, Opts(10, absl::Seconds(60)));
  known.Remember(known.Epoch(), kTenant, kA, kA);
  known.Remember(known.Epoch(), kTenant, kB, kA);  // B merged into A
  known.Remember(known.Epoch(), kTenant, kC, kC);
  known.Remember(known.Epoch(), kOtherTenant, kA, kA);

  SECTION("erasing A forgets A and what reads as A, not C nor the other tenant's A") {
    known.Forget(kTenant, {kA});
    CHECK_FALSE(known.Find(kTenant, kA).has_value());
    CHECK_FALSE(known.Find(kTenant, kB).has_value());
    CHECK(known.Find(kTenant, kC).has_value());
    CHECK(known.Find(kOtherTenant, kA).has_value());
    CHECK(known.stats().forgotten == 2);
  }
  SECTION("forgetting the source of a merge leaves its survivor") {
    known.Forget(kTenant, {kB});
    CHECK_FALSE(known.Find(kTenant, kB).has_value());
    CHECK(known.Find(kTenant, kA).has_value());
  }
  SECTION("forgetting a tenant or everything") {
    known.ForgetTenant(kTenant);
    CHECK(known.size() == 1);
    CHECK(known.Find(kOtherTenant, kA).has_value());
    const uint64_t before = known.Epoch();
    known.Clear();
    CHECK(known.size() == 0);
    known.Remember(before, kTenant, kA, kA);  // fetched before the clear
    CHECK_FALSE(known.Find(kTenant, kA).has_value());
  }
  SECTION("an answer fetched before an invalidation is not remembered after it") {
    const uint64_t before = known.Epoch();
    known.Forget(kTenant, {kD});  // any invalidation, even of an unknown id
    known.Remember(before, kTenant, kD, kD);
    CHECK_FALSE(known.Find(kTenant, kD).has_value());
    known.Remember(known.Epoch(), kTenant, kD, kD);
    CHECK(known.Find(kTenant, kD).has_value());
  }
}

TEST_CASE("CachingCustomerDirectory asks customer-store only for customers it does not know",
          "[transaction][known_customers]") {
  FixedClock clock;
  app::KnownCustomers known(clock, Opts(100, absl::Seconds(60)));
  FakeDirectory store;
  store.Add(kTenant, kA);
  store.Add(kTenant, kC);
  store.Merge(kTenant, kB, kC);
  app::CachingCustomerDirectory dir(store, known);
  const app::Actor actor = ActorOf(kTenant);

  auto first = dir.CheckCustomerId(actor, kA);
  REQUIRE(first.ok());
  CHECK(*first == kA);
  CHECK(store.batches.size() == 1);
  auto again = dir.CheckCustomerId(actor, kA);
  REQUIRE(again.ok());
  CHECK(*again == kA);
  CHECK(store.batches.size() == 1);  // answered from memory
  CHECK(dir.Known(kTenant, kA).value_or("") == kA);

  SECTION("a merged id is remembered as its survivor") {
    auto merged = dir.ResolveBatch(actor, {app::CustomerRefInput{kB, {}}}, false);
    REQUIRE(merged.ok());
    auto cached = dir.ResolveBatch(actor, {app::CustomerRefInput{kB, {}}}, false);
    REQUIRE(cached.ok());
    CHECK(store.batches.size() == 2);
    CHECK((*cached)[0].customer_id == kC);
    CHECK((*cached)[0].merged);
  }
  SECTION("an unknown customer is not remembered: it is asked for every time") {
    CHECK(ReasonOf(dir.CheckCustomerId(actor, kD).status()) == "CUSTOMER_NOT_FOUND");
    store.Add(kTenant, kD);
    auto now_known = dir.CheckCustomerId(actor, kD);
    REQUIRE(now_known.ok());
    CHECK(store.batches.size() == 3);
  }
  SECTION("a batch sends only its unknown references, in order, and keeps the positions") {
    std::vector<app::CustomerRefInput> refs = {
        {kC, {}}, {kA, {}}, {"", app::CustomerIdentities{"x@example.com", "", "", "", "", ""}},
        {kD, {}}};
    auto r = dir.ResolveBatch(actor, refs, false);
    REQUIRE(r.ok());
    REQUIRE(store.batches.size() == 2);
    REQUIRE(store.batches[1].size() == 3);
    CHECK(store.batches[1][0].customer_id == kC);
    CHECK(store.batches[1][1].who.email == "x@example.com");
    CHECK(store.batches[1][2].customer_id == kD);
    CHECK((*r)[0].customer_id == kC);
    CHECK((*r)[1].customer_id == kA);
    CHECK((*r)[2].customer_id == "eeeeeeee-eeee-4eee-8eee-eeeeeeeeeeee");
    CHECK(ReasonOf((*r)[3].error) == "CUSTOMER_NOT_FOUND");
  }
  SECTION("a call that may create customers goes to customer-store whole (idempotency)") {
    auto r = dir.ResolveBatch(actor, {app::CustomerRefInput{kA, {}}}, true);
    REQUIRE(r.ok());
    REQUIRE(store.batches.size() == 2);
    CHECK(store.batches[1].size() == 1);
    CHECK(store.creates[1]);
  }
  SECTION("identity lookups are never answered from memory") {
    auto r = dir.Resolve(actor, app::CustomerIdentities{"x@example.com", "", "", "", "", ""},
                         false);
    REQUIRE(r.ok());
    CHECK(store.resolves == 1);
  }
  SECTION("an erasure consumed forgets the customer: the next order asks and is refused") {
    store.Erase(kTenant, kA);
    CHECK(dir.CheckCustomerId(actor, kA).ok());  // the window: not consumed yet
    known.Forget(kTenant, {kA});
    CHECK(ReasonOf(dir.CheckCustomerId(actor, kA).status()) == "CUSTOMER_NOT_FOUND");
    CHECK_FALSE(dir.Known(kTenant, kA).has_value());
  }
  SECTION("an erasure consumed while customer-store is being asked is not undone") {
    known.Forget(kTenant, {kA});
    store.on_call = [&] { known.Forget(kTenant, {kA}); };  // the event lands mid-call
    CHECK(dir.CheckCustomerId(actor, kA).ok());  // customer-store still said yes
    CHECK_FALSE(dir.Known(kTenant, kA).has_value());  // but it is not remembered
  }
  SECTION("a failed call is answered as it was and remembers nothing") {
    known.Forget(kTenant, {kA});
    store.fail = absl::UnavailableError("down");
    CHECK(absl::IsUnavailable(dir.CheckCustomerId(actor, kA).status()));
    CHECK_FALSE(dir.Known(kTenant, kA).has_value());
  }
}

TEST_CASE("Orders for a known customer skip customer-store and the separate replay lookup",
          "[transaction][known_customers]") {
  FixedClock clock(absl::FromUnixSeconds(1700000000));
  SequentialIdGenerator ids;
  FakeOrderRepository repo;
  repo.AddSku(kTenant, "SKU-1");
  app::KnownCustomers known(clock, Opts(100, absl::Seconds(60)));
  FakeDirectory store;
  store.Add(kTenant, kA);
  store.Add(kTenant, kC);
  store.Merge(kTenant, kB, kC);
  app::CachingCustomerDirectory dir(store, known);
  app::Orders orders(repo, clock, ids, &dir, nullptr);
  auto order_for = [](const std::string& customer) {
    domain::Order o;
    o.customer_id = customer;
    o.currency_code = "CHF";
    o.lines = {{"SKU-1", 2, 1990, 0, 0}};
    o.channel = domain::SalesChannel::kWeb;
    return o;
  };

  auto first = orders.Create(ActorOf(kTenant, "req-1"), order_for(kA));
  REQUIRE(first.ok());
  CHECK(store.batches.size() == 1);
  const int calls_first = repo.calls();  // FindReplay + Insert
  CHECK(calls_first == 2);

  auto second = orders.Create(ActorOf(kTenant, "req-2"), order_for(kA));
  REQUIRE(second.ok());
  CHECK(store.batches.size() == 1);          // no customer-store call
  CHECK(repo.calls() == calls_first + 1);    // Insert only
  CHECK(second->customer_id == kA);

  SECTION("a retry of a known customer's order still answers the first result") {
    auto retry = orders.Create(ActorOf(kTenant, "req-2"), order_for(kA));
    REQUIRE(retry.ok());
    CHECK(retry->id == second->id);
    CHECK(repo.Get(kTenant, second->id).ok());
  }
  SECTION("a known merged-away id books the order to its survivor") {
    REQUIRE(orders.Create(ActorOf(kTenant, "req-3"), order_for(kB)).ok());
    auto known_merged = orders.Create(ActorOf(kTenant, "req-4"), order_for(kB));
    REQUIRE(known_merged.ok());
    CHECK(known_merged->customer_id == kC);
    CHECK(store.batches.size() == 2);
  }
  SECTION("once the erasure is consumed, orders for the customer are refused") {
    store.Erase(kTenant, kA);
    known.Forget(kTenant, {kA});
    auto refused = orders.Create(ActorOf(kTenant, "req-5"), order_for(kA));
    CHECK(ReasonOf(refused.status()) == "CUSTOMER_NOT_FOUND");
  }
}
