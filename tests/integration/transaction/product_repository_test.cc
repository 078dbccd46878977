// PgProductRepository, driven through its port (app::ProductTx), against
// the private PostgreSQL (app role, RLS on).
// Schema txn is reset once per process (every ctest test is a process of its
// own); every test also works in its own random tenant.
#include "services/transaction/storage/pg_product_repository.h"

#include <algorithm>
#include <cstdint>
#include <functional>
#include <memory>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

#include <catch2/catch.hpp>
#include <pqxx/pqxx>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "libs/common/errors.h"
#include "libs/common/id.h"
#include "libs/pg/pool.h"
#include "services/transaction/app/catalog.h"
#include "tests/support/pg_test_db.h"

namespace crm::transaction::itest {
namespace {

namespace ts = crm::test_support;
using absl::StatusCode;
using common::FieldOf;
using common::ReasonOf;
using domain::Product;

struct Env {
  std::unique_ptr<crm::pg::Pool> pool;
  std::unique_ptr<storage::PgProductRepository> repo;
};

Env& TheEnv() {
  static Env* env = [] {
    auto* e = new Env;
    e->pool = ts::FreshSchemaPool("transaction", "txn", 2,
                                  {storage::PgProductRepository::Queries()});
    e->repo = std::make_unique<storage::PgProductRepository>(*e->pool);
    return e;
  }();
  return *env;
}

storage::PgProductRepository& Repo() { return *TheEnv().repo; }
crm::pg::Pool& AppPool() { return *TheEnv().pool; }

std::string NewTenant() { return common::NewUuid(); }

app::Actor ActorOf(const std::string& tenant, const std::string& method,
                   const std::string& idempotency_key = "") {
  app::Actor a;
  a.tenant_id = tenant;
  a.principal = "user:itest";
  a.request_id = "req-itest";
  a.method = method;
  a.idempotency_key = idempotency_key;
  return a;
}

// A valid product as the use-case layer would hand it to the repository.
Product NewProduct(const std::string& sku, const std::string& name = "Kind of Blue",
                   std::vector<std::string> category = {"Music", "Jazz"}) {
  Product p;
  p.sku = sku;
  p.name = name;
  p.category_path = std::move(category);
  p.price = {1990, "CHF"};
  p.attributes = {{"format", "vinyl"}};
  p.active = true;
  p.version = 1;
  p.create_time = absl::FromUnixMicros(1700000000123456);
  p.update_time = p.create_time;
  return p;
}

// The writes below drive the repository through its port (app::ProductTx)
// with the app layer's write functions, given the test's own products and
// times, so each statement and event of the adapter is checked on its own.
using Mutation = std::function<absl::Status(Product&)>;
absl::StatusOr<Product> Insert(const app::Actor& a, const Product& p) {
  return Repo().Run<Product>(a, p.sku,
                             [&](app::ProductTx& tx) { return app::WriteNewProduct(tx, p); });
}
absl::StatusOr<Product> Update(const app::Actor& a, const std::string& sku,
                               const std::string& if_match, const Mutation& mutate) {
  return Repo().Run<Product>(a, sku, [&](app::ProductTx& tx) {
    return app::WriteProductUpdate(tx, sku, if_match, mutate);
  });
}
absl::StatusOr<app::BatchResult> Upsert(const app::Actor& a, const std::vector<Product>& products) {
  return Repo().Run<app::BatchResult>(
      a, absl::StrCat("products:", products.size()),
      [&](app::ProductTx& tx) { return app::WriteProductUpsert(tx, products); });
}

Product InsertOk(const std::string& tenant, const Product& p) {
  auto r = Insert(ActorOf(tenant, "CreateProduct"), p);
  INFO(r.status().ToString());
  REQUIRE(r.ok());
  return *r;
}

// count(*) of a txn query in the tenant's RLS scope (app role).
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

int64_t CountProducts(const std::string& tenant) {
  return CountIn(tenant, "SELECT count(*) FROM txn.products");
}

int64_t CountOutbox(const std::string& tenant, const std::string& type = "",
                    const std::string& sku = "") {
  std::string sql = "SELECT count(*) FROM txn.outbox WHERE true";
  if (!type.empty()) absl::StrAppend(&sql, " AND event_type = '", type, "'");
  if (!sku.empty()) absl::StrAppend(&sql, " AND payload->>'sku' = '", sku, "'");
  return CountIn(tenant, sql);
}

int64_t CountAudit(const std::string& tenant, const std::string& method, const std::string& outcome,
                   const std::string& resource = "") {
  std::string sql = absl::StrCat("SELECT count(*) FROM txn.audit_log WHERE method = '", method,
                                 "' AND outcome = '", outcome, "'");
  if (!resource.empty()) absl::StrAppend(&sql, " AND resource = '", resource, "'");
  return CountIn(tenant, sql);
}

std::vector<std::string> Skus(const app::ProductPage& page) {
  std::vector<std::string> out;
  for (const auto& p : page.items) out.push_back(p.sku);
  return out;
}

app::ProductPage ListOk(const std::string& tenant, const app::ProductQuery& q) {
  auto r = Repo().List(tenant, q);
  INFO(r.status().ToString());
  REQUIRE(r.ok());
  return *r;
}

void RequireSameProduct(const Product& a, const Product& b) {
  CHECK(a.sku == b.sku);
  CHECK(a.name == b.name);
  CHECK(a.category_path == b.category_path);
  CHECK(a.price.amount_minor == b.price.amount_minor);
  CHECK(a.price.currency_code == b.price.currency_code);
  CHECK(a.attributes == b.attributes);
  CHECK(a.active == b.active);
  CHECK(a.version == b.version);
  CHECK(a.create_time == b.create_time);
  CHECK(a.update_time == b.update_time);
}

// ----------------------------------------------------------- insert and get

TEST_CASE("Insert then Get round-trips every field", "[transaction][repository]") {
  const std::string tenant = NewTenant();
  Product p = NewProduct("RT-1", "Grüße \"quoted\" O'Brien",
                         {"Music, \"Live\"", "back\\slash {x}", "NULL"});
  p.price = {1'000'000'000'000'000, "KWD"};
  p.attributes = {{"color", "blue, \"navy\""}, {"empty", ""}, {"note", "a\\b {c} 'd' ü"}};
  p.active = false;
  p.create_time = absl::FromUnixMicros(1700000000654321);
  p.update_time = absl::FromUnixMicros(1700000001000001);
  Product inserted = InsertOk(tenant, p);
  RequireSameProduct(inserted, p);
  auto got = Repo().Get(tenant, "RT-1");
  INFO(got.status().ToString());
  REQUIRE(got.ok());
  RequireSameProduct(*got, p);
  // The flat category column used by prefix filters is the path joined with '/'.
  CHECK(CountIn(tenant, "SELECT count(*) FROM txn.products WHERE category = "
                        "'Music, \"Live\"/back\\slash {x}/NULL'") == 1);
}

TEST_CASE("Get of a missing sku is NOT_FOUND PRODUCT_NOT_FOUND", "[transaction][repository]") {
  auto r = Repo().Get(NewTenant(), "NOPE");
  REQUIRE(r.status().code() == StatusCode::kNotFound);
  CHECK(ReasonOf(r.status()) == "PRODUCT_NOT_FOUND");
}

TEST_CASE("Insert writes one audit row and one product.created event", "[transaction][repository]") {
  const std::string tenant = NewTenant();
  InsertOk(tenant, NewProduct("EV-1"));
  CHECK(CountAudit(tenant, "CreateProduct", "OK", "EV-1") == 1);
  CHECK(CountOutbox(tenant) == 1);
  CHECK(CountOutbox(tenant, "product.created", "EV-1") == 1);
  CHECK(CountIn(tenant, "SELECT count(*) FROM txn.outbox WHERE (payload->>'version')::int = 1 "
                        "AND customer_id IS NULL AND published_at IS NULL") == 1);
}

TEST_CASE("Insert of an existing sku is ALREADY_EXISTS PRODUCT_EXISTS and writes nothing",
          "[transaction][repository]") {
  const std::string tenant = NewTenant();
  InsertOk(tenant, NewProduct("DUP-1"));
  Product again = NewProduct("DUP-1", "Another name");
  again.price.amount_minor = 1;
  auto r = Insert(ActorOf(tenant, "CreateProduct"), again);
  INFO(r.status().ToString());
  REQUIRE(r.status().code() == StatusCode::kAlreadyExists);
  CHECK(ReasonOf(r.status()) == "PRODUCT_EXISTS");
  CHECK(FieldOf(r.status()) == "sku");
  CHECK(CountProducts(tenant) == 1);
  auto got = Repo().Get(tenant, "DUP-1");
  REQUIRE(got.ok());
  CHECK(got->name == "Kind of Blue");
  CHECK(got->price.amount_minor == 1990);
  CHECK(got->version == 1);
  CHECK(CountOutbox(tenant) == 1);
  // The refused write is audited on its own with its outcome.
  CHECK(CountAudit(tenant, "CreateProduct", "OK", "DUP-1") == 1);
  CHECK(CountAudit(tenant, "CreateProduct", "ALREADY_EXISTS", "DUP-1") == 1);
}

// CreateProduct with a request_id: the api layer sets the fingerprint.
app::Actor StrictActor(const std::string& tenant, const std::string& key, const std::string& fp) {
  app::Actor a = ActorOf(tenant, "CreateProduct", key);
  a.fingerprint = fp;
  return a;
}

TEST_CASE("Insert of an existing sku with a request_id stores the refusal and replays it",
          "[transaction][repository][idempotency]") {
  const std::string tenant = NewTenant();
  InsertOk(tenant, NewProduct("DUPK-1"));
  const std::string key = common::NewUuid();
  auto r = Insert(StrictActor(tenant, key, "fp-dup"), NewProduct("DUPK-1"));
  REQUIRE(r.status().code() == StatusCode::kAlreadyExists);
  CHECK(CountIn(tenant, "SELECT count(*) FROM txn.idempotency_keys WHERE error_code = 6") == 1);
  // The same request again: the same refusal, code, reason, field and message.
  auto again = Insert(StrictActor(tenant, key, "fp-dup"), NewProduct("DUPK-1"));
  REQUIRE(again.status() == r.status());
  CHECK(ReasonOf(again.status()) == "PRODUCT_EXISTS");
  CHECK(FieldOf(again.status()) == "sku");
  // Another body under the same key: IDEMPOTENCY_KEY_REUSED, nothing written.
  auto other = Insert(StrictActor(tenant, key, "fp-other"), NewProduct("DUPK-2"));
  REQUIRE(other.status().code() == StatusCode::kInvalidArgument);
  CHECK(ReasonOf(other.status()) == "IDEMPOTENCY_KEY_REUSED");
  CHECK(FieldOf(other.status()) == "request_id");
  CHECK(Repo().Get(tenant, "DUPK-2").status().code() == StatusCode::kNotFound);
}

TEST_CASE("Without a fingerprint a refused Insert leaves its request_id free",
          "[transaction][repository][idempotency]") {
  const std::string tenant = NewTenant();
  InsertOk(tenant, NewProduct("DUPL-1"));
  const std::string key = common::NewUuid();
  auto r = Insert(ActorOf(tenant, "CreateProduct", key), NewProduct("DUPL-1"));
  REQUIRE(r.status().code() == StatusCode::kAlreadyExists);
  CHECK(CountIn(tenant, "SELECT count(*) FROM txn.idempotency_keys") == 0);
  auto ok = Insert(ActorOf(tenant, "CreateProduct", key), NewProduct("DUPL-2"));
  INFO(ok.status().ToString());
  REQUIRE(ok.ok());
  CHECK(ok->sku == "DUPL-2");
}

TEST_CASE("A replayed request_id answers the first product as it was, even after an update",
          "[transaction][repository][idempotency]") {
  const std::string tenant = NewTenant();
  const std::string key = common::NewUuid();
  auto first = Insert(StrictActor(tenant, key, "fp-1"), NewProduct("IDEM-1", "First"));
  INFO(first.status().ToString());
  REQUIRE(first.ok());
  REQUIRE(Update(ActorOf(tenant, "UpdateProduct"), "IDEM-1", "", [](Product& p) {
            p.name = "Renamed";
            return absl::OkStatus();
          }).ok());
  auto second = Insert(StrictActor(tenant, key, "fp-1"), NewProduct("IDEM-1", "First"));
  INFO(second.status().ToString());
  REQUIRE(second.ok());
  CHECK(second->sku == "IDEM-1");
  CHECK(second->name == "First");
  CHECK(second->version == 1);
  CHECK(second->category_path == first->category_path);
  CHECK(second->attributes == first->attributes);
  CHECK(second->price == first->price);
  CHECK(second->create_time == first->create_time);
  CHECK(second->update_time == first->update_time);
  CHECK(domain::EtagOf(*second) == domain::EtagOf(*first));
  CHECK(CountProducts(tenant) == 1);
  CHECK(CountOutbox(tenant, "product.created", "IDEM-1") == 1);
  // Same key, another body: refused, nothing new is written.
  auto reused = Insert(StrictActor(tenant, key, "fp-2"), NewProduct("IDEM-2", "Second"));
  REQUIRE(reused.status().code() == StatusCode::kInvalidArgument);
  CHECK(ReasonOf(reused.status()) == "IDEMPOTENCY_KEY_REUSED");
  CHECK(Repo().Get(tenant, "IDEM-2").status().code() == StatusCode::kNotFound);
  CHECK(CountProducts(tenant) == 1);
}

TEST_CASE("A key claimed by the lenient CreateProduct replays the product as it is now",
          "[transaction][repository][idempotency]") {
  const std::string tenant = NewTenant();
  const std::string key = common::NewUuid();
  REQUIRE(Insert(StrictActor(tenant, key, "fp-1"), NewProduct("OLD-1", "Old")).ok());
  REQUIRE(AppPool()
              .WithTenantTx(tenant,
                            [&](pqxx::work& tx) {
                              tx.exec(
                                  "UPDATE txn.idempotency_keys SET response = NULL, fingerprint "
                                  "= ''");
                              return absl::OkStatus();
                            })
              .ok());
  auto r = Insert(StrictActor(tenant, key, "fp-1"), NewProduct("OLD-1", "Old"));
  INFO(r.status().ToString());
  REQUIRE(r.ok());
  CHECK(r->sku == "OLD-1");
  CHECK(r->name == "Old");
}

TEST_CASE("A request_id used by another method is INVALID_ARGUMENT on request_id",
          "[transaction][repository][idempotency]") {
  const std::string tenant = NewTenant();
  const std::string key = common::NewUuid();
  REQUIRE(Insert(ActorOf(tenant, "CreateProduct", key), NewProduct("IDM-1")).ok());
  auto r = Insert(ActorOf(tenant, "ImportProduct", key), NewProduct("IDM-2"));
  INFO(r.status().ToString());
  REQUIRE(r.status().code() == StatusCode::kInvalidArgument);
  CHECK(FieldOf(r.status()) == "request_id");
  CHECK(CountProducts(tenant) == 1);
}

TEST_CASE("request_id keys are per tenant", "[transaction][repository][idempotency]") {
  const std::string a = NewTenant();
  const std::string b = NewTenant();
  const std::string key = common::NewUuid();
  REQUIRE(Insert(ActorOf(a, "CreateProduct", key), NewProduct("K-A")).ok());
  auto r = Insert(ActorOf(b, "CreateProduct", key), NewProduct("K-B"));
  INFO(r.status().ToString());
  REQUIRE(r.ok());
  CHECK(r->sku == "K-B");
  CHECK(CountProducts(b) == 1);
}

// ------------------------------------------------------------------- update

Mutation Rename(const std::string& name) {
  return [name](Product& p) {
    p.name = name;
    p.update_time = absl::FromUnixMicros(1700000099000000);
    return absl::OkStatus();
  };
}

TEST_CASE("Update with the current etag writes version + 1 and product.updated",
          "[transaction][repository][update]") {
  const std::string tenant = NewTenant();
  Product p = InsertOk(tenant, NewProduct("UP-1"));
  auto r = Update(ActorOf(tenant, "UpdateProduct"), "UP-1", domain::EtagOf(p), Rename("Renamed"));
  INFO(r.status().ToString());
  REQUIRE(r.ok());
  CHECK(r->name == "Renamed");
  CHECK(r->version == 2);
  CHECK(r->create_time == p.create_time);
  CHECK(r->update_time == absl::FromUnixMicros(1700000099000000));
  auto got = Repo().Get(tenant, "UP-1");
  REQUIRE(got.ok());
  RequireSameProduct(*got, *r);
  CHECK(CountOutbox(tenant, "product.updated", "UP-1") == 1);
  CHECK(CountIn(tenant, "SELECT count(*) FROM txn.outbox WHERE event_type = 'product.updated' "
                        "AND (payload->>'version')::int = 2") == 1);
  CHECK(CountAudit(tenant, "UpdateProduct", "OK", "UP-1") == 1);
  // An empty if_match means "unconditional".
  auto again = Update(ActorOf(tenant, "UpdateProduct"), "UP-1", "", Rename("Third"));
  REQUIRE(again.ok());
  CHECK(again->version == 3);
}

TEST_CASE("Update with a stale etag is ABORTED ETAG_MISMATCH and writes nothing",
          "[transaction][repository][update]") {
  const std::string tenant = NewTenant();
  InsertOk(tenant, NewProduct("UP-2"));
  REQUIRE(Update(ActorOf(tenant, "UpdateProduct"), "UP-2", "1", Rename("B")).ok());
  auto r = Update(ActorOf(tenant, "UpdateProduct"), "UP-2", "1", Rename("C"));
  INFO(r.status().ToString());
  REQUIRE(r.status().code() == StatusCode::kAborted);
  CHECK(ReasonOf(r.status()) == "ETAG_MISMATCH");
  auto got = Repo().Get(tenant, "UP-2");
  REQUIRE(got.ok());
  CHECK(got->name == "B");
  CHECK(got->version == 2);
  CHECK(CountOutbox(tenant, "product.updated") == 1);
  CHECK(CountAudit(tenant, "UpdateProduct", "ABORTED", "UP-2") == 1);
}

TEST_CASE("An update that changes nothing writes no row and no event",
          "[transaction][repository][update]") {
  const std::string tenant = NewTenant();
  Product p = InsertOk(tenant, NewProduct("NOOP-1"));
  auto r = Update(ActorOf(tenant, "UpdateProduct"), "NOOP-1", "1", [](Product& x) {
    x.name = "Kind of Blue";
    x.update_time = absl::FromUnixMicros(1800000000000000);  // times are not content
    return absl::OkStatus();
  });
  INFO(r.status().ToString());
  REQUIRE(r.ok());
  CHECK(r->version == 1);
  auto got = Repo().Get(tenant, "NOOP-1");
  REQUIRE(got.ok());
  RequireSameProduct(*got, p);
  CHECK(CountOutbox(tenant, "product.updated") == 0);
  CHECK(CountOutbox(tenant) == 1);
}

TEST_CASE("A failing mutation rolls back and is audited", "[transaction][repository][update]") {
  const std::string tenant = NewTenant();
  InsertOk(tenant, NewProduct("MUT-1"));
  auto r = Update(ActorOf(tenant, "UpdateProduct"), "MUT-1", "", [](Product& x) {
    x.name = "changed";
    return common::InvalidField("category_path", "bad");
  });
  REQUIRE(r.status().code() == StatusCode::kInvalidArgument);
  CHECK(Repo().Get(tenant, "MUT-1")->name == "Kind of Blue");
  CHECK(CountOutbox(tenant, "product.updated") == 0);
  CHECK(CountAudit(tenant, "UpdateProduct", "INVALID_ARGUMENT", "MUT-1") == 1);
}

TEST_CASE("Update of a missing sku is NOT_FOUND", "[transaction][repository][update]") {
  auto r = Update(ActorOf(NewTenant(), "UpdateProduct"), "MISSING", "", Rename("x"));
  REQUIRE(r.status().code() == StatusCode::kNotFound);
  CHECK(ReasonOf(r.status()) == "PRODUCT_NOT_FOUND");
}

// --------------------------------------------------------------------- list

TEST_CASE("List by category prefix matches whole levels only", "[transaction][repository][list]") {
  const std::string tenant = NewTenant();
  InsertOk(tenant, NewProduct("C-1", "a", {"Music", "Jazz"}));
  InsertOk(tenant, NewProduct("C-2", "b", {"Music", "Jazz", "Bebop"}));
  InsertOk(tenant, NewProduct("C-3", "c", {"Music", "Rock"}));
  InsertOk(tenant, NewProduct("C-4", "d", {"Musical", "X"}));
  InsertOk(tenant, NewProduct("C-5", "e", {"Music", "Jazzy"}));
  InsertOk(tenant, NewProduct("C-6", "f", {"Books", "Music"}));
  InsertOk(tenant, NewProduct("C-7", "g", {"Mu%c", "X"}));
  InsertOk(tenant, NewProduct("C-8", "h", {"M_sic", "X"}));
  app::ProductQuery q;
  q.limit = 100;
  q.category_prefix = "Music";
  CHECK(Skus(ListOk(tenant, q)) == std::vector<std::string>{"C-1", "C-2", "C-3", "C-5"});
  q.category_prefix = "Music/Jazz";
  CHECK(Skus(ListOk(tenant, q)) == std::vector<std::string>{"C-1", "C-2"});
  q.category_prefix = "Music/Jazz/Bebop";
  CHECK(Skus(ListOk(tenant, q)) == std::vector<std::string>{"C-2"});
  q.category_prefix = "Mus";
  CHECK(Skus(ListOk(tenant, q)).empty());
  q.category_prefix = "Mu%";  // LIKE wildcards are literal
  CHECK(Skus(ListOk(tenant, q)).empty());
  q.category_prefix = "Mu%c";
  CHECK(Skus(ListOk(tenant, q)) == std::vector<std::string>{"C-7"});
  q.category_prefix = "M_sic";
  CHECK(Skus(ListOk(tenant, q)) == std::vector<std::string>{"C-8"});
  q.category_prefix = "";
  CHECK(ListOk(tenant, q).items.size() == 8);
}

TEST_CASE("List active_only leaves inactive products out", "[transaction][repository][list]") {
  const std::string tenant = NewTenant();
  InsertOk(tenant, NewProduct("A-1"));
  Product off = NewProduct("A-2");
  off.active = false;
  InsertOk(tenant, off);
  InsertOk(tenant, NewProduct("A-3"));
  app::ProductQuery q;
  q.active_only = true;
  CHECK(Skus(ListOk(tenant, q)) == std::vector<std::string>{"A-1", "A-3"});
  q.active_only = false;
  CHECK(Skus(ListOk(tenant, q)) == std::vector<std::string>{"A-1", "A-2", "A-3"});
}

TEST_CASE("List by name prefix is case-insensitive and treats % and _ literally",
          "[transaction][repository][list]") {
  const std::string tenant = NewTenant();
  InsertOk(tenant, NewProduct("N-1", "100% Cotton Shirt"));
  InsertOk(tenant, NewProduct("N-2", "100X Cotton Shirt"));
  InsertOk(tenant, NewProduct("N-3", "a_b Widget"));
  InsertOk(tenant, NewProduct("N-4", "axb Widget"));
  InsertOk(tenant, NewProduct("N-5", "Back\\slash"));
  InsertOk(tenant, NewProduct("N-6", "Backslash"));
  app::ProductQuery q;
  q.name_prefix = "100%";  // the use case lower-cases; the repository takes it as given
  CHECK(Skus(ListOk(tenant, q)) == std::vector<std::string>{"N-1"});
  q.name_prefix = "100";
  CHECK(Skus(ListOk(tenant, q)) == std::vector<std::string>{"N-1", "N-2"});
  q.name_prefix = "a_";
  CHECK(Skus(ListOk(tenant, q)) == std::vector<std::string>{"N-3"});
  q.name_prefix = "back\\";
  CHECK(Skus(ListOk(tenant, q)) == std::vector<std::string>{"N-5"});
  q.name_prefix = "backs";
  CHECK(Skus(ListOk(tenant, q)) == std::vector<std::string>{"N-6"});
  q.name_prefix = "%";
  CHECK(Skus(ListOk(tenant, q)).empty());
}

TEST_CASE("List pages cover every product exactly once in sku order",
          "[transaction][repository][list]") {
  const std::string tenant = NewTenant();
  std::set<std::string> all;
  for (int i = 0; i < 23; ++i) {
    std::string sku = absl::StrCat("P-", i < 10 ? "0" : "", i);
    Product p = NewProduct(sku);
    p.active = (i % 3 != 0);
    InsertOk(tenant, p);
    all.insert(sku);
  }
  std::vector<std::string> seen;
  app::ProductQuery q;
  q.limit = 5;
  int pages = 0;
  for (; pages < 20; ++pages) {
    app::ProductPage page = ListOk(tenant, q);
    CHECK(static_cast<int>(page.items.size()) <= 5);
    for (const auto& p : page.items) seen.push_back(p.sku);
    if (page.next_cursor.empty()) break;
    CHECK(page.next_cursor == page.items.back().sku);
    q.after_sku = page.next_cursor;
  }
  CHECK(pages == 4);  // 5 + 5 + 5 + 5 + 3
  CHECK(seen.size() == all.size());
  CHECK(std::set<std::string>(seen.begin(), seen.end()) == all);
  CHECK(std::is_sorted(seen.begin(), seen.end()));

  // A page that ends exactly at the last product has no next cursor.
  app::ProductQuery exact;
  exact.limit = 23;
  CHECK(ListOk(tenant, exact).next_cursor.empty());
  exact.limit = 22;
  CHECK(ListOk(tenant, exact).next_cursor == "P-21");

  // Filters page as well.
  std::vector<std::string> active;
  app::ProductQuery qa;
  qa.limit = 4;
  qa.active_only = true;
  for (int i = 0; i < 20; ++i) {
    app::ProductPage page = ListOk(tenant, qa);
    for (const auto& p : page.items) active.push_back(p.sku);
    if (page.next_cursor.empty()) break;
    qa.after_sku = page.next_cursor;
  }
  CHECK(active.size() == 15);  // 23 minus i = 0, 3, ..., 21
}

// ------------------------------------------------------------------- upsert

TEST_CASE("Upsert counts created, updated and unchanged and emits one event per write",
          "[transaction][repository][upsert]") {
  const std::string tenant = NewTenant();
  InsertOk(tenant, NewProduct("U-1"));
  InsertOk(tenant, NewProduct("U-2"));
  const int64_t events_before = CountOutbox(tenant);
  REQUIRE(events_before == 2);

  Product changed = NewProduct("U-2");
  changed.price.amount_minor = 2990;
  changed.create_time = absl::FromUnixMicros(1800000000000000);  // must not move
  changed.update_time = absl::FromUnixMicros(1800000000000000);
  Product created = NewProduct("U-3", "New", {"Books", "Poetry", "Modern"});
  created.version = 0;  // the repository sets version 1 on create
  auto r = Upsert(ActorOf(tenant, "BatchUpsertProducts"), {NewProduct("U-1"), changed, created});
  INFO(r.status().ToString());
  REQUIRE(r.ok());
  CHECK(r->created == 1);
  CHECK(r->updated == 1);
  CHECK(r->unchanged == 1);
  CHECK(r->errors.empty());

  CHECK(CountOutbox(tenant) == events_before + 2);
  CHECK(CountOutbox(tenant, "product.created", "U-3") == 1);
  CHECK(CountOutbox(tenant, "product.updated", "U-2") == 1);
  CHECK(CountOutbox(tenant, "product.updated", "U-1") == 0);

  auto u1 = Repo().Get(tenant, "U-1");
  REQUIRE(u1.ok());
  CHECK(u1->version == 1);
  auto u2 = Repo().Get(tenant, "U-2");
  REQUIRE(u2.ok());
  CHECK(u2->version == 2);
  CHECK(u2->price.amount_minor == 2990);
  CHECK(u2->create_time == absl::FromUnixMicros(1700000000123456));
  CHECK(u2->update_time == absl::FromUnixMicros(1800000000000000));
  auto u3 = Repo().Get(tenant, "U-3");
  REQUIRE(u3.ok());
  CHECK(u3->version == 1);
  CHECK(u3->category_path == std::vector<std::string>{"Books", "Poetry", "Modern"});
  CHECK(CountAudit(tenant, "BatchUpsertProducts", "OK") == 1);

  // The same batch again changes nothing.
  auto again =
      Upsert(ActorOf(tenant, "BatchUpsertProducts"), {NewProduct("U-1"), changed, created});
  REQUIRE(again.ok());
  CHECK(again->created == 0);
  CHECK(again->updated == 0);
  CHECK(again->unchanged == 3);
  CHECK(CountOutbox(tenant) == events_before + 2);
}

// ------------------------------------------------------------------ tenants

TEST_CASE("Another tenant's sku is NOT_FOUND and the same sku may exist in both",
          "[transaction][repository][tenant]") {
  const std::string a = NewTenant();
  const std::string b = NewTenant();
  InsertOk(a, NewProduct("SHARED-1", "A's"));
  auto get = Repo().Get(b, "SHARED-1");
  REQUIRE(get.status().code() == StatusCode::kNotFound);
  CHECK(ReasonOf(get.status()) == "PRODUCT_NOT_FOUND");
  auto upd = Update(ActorOf(b, "UpdateProduct"), "SHARED-1", "", Rename("B's"));
  REQUIRE(upd.status().code() == StatusCode::kNotFound);
  CHECK(ListOk(b, app::ProductQuery{}).items.empty());

  Product bs = InsertOk(b, NewProduct("SHARED-1", "B's"));
  CHECK(bs.name == "B's");
  CHECK(Repo().Get(a, "SHARED-1")->name == "A's");
  CHECK(Repo().Get(b, "SHARED-1")->name == "B's");
  // Upsert in B does not touch A's row.
  auto up = Upsert(ActorOf(b, "BatchUpsertProducts"), {NewProduct("SHARED-1", "B2")});
  REQUIRE(up.ok());
  CHECK(up->updated == 1);
  CHECK(Repo().Get(a, "SHARED-1")->name == "A's");
  CHECK(Repo().Get(a, "SHARED-1")->version == 1);
  CHECK(CountOutbox(a) == 1);
}

TEST_CASE("RLS: without app.tenant_id the app role sees no txn rows",
          "[transaction][repository][rls]") {
  const std::string tenant = NewTenant();
  app::Actor actor = ActorOf(tenant, "CreateProduct", common::NewUuid());
  REQUIRE(Insert(actor, NewProduct("RLS-1")).ok());
  REQUIRE(CountProducts(tenant) == 1);  // visible inside the tenant scope

  pqxx::connection c(ts::PgAppDsn());
  pqxx::work w(c);
  for (const char* table : {"products", "idempotency_keys", "audit_log", "outbox"}) {
    INFO(table);
    CHECK(w.exec1(absl::StrCat("SELECT count(*) FROM txn.", table))[0].as<int64_t>() == 0);
  }
  // Another tenant's scope sees none of them either.
  w.exec(absl::StrCat("SELECT set_config('app.tenant_id', '", NewTenant(), "', true)"));
  CHECK(w.exec1("SELECT count(*) FROM txn.products")[0].as<int64_t>() == 0);
  CHECK(w.exec1("SELECT count(*) FROM txn.outbox")[0].as<int64_t>() == 0);
}

TEST_CASE("RLS: the app role cannot write a row for another tenant",
          "[transaction][repository][rls]") {
  const std::string tenant = NewTenant();
  const std::string other = NewTenant();
  std::string state = "no error";
  try {
    pqxx::connection c(ts::PgAppDsn());
    pqxx::work w(c);
    w.exec(absl::StrCat("SELECT set_config('app.tenant_id', '", tenant, "', true)"));
    w.exec0(absl::StrCat(
        "INSERT INTO txn.products (tenant_id, sku, name, category_path, category, price_minor, "
        "currency, created_at, updated_at) VALUES ('",
        other, "', 'X', 'x', '{a,b}', 'a/b', 1, 'CHF', now(), now())"));
  } catch (const pqxx::insufficient_privilege&) {
    state = "42501";
  } catch (const pqxx::sql_error& e) {
    state = e.sqlstate().empty() ? std::string("sql_error: ") + e.what() : e.sqlstate();
  }
  CHECK(state == "42501");
  CHECK(CountProducts(other) == 0);
}

}  // namespace
}  // namespace crm::transaction::itest
