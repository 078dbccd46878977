// ERP ingest and export (app::Erp over PgErpRepository) against the private
// PostgreSQL (app role, RLS on). Schema txn is reset once per process; every
// test works in tenants of its own.
#include "services/transaction/storage/pg_erp_repository.h"

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <set>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>
#include <pqxx/pqxx>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "libs/common/clock.h"
#include "libs/common/id.h"
#include "libs/pg/pool.h"
#include "services/transaction/app/catalog.h"
#include "services/transaction/app/erp.h"
#include "services/transaction/storage/order_event.h"
#include "services/transaction/storage/pg_order_repository.h"
#include "services/transaction/storage/pg_product_repository.h"
#include "tests/support/pg_test_db.h"

namespace crm::transaction::itest {
namespace {

namespace ts = crm::test_support;
using app::IngestInput;
using app::IngestOutcome;
using domain::Order;

struct Env {
  std::unique_ptr<crm::pg::Pool> pool;
  std::unique_ptr<storage::PgProductRepository> products;
  std::unique_ptr<storage::PgErpRepository> erp_repo;
  common::SystemClock clock;
  common::RandomIdGenerator ids;
  std::unique_ptr<app::Erp> erp;
};

Env& TheEnv() {
  static Env* env = [] {
    auto* e = new Env;
    e->pool = ts::FreshSchemaPool("transaction", "txn", 8,
                                  {storage::PgProductRepository::Queries(),
                                   storage::PgOrderRepository::Queries(),
                                   storage::PgErpRepository::Queries()});
    e->products = std::make_unique<storage::PgProductRepository>(*e->pool);
    e->erp_repo = std::make_unique<storage::PgErpRepository>(*e->pool);
    e->erp = std::make_unique<app::Erp>(*e->erp_repo, e->clock, e->ids);
    return e;
  }();
  return *env;
}

app::Erp& Erp() { return *TheEnv().erp; }
crm::pg::Pool& AppPool() { return *TheEnv().pool; }

app::Actor ActorOf(const std::string& tenant) {
  return app::Actor{tenant, "key-itest", "req-itest", "IngestOrders", "", ""};
}

void AddProduct(const std::string& tenant, const std::string& sku) {
  domain::Product p;
  p.sku = sku;
  p.name = "Product " + sku;
  p.category_path = {"Music", "Jazz"};
  p.price = {1990, "CHF"};
  p.active = true;
  p.version = 1;
  p.create_time = absl::FromUnixMicros(1700000000000000);
  p.update_time = p.create_time;
  app::Actor a{tenant, "key-itest", "req-itest", "CreateProduct", "", ""};
  auto r = TheEnv().products->Run<domain::Product>(
      a, p.sku, [&](app::ProductTx& tx) { return app::WriteNewProduct(tx, p); });
  INFO(r.status().ToString());
  REQUIRE(r.ok());
}

std::string NewTenantWithCatalog() {
  std::string t = common::NewUuid();
  AddProduct(t, "SKU-1");
  AddProduct(t, "SKU-2");
  return t;
}

const std::string kCustomer = "33333333-3333-4333-8333-333333333333";

Order NewOrder(const std::string& external_id, const std::string& sku2 = "SKU-2") {
  Order o;
  o.external_id = external_id;
  o.customer_id = kCustomer;
  o.currency_code = "CHF";
  o.lines = {{"SKU-1", 2, 1990, 0, 0}, {sku2, 1, 500, 100, 0}};
  o.channel = domain::SalesChannel::kErp;
  o.store_id = "erp";
  o.placed_time = absl::FromUnixMicros(1700000000111111);
  return o;
}

std::vector<IngestInput> Batch(const std::string& prefix, int from, int to) {
  std::vector<IngestInput> b;
  for (int i = from; i < to; ++i) {
    b.push_back(IngestInput{NewOrder(absl::StrCat(prefix, i)), std::nullopt, absl::OkStatus()});
  }
  return b;
}

app::IngestReport Ingest(const std::string& tenant, std::vector<IngestInput> batch) {
  auto r = Erp().Ingest(ActorOf(tenant), "b", std::move(batch));
  INFO(r.status().ToString());
  REQUIRE(r.ok());
  return *r;
}

int64_t CountIn(const std::string& tenant, const std::string& sql) {
  int64_t n = -1;
  absl::Status s = AppPool().WithTenantTx(tenant, [&](pqxx::work& tx) {
    n = tx.exec1(sql)[0].as<int64_t>();
    return absl::OkStatus();
  });
  INFO(sql << " -> " << s.ToString());
  REQUIRE(s.ok());
  return n;
}
int64_t CountOrders(const std::string& t) { return CountIn(t, "SELECT count(*) FROM txn.orders"); }
int64_t CountLines(const std::string& t) {
  return CountIn(t, "SELECT count(*) FROM txn.order_lines");
}
int64_t CountEvents(const std::string& t) {
  return CountIn(t, "SELECT count(*) FROM txn.outbox WHERE event_type LIKE 'order.%'");
}
int64_t CountOrderAudits(const std::string& t) {
  return CountIn(t,
                 "SELECT count(*) FROM txn.audit_log WHERE method = 'IngestOrders' AND "
                 "resource NOT LIKE 'erp-batch%'");
}

// Every order exported from `cursor` until caught up, in pages of `page`.
// With `want` >= 0, keeps polling (up to 10 s) until that many came: the
// export lags behind any transaction in flight in the cluster (other tests
// included), by design.
std::vector<Order> ExportAll(const std::string& tenant, std::string* cursor, int page = 1000,
                             int want = -1, bool* held_back = nullptr) {
  std::vector<Order> out;
  absl::Time deadline = absl::Now() + absl::Seconds(10);
  for (;;) {
    auto p = Erp().Export(tenant, *cursor, page);
    INFO(p.status().ToString());
    REQUIRE(p.ok());
    REQUIRE(static_cast<int>(p->orders.size()) <= page);
    for (auto& o : p->orders) out.push_back(std::move(o));
    if (!p->next_cursor.empty()) *cursor = p->next_cursor;
    if (held_back != nullptr) *held_back = p->held_back;
    if (p->held_back) CHECK_FALSE(p->caught_up);
    if (!p->caught_up && !p->held_back) continue;
    if (want < 0 || static_cast<int>(out.size()) >= want || absl::Now() > deadline) break;
    absl::SleepFor(absl::Milliseconds(50));
  }
  return out;
}

}  // namespace

TEST_CASE("Ingest creates orders, lines, one event and one audit row each",
          "[transaction][erp][integration]") {
  const std::string t = NewTenantWithCatalog();
  app::IngestReport r = Ingest(t, Batch("ERP-", 0, 10));
  CHECK(r.created == 10);
  CHECK(r.rejected == 0);
  for (size_t i = 0; i < r.results.size(); ++i) {
    CHECK(r.results[i].outcome == IngestOutcome::kCreated);
    CHECK(r.results[i].external_id == absl::StrCat("ERP-", i));
    CHECK(common::IsUuid(r.results[i].order_id));
  }
  CHECK(CountOrders(t) == 10);
  CHECK(CountLines(t) == 20);
  CHECK(CountEvents(t) == 10);
  CHECK(CountOrderAudits(t) == 10);

  // The stored order and its event payload are exactly what the order
  // repository would have written (same OrderEventPayload).
  std::string cursor;
  std::vector<Order> all = ExportAll(t, &cursor, 1000, 10);
  REQUIRE(all.size() == 10);
  std::map<std::string, Order> by_id;
  for (auto& o : all) by_id[o.id] = o;
  const Order& o = by_id.at(r.results[3].order_id);
  CHECK(o.external_id == "ERP-3");
  CHECK(o.customer_id == kCustomer);
  CHECK(o.total_minor == 2 * 1990 + 400);
  CHECK(o.status == domain::OrderStatus::kPlaced);
  CHECK(o.version == 1);
  CHECK(o.channel == domain::SalesChannel::kErp);
  CHECK(o.placed_time == absl::FromUnixMicros(1700000000111111));
  REQUIRE(o.lines.size() == 2);
  CHECK(o.lines[1].sku == "SKU-2");
  CHECK(o.lines[1].line_total_minor == 400);
  absl::Status s = AppPool().WithTenantTx(t, [&](pqxx::work& tx) {
    pqxx::result ev = tx.exec_params(
        "SELECT event_type, payload::text, customer_id::text FROM txn.outbox "
        "WHERE payload->>'order_id' = $1",
        o.id);
    REQUIRE(ev.size() == 1);
    CHECK(ev[0][0].as<std::string>() == "order.placed");
    CHECK(ev[0][2].as<std::string>() == kCustomer);
    CHECK(nlohmann::json::parse(ev[0][1].as<std::string>()) ==
          nlohmann::json::parse(storage::OrderEventPayload(o)));
    return absl::OkStatus();
  });
  REQUIRE(s.ok());
}

TEST_CASE("A batch sent again creates nothing twice", "[transaction][erp][integration]") {
  const std::string t = NewTenantWithCatalog();
  app::IngestReport first = Ingest(t, Batch("R-", 0, 5));
  REQUIRE(first.created == 5);
  // The same batch plus two new orders.
  app::IngestReport again = Ingest(t, Batch("R-", 0, 7));
  CHECK(again.created == 2);
  CHECK(again.already_existing == 5);
  for (int i = 0; i < 5; ++i) {
    CHECK(again.results[i].outcome == IngestOutcome::kAlreadyExists);
    CHECK(again.results[i].order_id == first.results[i].order_id);
  }
  CHECK(again.results[5].outcome == IngestOutcome::kCreated);
  CHECK(CountOrders(t) == 7);
  CHECK(CountLines(t) == 14);
  CHECK(CountEvents(t) == 7);
  CHECK(CountOrderAudits(t) == 7);
}

TEST_CASE("Rejected rows write nothing", "[transaction][erp][integration]") {
  const std::string t = NewTenantWithCatalog();
  std::vector<IngestInput> b;
  b.push_back(IngestInput{NewOrder("OK-1"), std::nullopt, absl::OkStatus()});
  b.push_back(IngestInput{NewOrder("BAD-SKU", "NOT-IN-CATALOG"), std::nullopt, absl::OkStatus()});
  Order invalid = NewOrder("BAD-QTY");
  invalid.lines[0].quantity = 0;
  b.push_back(IngestInput{invalid, std::nullopt, absl::OkStatus()});
  app::IngestReport r = Ingest(t, std::move(b));
  CHECK(r.created == 1);
  CHECK(r.rejected == 2);
  CHECK(r.results[1].outcome == IngestOutcome::kRejected);
  CHECK(r.results[1].reason == "UNKNOWN_SKU");
  CHECK(r.results[1].field == "lines[1].sku");
  CHECK(r.results[2].reason == "INVALID_FIELD");
  CHECK(r.results[2].field == "lines[0].quantity");
  CHECK(CountOrders(t) == 1);
  CHECK(CountLines(t) == 2);
  CHECK(CountEvents(t) == 1);
  CHECK(CountIn(t, "SELECT count(*) FROM txn.orders WHERE external_id LIKE 'BAD%'") == 0);

  // Only rejected rows: nothing at all.
  std::vector<IngestInput> only_bad;
  only_bad.push_back(IngestInput{NewOrder("BAD-2", "NOPE"), std::nullopt, absl::OkStatus()});
  app::IngestReport r2 = Ingest(t, std::move(only_bad));
  CHECK(r2.rejected == 1);
  CHECK(CountOrders(t) == 1);
  CHECK(CountEvents(t) == 1);
}

TEST_CASE("Concurrent ingest of the same external ids creates each order once",
          "[transaction][erp][integration]") {
  const std::string t = NewTenantWithCatalog();
  constexpr int kThreads = 4;
  constexpr int kOrders = 200;
  std::vector<app::IngestReport> reports(kThreads);
  std::vector<std::string> errors(kThreads);
  std::vector<std::thread> threads;
  for (int i = 0; i < kThreads; ++i) {
    threads.emplace_back([&, i] {
      // Overlapping batches in different orders.
      std::vector<IngestInput> b = Batch("C-", 0, kOrders);
      if (i % 2) std::reverse(b.begin(), b.end());
      auto r = Erp().Ingest(ActorOf(t), "c", std::move(b));
      if (r.ok()) {
        reports[i] = *r;
      } else {
        errors[i] = r.status().ToString();
      }
    });
  }
  for (auto& th : threads) th.join();
  for (const auto& e : errors) CHECK(e == "");
  CHECK(CountOrders(t) == kOrders);
  CHECK(CountEvents(t) == kOrders);
  int created = 0;
  std::map<std::string, std::string> id_of;  // external id -> order id
  for (const auto& r : reports) {
    created += r.created;
    for (const auto& x : r.results) {
      CHECK(x.outcome != IngestOutcome::kRejected);
      auto [it, fresh] = id_of.emplace(x.external_id, x.order_id);
      if (!fresh) CHECK(it->second == x.order_id);
    }
  }
  CHECK(created == kOrders);
  CHECK(id_of.size() == static_cast<size_t>(kOrders));
}

TEST_CASE("Tenants do not share external ids or exports", "[transaction][erp][integration]") {
  const std::string a = NewTenantWithCatalog();
  const std::string b = NewTenantWithCatalog();
  app::IngestReport ra = Ingest(a, Batch("T-", 0, 3));
  app::IngestReport rb = Ingest(b, Batch("T-", 0, 3));
  CHECK(ra.created == 3);
  CHECK(rb.created == 3);  // the same external ids, another tenant: new orders
  std::set<std::string> a_ids, b_ids;
  for (const auto& x : ra.results) a_ids.insert(x.order_id);
  for (const auto& x : rb.results) b_ids.insert(x.order_id);
  std::string cursor;
  for (const Order& o : ExportAll(a, &cursor, 1000, 3)) {
    CHECK(a_ids.count(o.id) == 1);
    CHECK(b_ids.count(o.id) == 0);
  }
  // A tenant without orders exports nothing.
  std::string empty_cursor;
  CHECK(ExportAll(common::NewUuid(), &empty_cursor).empty());
  CHECK(empty_cursor.empty());
}

TEST_CASE("Export pages resume exactly after their cursor", "[transaction][erp][integration]") {
  const std::string t = NewTenantWithCatalog();
  app::IngestReport r = Ingest(t, Batch("P-", 0, 25));
  REQUIRE(r.created == 25);
  {
    std::string probe;
    REQUIRE(ExportAll(t, &probe, 1000, 25).size() == 25);  // all visible by now
  }
  std::string cursor;
  std::vector<std::string> seen;
  int pages = 0;
  for (;;) {
    auto p = Erp().Export(t, cursor, 10);
    REQUIRE(p.ok());
    ++pages;
    for (const auto& o : p->orders) seen.push_back(o.external_id);
    if (!p->next_cursor.empty()) cursor = p->next_cursor;
    if (p->caught_up) break;
  }
  CHECK(pages == 3);
  REQUIRE(seen.size() == 25);
  CHECK(std::set<std::string>(seen.begin(), seen.end()).size() == 25);
  // Nothing new: an empty page, caught up, the cursor kept.
  auto p = Erp().Export(t, cursor, 10);
  REQUIRE(p.ok());
  CHECK(p->orders.empty());
  CHECK(p->caught_up);
  CHECK(p->next_cursor.empty());
  // New orders and a changed order come after the cursor.
  Ingest(t, Batch("P-", 25, 27));
  absl::Status s = AppPool().WithTenantTx(t, [&](pqxx::work& tx) {
    tx.exec_params("UPDATE txn.orders SET status = 2, version = version + 1 WHERE external_id = $1",
                   std::string("P-3"));
    return absl::OkStatus();
  });
  REQUIRE(s.ok());
  std::vector<Order> next = ExportAll(t, &cursor, 10, 3);
  REQUIRE(next.size() == 3);
  CHECK(next[0].external_id == "P-25");
  CHECK(next[1].external_id == "P-26");
  CHECK(next[2].external_id == "P-3");
  CHECK(next[2].status == domain::OrderStatus::kPaid);
  // A malformed cursor is refused.
  auto bad = Erp().Export(t, "not-a-cursor", 10);
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.status().code() == absl::StatusCode::kInvalidArgument);
}

