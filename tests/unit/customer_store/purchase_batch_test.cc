// PurchaseProjector::ApplyBatch over an in-memory purchase store that keeps
// the port's contract (newest version wins; RecordOrders is all or nothing),
// and OrderEventHandler::HandleBatch's mapping of events to facts.
#include <catch2/catch.hpp>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "services/customer_store/api/order_events.h"
#include "services/customer_store/app/purchases.h"
#include "tests/support/fakes/customer_store/fake_view_cache.h"

namespace {

using namespace crm::customer_store;  // NOLINT
using crm::testing::FakeViewCache;

constexpr char kT1[] = "11111111-1111-4111-8111-111111111111";
constexpr char kT2[] = "22222222-2222-4222-8222-222222222222";
constexpr char kC1[] = "c1111111-1111-4111-8111-111111111111";
constexpr char kC2[] = "c2222222-2222-4222-8222-222222222222";

std::string OrderId(int n) { return absl::StrCat("0000000", n, "-0000-4000-8000-000000000000"); }

domain::OrderFact Fact(const std::string& tenant, const std::string& customer, int order,
                       int64_t version, int64_t total = 1000) {
  domain::OrderFact f;
  f.tenant_id = tenant;
  f.order_id = OrderId(order);
  f.customer_id = customer;
  f.currency_code = "CHF";
  f.total_minor = total;
  f.net_minor = total;
  f.status = version == 1 ? "placed" : "paid";
  f.placed_time = absl::FromUnixSeconds(1700000000);
  f.version = version;
  return f;
}

// Purchases by (tenant, order) at their newest version. A fact whose order
// is in `poison` fails (as a database error would), and a transaction with
// it rolls back whole.
class FakePurchases final : public app::PurchaseRepository {
 public:
  absl::StatusOr<Change> RecordOrder(const domain::OrderFact& f) override {
    ++single_calls;
    if (poison.count(f.order_id)) return absl::InternalError("poison");
    return Record(rows, f);
  }
  absl::StatusOr<std::vector<Change>> RecordOrders(
      const std::vector<domain::OrderFact>& facts) override {
    ++batch_calls;
    batch_sizes.push_back(facts.size());
    auto copy = rows;  // the transaction
    std::vector<Change> out;
    for (const auto& f : facts) {
      if (f.tenant_id != facts.front().tenant_id) return absl::InvalidArgumentError("tenants");
      if (poison.count(f.order_id)) return absl::InternalError("poison");
      out.push_back(Record(copy, f));
    }
    rows = std::move(copy);  // commit
    return out;
  }

  std::map<std::pair<std::string, std::string>, domain::OrderFact> rows;
  std::vector<std::string> applied;  // order:version, in the order applied
  std::set<std::string> poison;
  int single_calls = 0;
  int batch_calls = 0;
  std::vector<size_t> batch_sizes;

 private:
  Change Record(std::map<std::pair<std::string, std::string>, domain::OrderFact>& into,
                const domain::OrderFact& f) {
    auto& slot = into[{f.tenant_id, f.order_id}];
    if (slot.version >= f.version) return Change{};
    slot = f;
    applied.push_back(absl::StrCat(f.order_id.substr(0, 8), ":", f.version));
    return Change{true, f.customer_id};
  }
};

}  // namespace

TEST_CASE("ApplyBatch records a tenant's facts in one transaction, in order",
          "[customer_store][purchases][batch]") {
  FakePurchases repo;
  FakeViewCache cache;
  app::PurchaseProjector projector(repo, cache);
  std::vector<domain::OrderFact> facts = {Fact(kT1, kC1, 1, 1), Fact(kT1, kC1, 1, 2),
                                          Fact(kT1, kC2, 2, 1), Fact(kT2, kC1, 3, 1)};
  std::vector<absl::Status> r = projector.ApplyBatch(facts);
  REQUIRE(r.size() == 4);
  for (const auto& s : r) CHECK(s.ok());
  CHECK(repo.batch_calls == 1);   // tenant 1: three facts, one transaction
  CHECK(repo.single_calls == 1);  // tenant 2: its one fact alone
  CHECK(repo.batch_sizes == std::vector<size_t>{3});
  CHECK(repo.rows.at({kT1, OrderId(1)}).version == 2);
  CHECK(repo.applied[0] == "00000001:1");  // the customer's order kept
  CHECK(repo.applied[1] == "00000001:2");
  CHECK(cache.invalidate_calls() >= 3);
}

