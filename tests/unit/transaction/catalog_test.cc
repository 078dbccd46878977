// Catalog use cases over the in-memory FakeProductRepository (their writes
// driven through ProductTx).
#include "services/transaction/app/catalog.h"

#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "libs/common/errors.h"
#include "tests/support/fakes/common_fakes.h"
#include "tests/support/fakes/transaction/fake_product_repository.h"

namespace {

using namespace crm::transaction;  // NOLINT
using crm::common::FieldOf;
using crm::common::ReasonOf;
using crm::testing::FakeProductRepository;
using crm::testing::FixedClock;
using domain::Product;

constexpr char kTenant[] = "11111111-1111-4111-8111-111111111111";
constexpr char kOtherTenant[] = "22222222-2222-4222-8222-222222222222";

Product NewProduct(const std::string& sku, const std::string& name = "Kind of Blue") {
  Product p;
  p.sku = sku;
  p.name = name;
  p.category_path = {"Music", "Jazz"};
  p.price = {1990, "CHF"};
  p.attributes = {{"format", "vinyl"}};
  p.active = true;
  return p;
}

struct Fixture {
  FakeProductRepository repo;
  FixedClock clock{absl::FromUnixSeconds(1700000000)};
  app::Catalog catalog{repo, clock};
  app::Actor actor{kTenant, "k0123456789abcdef", "req-1", "CreateProduct", ""};