TEST_CASE("Export holds back behind a transaction still in flight, never skips it",
          "[transaction][erp][integration]") {
  const std::string t = NewTenantWithCatalog();
  // A writer that stamps an order (earlier xid), then waits.
  pqxx::connection slow_conn(ts::PgAppDsn());
  pqxx::work slow(slow_conn);
  slow.exec_params("SELECT set_config('app.tenant_id', $1, true)", t);
  slow.exec_params(
      "INSERT INTO txn.orders (tenant_id, id, customer_id, currency, total_minor, status, "
      "placed_at, created_at, updated_at, external_id) VALUES ($1, $2, $3, 'CHF', 0, 1, now(), "
      "now(), now(), 'SLOW-1')",
      t, common::NewUuid(), kCustomer);
  // A later writer commits first.
  app::IngestReport r = Ingest(t, Batch("FAST-", 0, 2));
  REQUIRE(r.created == 2);
  std::string cursor;
  bool held_back = false;
  std::vector<Order> before = ExportAll(t, &cursor, 1000, -1, &held_back);
  CHECK(before.empty());  // held back behind SLOW-1, which may still commit
  CHECK(held_back);       // and said so: not caught up
  slow.commit();
  std::vector<Order> after = ExportAll(t, &cursor, 1000, 3);
  REQUIRE(after.size() == 3);
  CHECK(after[0].external_id == "SLOW-1");
}