TEST_CASE("ApplyBatch: duplicates in and across batches change nothing",
          "[customer_store][purchases][batch]") {
  FakePurchases repo;
  FakeViewCache cache;
  app::PurchaseProjector projector(repo, cache);
  auto first = projector.ApplyBatch({Fact(kT1, kC1, 1, 1), Fact(kT1, kC1, 1, 1)});
  CHECK(first[0].ok());
  CHECK(first[1].ok());
  const int invalidations = cache.invalidate_calls();
  auto again = projector.ApplyBatch({Fact(kT1, kC1, 1, 1), Fact(kT1, kC1, 1, 1)});
  CHECK(again[0].ok());
  CHECK(again[1].ok());
  CHECK(repo.applied.size() == 1);
  CHECK(cache.invalidate_calls() == invalidations);  // nothing changed: nothing invalidated
}

TEST_CASE("ApplyBatch: a failing fact fails alone, the others of its batch are kept",
          "[customer_store][purchases][batch]") {
  FakePurchases repo;
  FakeViewCache cache;
  app::PurchaseProjector projector(repo, cache);
  repo.poison.insert(OrderId(2));
  domain::OrderFact invalid = Fact(kT1, kC1, 4, 1);
  invalid.currency_code = "CH";  // not a purchase
  auto r = projector.ApplyBatch(
      {Fact(kT1, kC1, 1, 1), Fact(kT1, kC1, 2, 1), invalid, Fact(kT1, kC2, 3, 1)});
  REQUIRE(r.size() == 4);
  CHECK(r[0].ok());
  CHECK(absl::IsInternal(r[1]));
  CHECK(absl::IsInvalidArgument(r[2]));
  CHECK(r[3].ok());
  CHECK(repo.batch_calls == 1);    // tried together, rolled back
  CHECK(repo.single_calls == 3);   // then each valid fact alone
  CHECK(repo.rows.count({kT1, OrderId(1)}) == 1);
  CHECK(repo.rows.count({kT1, OrderId(3)}) == 1);
  CHECK(repo.rows.count({kT1, OrderId(2)}) == 0);
}

TEST_CASE("OrderEventHandler::HandleBatch answers every event, order events projected together",
          "[customer_store][purchases][batch]") {
  FakePurchases repo;
  FakeViewCache cache;
  app::PurchaseProjector projector(repo, cache);
  api::OrderEventHandler handler(projector);
  auto event = [](const std::string& type, const std::string& payload) {
    crm::events::Event e;
    e.envelope.set_event_id(OrderId(9));
    e.envelope.set_tenant_id(kT1);
    e.envelope.set_type(type);
    e.envelope.set_payload_json(payload);
    return e;
  };
  auto placed = [&](int order, int version) {
    return event("order.placed",
                 absl::StrCat(R"({"order_id":")", OrderId(order), R"(","customer_id":")", kC1,
                              R"(","currency_code":"CHF","status":"placed","version":)", version,
                              R"(,"total_minor":"1000","placed_at_us":"1700000000000000"})"));
  };
  std::vector<crm::events::Event> batch = {placed(1, 1), event("customer.created", "{}"),
                                           event("order.placed", "not json"), placed(2, 1)};
  auto r = handler.HandleBatch(batch);
  REQUIRE(r.size() == 4);
  CHECK(r[0].ok());
  CHECK(r[1].ok());  // not about orders: acknowledged
  CHECK(absl::IsInvalidArgument(r[2]));
  CHECK(r[3].ok());
  CHECK(repo.batch_calls == 1);
  CHECK(repo.batch_sizes == std::vector<size_t>{2});
}
