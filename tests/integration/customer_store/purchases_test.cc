// The purchase projection of order events (PgCustomerRepository::RecordOrder)
// and the aggregates of the 360 view, against real PostgreSQL.
#include <string>

#include <catch2/catch.hpp>

#include "tests/integration/customer_store/cs_env.h"

namespace crm::customer_store::itest {
namespace {

domain::OrderFact Fact(const std::string& tenant, const std::string& customer,
                       const std::string& order, int64_t version, const std::string& status,
                       int64_t total, const std::string& currency = "CHF",
                       int64_t placed_us = 1700000000000000) {
  domain::OrderFact f;
  f.tenant_id = tenant;
  f.order_id = order;
  f.customer_id = customer;
  f.currency_code = currency;
  f.total_minor = total;
  f.status = status;
  f.placed_time = absl::FromUnixMicros(placed_us);
  f.version = version;
  f.net_minor = total;  // nothing returned
  return f;
}

bool Record(const domain::OrderFact& f) {
  auto r = Repo().RecordOrder(f);
  INFO(r.status().ToString());
  REQUIRE(r.ok());
  return r->changed;
}

int64_t PurchaseEntries(const std::string& tenant, const std::string& customer) {
  return CountIn(tenant, absl::StrCat("SELECT count(*) FROM customer_store.interactions WHERE "
                                      "kind = 6 AND customer_id = '",
                                      customer, "'"));
}

TEST_CASE("RecordOrder is idempotent and keeps the newest order version",
          "[customer_store][purchases]") {
  const std::string tenant = NewTenant();
  domain::Customer c = NewCustomer("Buyer", {UniqueEmail()});
  REQUIRE(Insert(Repo(), ActorOf(tenant, "CreateCustomer"), c).ok());
  const std::string order = common::NewUuid();

  CHECK(Record(Fact(tenant, c.id, order, 1, "placed", 2500)));
  CHECK_FALSE(Record(Fact(tenant, c.id, order, 1, "placed", 2500)));  // a repeated event
  CHECK(PurchaseEntries(tenant, c.id) == 1);

  CHECK(Record(Fact(tenant, c.id, order, 3, "fulfilled", 2500)));
  CHECK_FALSE(Record(Fact(tenant, c.id, order, 2, "paid", 2500)));  // late: older version
  auto view = Repo().LoadView(tenant, c.id, 20);
  REQUIRE(view.ok());
  REQUIRE(view->purchases.size() == 1);
  CHECK(view->purchases[0].order_count == 1);
  CHECK(view->purchases[0].total_spend_minor == 2500);
  CHECK(PurchaseEntries(tenant, c.id) == 1);

  CHECK(Record(Fact(tenant, c.id, order, 4, "cancelled", 2500)));
  view = Repo().LoadView(tenant, c.id, 20);
  REQUIRE(view.ok());
  REQUIRE(view->purchases.size() == 1);
  CHECK(view->purchases[0].order_count == 0);
  CHECK(view->purchases[0].cancelled_orders == 1);
  CHECK(view->purchases[0].total_spend_minor == 0);
  CHECK(view->purchases[0].first_purchase == absl::InfinitePast());
}

TEST_CASE("Purchase aggregates: counts, days, totals and averages per currency",
          "[customer_store][purchases]") {
  const std::string tenant = NewTenant();
  domain::Customer c = NewCustomer("Buyer", {UniqueEmail()});
  REQUIRE(Insert(Repo(), ActorOf(tenant, "CreateCustomer"), c).ok());
  const int64_t day = 86400LL * 1000000;
  const int64_t t0 = 1700000000000000;
  Record(Fact(tenant, c.id, common::NewUuid(), 1, "placed", 1000, "CHF", t0));
  Record(Fact(tenant, c.id, common::NewUuid(), 1, "placed", 2001, "CHF", t0 + 1000));
  Record(Fact(tenant, c.id, common::NewUuid(), 1, "placed", 3000, "CHF", t0 + 2 * day));
  Record(Fact(tenant, c.id, common::NewUuid(), 1, "placed", 500, "EUR", t0 + day));
  auto view = Repo().LoadView(tenant, c.id, 20);
  REQUIRE(view.ok());
  REQUIRE(view->purchases.size() == 2);
  const auto& chf = view->purchases[0];
  CHECK(chf.currency_code == "CHF");
  CHECK(chf.order_count == 3);
  CHECK(chf.purchase_days == 2);
  CHECK(chf.total_spend_minor == 6001);
  CHECK(chf.average_order_minor == 2000);
  CHECK(chf.first_purchase == absl::FromUnixMicros(t0));
  CHECK(chf.last_purchase == absl::FromUnixMicros(t0 + 2 * day));
  CHECK(view->purchases[1].currency_code == "EUR");
  CHECK(view->purchases[1].total_spend_minor == 500);
}

TEST_CASE("Purchases of an unknown customer are kept without a timeline entry, other "
          "tenants see nothing, erasure removes them",
          "[customer_store][purchases]") {
  const std::string tenant = NewTenant();
  const std::string stranger = common::NewUuid();
  CHECK(Record(Fact(tenant, stranger, common::NewUuid(), 1, "placed", 100)));
  CHECK(CountIn(tenant, "SELECT count(*) FROM customer_store.purchases") == 1);
  CHECK(PurchaseEntries(tenant, stranger) == 0);
  CHECK(CountIn(NewTenant(), "SELECT count(*) FROM customer_store.purchases") == 0);

  domain::Customer c = NewCustomer("Erased", {UniqueEmail()});
  REQUIRE(Insert(Repo(), ActorOf(tenant, "CreateCustomer"), c).ok());
  Record(Fact(tenant, c.id, common::NewUuid(), 1, "placed", 700));
  REQUIRE(Erase(Repo(), ActorOf(tenant, "DeleteCustomer"), c.id, "").ok());
  CHECK(CountIn(tenant, absl::StrCat("SELECT count(*) FROM customer_store.purchases WHERE "
                                     "customer_id = '",
                                     c.id, "'")) == 0);
}

// A merge-log row as MergeCustomers writes it (only the columns the purchase
// aggregates read matter here).
std::string RecordMerge(const std::string& tenant, const std::string& survivor,
                        const std::string& source) {
  std::string id = common::NewUuid();
  absl::Status s = AppPool().WithTenantTx(tenant, [&](pqxx::work& tx) {
    tx.exec0(absl::StrCat(
        "INSERT INTO customer_store.merges (tenant_id, id, survivor_id, source_id, "
        "source_snapshot, survivor_before, survivor_after, filled_paths, moved_interactions, "
        "moved_consents, added_consents) VALUES ('",
        tenant, "', '", id, "', '", survivor, "', '", source,
        "', '{}', '{}', '{}', '[]', '{}', '{}', '{}')"));
    return absl::OkStatus();
  });
  REQUIRE(s.ok());
  return id;
}

int64_t SpendOf(const std::string& tenant, const std::string& customer) {
  auto v = Repo().LoadView(tenant, customer, 5);
  INFO(v.status().ToString());
  REQUIRE(v.ok());
  return v->purchases.empty() ? 0 : v->purchases[0].total_spend_minor;
}

TEST_CASE("A survivor's aggregates include the purchases of customers merged into it, until "
          "the unmerge",
          "[customer_store][purchases][merge]") {
  const std::string tenant = NewTenant();
  domain::Customer survivor = NewCustomer("Survivor", {UniqueEmail()});
  domain::Customer source = NewCustomer("Source", {UniqueEmail()});
  domain::Customer first = NewCustomer("First", {UniqueEmail()});
  for (domain::Customer* c : {&survivor, &source, &first}) {
    REQUIRE(Insert(Repo(), ActorOf(tenant, "CreateCustomer"), *c).ok());
  }
  Record(Fact(tenant, survivor.id, common::NewUuid(), 1, "placed", 100));
  Record(Fact(tenant, source.id, common::NewUuid(), 1, "placed", 20));
  Record(Fact(tenant, first.id, common::NewUuid(), 1, "placed", 3));
  // first -> source -> survivor: transitively merged.
  std::string m1 = RecordMerge(tenant, source.id, first.id);
  std::string m2 = RecordMerge(tenant, survivor.id, source.id);
  CHECK(SpendOf(tenant, survivor.id) == 123);
  // A late order of a merged-away customer shows on the survivor, and the
  // projection names the survivor as the view to refresh.
  auto late = Repo().RecordOrder(Fact(tenant, first.id, common::NewUuid(), 1, "placed", 4000));
  REQUIRE(late.ok());
  CHECK(late->changed);
  CHECK(late->view_owner == survivor.id);
  CHECK(SpendOf(tenant, survivor.id) == 4123);
  // Unmerging source from survivor gives source (and what was merged into it) back.
  REQUIRE(AppPool()
              .WithTenantTx(tenant,
                            [&](pqxx::work& tx) {
                              tx.exec0(absl::StrCat(
                                  "UPDATE customer_store.merges SET unmerged_at = now() WHERE id = '",
                                  m2, "'"));
                              return absl::OkStatus();
                            })
              .ok());
  CHECK(SpendOf(tenant, survivor.id) == 100);
  CHECK(SpendOf(tenant, source.id) == 4023);
  auto again = Repo().RecordOrder(Fact(tenant, first.id, common::NewUuid(), 1, "placed", 1));
  REQUIRE(again.ok());
  CHECK(again->view_owner == source.id);
  // Another tenant's merge log changes nothing here.
  RecordMerge(NewTenant(), survivor.id, source.id);
  CHECK(SpendOf(tenant, survivor.id) == 100);
  (void)m1;
}

TEST_CASE("Facts about an erased customer, or one merged into it, arriving later are dropped",
          "[customer_store][purchases][erasure]") {
  const std::string tenant = NewTenant();
  domain::Customer survivor = NewCustomer("Gone", {UniqueEmail()});
  domain::Customer source = NewCustomer("AlsoGone", {UniqueEmail()});
  for (domain::Customer* c : {&survivor, &source}) {
    REQUIRE(Insert(Repo(), ActorOf(tenant, "CreateCustomer"), *c).ok());
  }
  const std::string order = common::NewUuid();
  Record(Fact(tenant, survivor.id, order, 1, "placed", 100));
  Record(Fact(tenant, source.id, common::NewUuid(), 1, "placed", 20));
  RecordMerge(tenant, survivor.id, source.id);
  REQUIRE(Erase(Repo(), ActorOf(tenant, "DeleteCustomer"), survivor.id, "").ok());
  CHECK(CountIn(tenant, "SELECT count(*) FROM customer_store.purchases") == 0);
  // A refund of the survivor's order and a new order of the merged-away id.
  CHECK_FALSE(Record(Fact(tenant, survivor.id, order, 2, "paid", 100)));
  CHECK_FALSE(Record(Fact(tenant, source.id, common::NewUuid(), 1, "placed", 7)));
  CHECK(CountIn(tenant, "SELECT count(*) FROM customer_store.purchases") == 0);
  // Another tenant's customer with the same id is not affected.
  const std::string other = NewTenant();
  CHECK(Record(Fact(other, survivor.id, common::NewUuid(), 1, "placed", 5)));
}

TEST_CASE("Returns lower the net spend, and gross spend, returned value and returned orders are reported",
          "[customer_store][purchases]") {
  const std::string tenant = NewTenant();
  domain::Customer c = NewCustomer("Returner", {UniqueEmail()});
  REQUIRE(Insert(Repo(), ActorOf(tenant, "CreateCustomer"), c).ok());
  std::string order = common::NewUuid();
  Record(Fact(tenant, c.id, order, 1, "placed", 3000));
  Record(Fact(tenant, c.id, common::NewUuid(), 1, "placed", 1000));
  domain::OrderFact partial = Fact(tenant, c.id, order, 5, "partially_returned", 3000);
  partial.returned_minor = 999;
  partial.net_minor = 2001;
  CHECK(Record(partial));
  auto v = Repo().LoadView(tenant, c.id, 5);
  REQUIRE(v.ok());
  REQUIRE(v->purchases.size() == 1);
  const domain::PurchaseAggregate& a = v->purchases[0];
  CHECK(a.order_count == 2);
  CHECK(a.gross_spend_minor == 4000);
  CHECK(a.total_spend_minor == 3001);
  CHECK(a.returned_minor == 999);
  CHECK(a.returned_orders == 1);
  CHECK(a.average_order_minor == 1500);
}

}  // namespace
}  // namespace crm::customer_store::itest