TEST_CASE("Export under concurrent ingest misses nothing", "[transaction][erp][integration]") {
  const std::string t = NewTenantWithCatalog();
  constexpr int kWriters = 3;
  constexpr int kBatches = 15;
  constexpr int kPerBatch = 20;
  std::atomic<bool> done{false};
  std::vector<std::thread> writers;
  std::atomic<int> failures{0};
  for (int w = 0; w < kWriters; ++w) {
    writers.emplace_back([&, w] {
      for (int b = 0; b < kBatches; ++b) {
        auto r = Erp().Ingest(ActorOf(t), "w",
                              Batch(absl::StrCat("W", w, "-", b, "-"), 0, kPerBatch));
        if (!r.ok() || r->created != kPerBatch) ++failures;
      }
    });
  }
  std::string cursor;
  std::vector<std::string> seen;
  std::thread reader([&] {
    while (!done.load()) {
      auto p = Erp().Export(t, cursor, 7);
      if (!p.ok()) {
        ++failures;
        return;
      }
      for (const auto& o : p->orders) seen.push_back(o.external_id);
      if (!p->next_cursor.empty()) cursor = p->next_cursor;
    }
  });
  for (auto& th : writers) th.join();
  done = true;
  reader.join();
  CHECK(failures.load() == 0);
  const int total = kWriters * kBatches * kPerBatch;
  for (const Order& o : ExportAll(t, &cursor, 50, total - static_cast<int>(seen.size()))) {
    seen.push_back(o.external_id);
  }
  std::set<std::string> unique(seen.begin(), seen.end());
  CHECK(seen.size() == unique.size());  // nothing twice (no order changed)
  CHECK(unique.size() == static_cast<size_t>(kWriters * kBatches * kPerBatch));
}

TEST_CASE("Ingest throughput (informational)", "[transaction][erp][integration][perf]") {
  const std::string t = NewTenantWithCatalog();
  constexpr int kBatches = 10;
  absl::Time start = absl::Now();
  for (int b = 0; b < kBatches; ++b) {
    app::IngestReport r = Ingest(t, Batch(absl::StrCat("PERF-", b, "-"), 0, app::kMaxIngestBatch));
    REQUIRE(r.created == app::kMaxIngestBatch);
  }
  double secs = absl::ToDoubleSeconds(absl::Now() - start);
  WARN("ingested " << kBatches * app::kMaxIngestBatch << " orders (2 lines each) in " << secs
                   << " s: " << (kBatches * app::kMaxIngestBatch) / secs << " orders/s");
}

}  // namespace crm::transaction::itest