  Product Create(const std::string& sku) {
    auto r = catalog.Create(actor, NewProduct(sku));
    INFO(r.status().ToString());
    REQUIRE(r.ok());
    return *r;
  }
};

void RequireInvalidField(const absl::Status& s, const std::string& field) {
  INFO(s.ToString());
  REQUIRE(s.code() == absl::StatusCode::kInvalidArgument);
  CHECK(FieldOf(s) == field);
}

// -------------------------------------------------------------------- Create

TEST_CASE("Catalog::Create normalizes and sets version 1 and both times", "[transaction][catalog]") {
  Fixture f;
  Product in = NewProduct("SKU-1", "  Kind of Blue  ");
  in.price.currency_code = "chf";
  in.category_path = {" Music", "Jazz "};
  in.version = 99;
  auto r = f.catalog.Create(f.actor, in);
  INFO(r.status().ToString());
  REQUIRE(r.ok());
  CHECK(r->name == "Kind of Blue");
  CHECK(r->price.currency_code == "CHF");
  CHECK(r->category_path == std::vector<std::string>{"Music", "Jazz"});
  CHECK(r->version == 1);
  CHECK(r->create_time == f.clock.Now());
  CHECK(r->update_time == f.clock.Now());
  auto got = f.catalog.Get(kTenant, "SKU-1");
  REQUIRE(got.ok());
  CHECK(got->name == "Kind of Blue");
  CHECK(f.repo.writes() == 1);
}

TEST_CASE("Catalog::Create refuses invalid products without writing", "[transaction][catalog]") {
  Fixture f;
  Product p = NewProduct("SKU-1");
  p.price.currency_code = "XXX";
  RequireInvalidField(f.catalog.Create(f.actor, p).status(), "price.currency_code");
  p = NewProduct("SKU-1");
  p.category_path = {"Music"};
  RequireInvalidField(f.catalog.Create(f.actor, p).status(), "category_path");
  p = NewProduct("bad/sku");
  RequireInvalidField(f.catalog.Create(f.actor, p).status(), "sku");
  CHECK(f.repo.calls() == 0);
}

TEST_CASE("Catalog::Create passes PRODUCT_EXISTS through", "[transaction][catalog]") {
  Fixture f;
  f.Create("SKU-1");
  auto r = f.catalog.Create(f.actor, NewProduct("SKU-1", "Another"));
  REQUIRE(r.status().code() == absl::StatusCode::kAlreadyExists);
  CHECK(ReasonOf(r.status()) == "PRODUCT_EXISTS");
  CHECK(f.catalog.Get(kTenant, "SKU-1")->name == "Kind of Blue");
}

// ----------------------------------------------------------------------- Get

TEST_CASE("Catalog::Get checks the sku before the repository", "[transaction][catalog]") {
  Fixture f;
  for (const std::string& sku : {std::string(""), std::string("a b"), std::string(65, 'x'),
                                 std::string("a/b")}) {
    INFO(sku);
    RequireInvalidField(f.catalog.Get(kTenant, sku).status(), "sku");
  }
  CHECK(f.repo.calls() == 0);
}

TEST_CASE("Catalog::Get is tenant scoped", "[transaction][catalog]") {
  Fixture f;
  f.Create("SKU-1");
  auto r = f.catalog.Get(kOtherTenant, "SKU-1");
  REQUIRE(r.status().code() == absl::StatusCode::kNotFound);
  CHECK(ReasonOf(r.status()) == "PRODUCT_NOT_FOUND");
}

// -------------------------------------------------------------------- Update

TEST_CASE("Catalog::Update validates the mask before touching the repository",
          "[transaction][catalog]") {
  Fixture f;
  f.Create("SKU-1");
  const int calls_before = f.repo.calls();
  Product patch = NewProduct("SKU-1", "New");
  for (const std::vector<std::string>& paths :
       {std::vector<std::string>{}, std::vector<std::string>{"sku"},
        std::vector<std::string>{"name", "etag"}, std::vector<std::string>{"create_time"},
        std::vector<std::string>{"update_time"}, std::vector<std::string>{"nope"},
        std::vector<std::string>{"attributes.Bad"}}) {
    auto r = f.catalog.Update(f.actor, "SKU-1", patch, paths, "");
    INFO(r.status().ToString());
    REQUIRE(r.status().code() == absl::StatusCode::kInvalidArgument);
    CHECK(ReasonOf(r.status()) == "INVALID_UPDATE_MASK");
    CHECK(FieldOf(r.status()) == "update_mask");
  }
  CHECK(f.repo.calls() == calls_before);
  CHECK(f.catalog.Get(kTenant, "SKU-1")->name == "Kind of Blue");
}

TEST_CASE("Catalog::Update checks the sku before touching the repository",
          "[transaction][catalog]") {
  Fixture f;
  auto r = f.catalog.Update(f.actor, "bad sku", NewProduct("x"), {"name"}, "");
  RequireInvalidField(r.status(), "sku");
  CHECK(f.repo.calls() == 0);
}

TEST_CASE("Catalog::Update applies the mask, normalizes and bumps the version",
          "[transaction][catalog]") {
  Fixture f;
  Product created = f.Create("SKU-1");
  f.clock.Advance(absl::Seconds(5));
  Product patch;
  patch.name = "  Patched  ";
  patch.price = {2500, "eur"};
  patch.attributes = {{"color", "blue"}};
  auto r = f.catalog.Update(f.actor, "SKU-1", patch, {"name", "price", "attributes.color"},
                            domain::EtagOf(created));
  INFO(r.status().ToString());
  REQUIRE(r.ok());
  CHECK(r->name == "Patched");
  CHECK(r->price == domain::Money{2500, "EUR"});
  CHECK(r->attributes.at("color") == "blue");
  CHECK(r->attributes.at("format") == "vinyl");
  CHECK(r->category_path == created.category_path);
  CHECK(r->version == 2);
  CHECK(r->update_time == f.clock.Now());
  CHECK(r->create_time == created.create_time);
}

TEST_CASE("Catalog::Update refuses a result that breaks the rules", "[transaction][catalog]") {
  Fixture f;
  f.Create("SKU-1");
  Product patch;
  patch.category_path = {"OnlyOne"};
  auto r = f.catalog.Update(f.actor, "SKU-1", patch, {"category_path"}, "");
  RequireInvalidField(r.status(), "category_path");
  patch = Product{};
  patch.price = {10, "XXX"};
  r = f.catalog.Update(f.actor, "SKU-1", patch, {"price"}, "");
  RequireInvalidField(r.status(), "price.currency_code");
  CHECK(f.repo.writes() == 1);  // only the create
  CHECK(f.catalog.Get(kTenant, "SKU-1")->version == 1);
}

TEST_CASE("Catalog::Update with a stale etag is ABORTED ETAG_MISMATCH", "[transaction][catalog]") {
  Fixture f;
  f.Create("SKU-1");
  Product patch;
  patch.name = "X";
  auto r = f.catalog.Update(f.actor, "SKU-1", patch, {"name"}, "7");
  REQUIRE(r.status().code() == absl::StatusCode::kAborted);
  CHECK(ReasonOf(r.status()) == "ETAG_MISMATCH");
}

TEST_CASE("Catalog::Update that changes nothing keeps the version", "[transaction][catalog]") {
  Fixture f;
  f.Create("SKU-1");
  Product patch;
  patch.name = " Kind of Blue ";  // trims to the current name
  auto r = f.catalog.Update(f.actor, "SKU-1", patch, {"name"}, "1");
  INFO(r.status().ToString());
  REQUIRE(r.ok());
  CHECK(r->version == 1);
  CHECK(f.repo.writes() == 1);
}

// ---------------------------------------------------------------------- List

TEST_CASE("Catalog::List lower-cases and trims the name prefix", "[transaction][catalog]") {
  Fixture f;
  f.Create("SKU-1");
  app::ProductQuery q;
  q.name_prefix = "  KIND Of ";
  auto r = f.catalog.List(kTenant, q);
  INFO(r.status().ToString());
  REQUIRE(r.ok());
  CHECK(f.repo.last_query().name_prefix == "kind of");
  REQUIRE(r->items.size() == 1);
  CHECK(r->items[0].sku == "SKU-1");
}

TEST_CASE("Catalog::List bounds the prefixes to 200 characters", "[transaction][catalog]") {
  Fixture f;
  app::ProductQuery q;
  q.name_prefix = std::string(201, 'a');
  RequireInvalidField(f.catalog.List(kTenant, q).status(), "name_prefix");
  q = app::ProductQuery{};
  q.category_prefix = std::string(201, 'a');
  RequireInvalidField(f.catalog.List(kTenant, q).status(), "category_prefix");
  CHECK(f.repo.calls() == 0);
  q = app::ProductQuery{};
  q.name_prefix = std::string(200, 'a');
  q.category_prefix = std::string(200, 'a');
  CHECK(f.catalog.List(kTenant, q).ok());
}

// --------------------------------------------------------------- BatchUpsert

TEST_CASE("Catalog::BatchUpsert refuses an empty batch", "[transaction][batch]") {
  Fixture f;
  RequireInvalidField(f.catalog.BatchUpsert(f.actor, {}).status(), "products");
  CHECK(f.repo.calls() == 0);
}

TEST_CASE("Catalog::BatchUpsert takes at most 1000 products", "[transaction][batch]") {
  Fixture f;
  std::vector<Product> batch;
  for (int i = 0; i < 1001; ++i) batch.push_back(NewProduct(absl::StrCat("SKU-", i)));
  RequireInvalidField(f.catalog.BatchUpsert(f.actor, batch).status(), "products");
  CHECK(f.repo.calls() == 0);
  batch.pop_back();
  auto r = f.catalog.BatchUpsert(f.actor, batch);
  INFO(r.status().ToString());
  REQUIRE(r.ok());
  CHECK(r->created == 1000);
  CHECK(r->errors.empty());
  CHECK(f.repo.upsert_calls() == 1);
}

TEST_CASE("Catalog::BatchUpsert reports invalid products by index and applies the rest",
          "[transaction][batch]") {
  Fixture f;
  std::vector<Product> batch;
  batch.push_back(NewProduct("A-0", "  Zero  "));          // 0 valid
  batch.push_back(NewProduct("A-1"));                       // 1 bad currency
  batch.back().price.currency_code = "XXX";
  batch.push_back(NewProduct("A-2"));                       // 2 valid, lower-case currency
  batch.back().price.currency_code = "jpy";
  batch.push_back(NewProduct("bad sku"));                   // 3 bad sku
  batch.push_back(NewProduct("A-0", "Again"));              // 4 duplicate of 0
  batch.push_back(NewProduct("A-5"));                       // 5 one-level category
  batch.back().category_path = {"Music"};
  batch.push_back(NewProduct("A-6"));                       // 6 bad attribute key
  batch.back().attributes = {{"Bad", "x"}};
  batch.push_back(NewProduct("a-0"));                       // 7 skus are case-sensitive: valid

  auto r = f.catalog.BatchUpsert(f.actor, batch);
  INFO(r.status().ToString());
  REQUIRE(r.ok());
  CHECK(r->created == 3);
  CHECK(r->updated == 0);
  CHECK(r->unchanged == 0);
  REQUIRE(r->errors.size() == 5);
  struct Want {
    int index;
    std::string sku, field;
  };
  const std::vector<Want> want = {{1, "A-1", "price.currency_code"},
                                  {3, "bad sku", "sku"},
                                  {4, "A-0", "sku"},
                                  {5, "A-5", "category_path"},
                                  {6, "A-6", "attributes.Bad"}};
  for (size_t i = 0; i < want.size(); ++i) {
    INFO("error " << i);
    CHECK(r->errors[i].index == want[i].index);
    CHECK(r->errors[i].sku == want[i].sku);
    CHECK(r->errors[i].field == want[i].field);
    CHECK(r->errors[i].reason == "INVALID_FIELD");
    CHECK_FALSE(r->errors[i].message.empty());
  }

  // Only the valid products are written, normalized and stamped.
  std::vector<Product> passed = f.repo.last_saved();
  REQUIRE(passed.size() == 3);
  CHECK(passed[0].sku == "A-0");
  CHECK(passed[0].name == "Zero");
  CHECK(passed[1].sku == "A-2");
  CHECK(passed[1].price.currency_code == "JPY");
  CHECK(passed[2].sku == "a-0");
  for (const Product& p : passed) {
    CHECK(p.create_time == f.clock.Now());
    CHECK(p.update_time == f.clock.Now());
  }
  CHECK(f.catalog.Get(kTenant, "A-0")->name == "Zero");
  CHECK(f.catalog.Get(kTenant, "A-1").status().code() == absl::StatusCode::kNotFound);
}

TEST_CASE("Catalog::BatchUpsert with only invalid products writes nothing", "[transaction][batch]") {
  Fixture f;
  std::vector<Product> batch = {NewProduct("bad sku"), NewProduct("ok")};
  batch[1].price.amount_minor = -5;
  auto r = f.catalog.BatchUpsert(f.actor, batch);
  INFO(r.status().ToString());
  REQUIRE(r.ok());
  CHECK(r->created + r->updated + r->unchanged == 0);
  REQUIRE(r->errors.size() == 2);
  CHECK(r->errors[0].index == 0);
  CHECK(r->errors[1].index == 1);
  CHECK(r->errors[1].field == "price.amount_minor");
  CHECK(f.repo.upsert_calls() == 0);
  CHECK(f.repo.writes() == 0);
}

TEST_CASE("Catalog::BatchUpsert counts created, updated and unchanged", "[transaction][batch]") {
  Fixture f;
  REQUIRE(f.catalog.BatchUpsert(f.actor, {NewProduct("A"), NewProduct("B")}).ok());
  Product b = NewProduct("B");
  b.price.amount_minor = 2990;
  auto r = f.catalog.BatchUpsert(f.actor, {NewProduct("A"), b, NewProduct("C")});
  INFO(r.status().ToString());
  REQUIRE(r.ok());
  CHECK(r->created == 1);
  CHECK(r->updated == 1);
  CHECK(r->unchanged == 1);
  CHECK(f.catalog.Get(kTenant, "B")->version == 2);
  CHECK(f.catalog.Get(kTenant, "A")->version == 1);
}

TEST_CASE("Catalog::BatchUpsert passes a repository failure through", "[transaction][batch]") {
  Fixture f;
  f.repo.FailWith(absl::UnavailableError("db down"));
  auto r = f.catalog.BatchUpsert(f.actor, {NewProduct("A")});
  CHECK(r.status().code() == absl::StatusCode::kUnavailable);
}

}  // namespace
