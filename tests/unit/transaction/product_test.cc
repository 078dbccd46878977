// Pure domain rules of the product catalog: currencies, SKUs, validation and
// normalization, content comparison, field-mask updates.
#include "services/transaction/domain/product.h"

#include <catch2/catch.hpp>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "libs/common/currency.h"
#include "libs/common/errors.h"

namespace {

using crm::common::FieldOf;
using crm::common::ReasonOf;
using namespace crm::transaction::domain;  // NOLINT

Product Valid() {
  Product p;
  p.sku = "SKU-1";
  p.name = "Kind of Blue";
  p.category_path = {"Music", "Jazz"};
  p.price = {1990, "CHF"};
  p.attributes = {{"format", "vinyl"}};
  p.active = true;
  return p;
}

// NormalizeAndValidate must refuse p with INVALID_ARGUMENT INVALID_FIELD on `field`.
void RequireInvalid(Product p, const std::string& field) {
  absl::Status s = NormalizeAndValidate(p);
  INFO(s.ToString());
  REQUIRE(s.code() == absl::StatusCode::kInvalidArgument);
  CHECK(ReasonOf(s) == "INVALID_FIELD");
  CHECK(FieldOf(s) == field);
}

void RequireValid(Product& p) {
  absl::Status s = NormalizeAndValidate(p);
  INFO(s.ToString());
  REQUIRE(s.ok());
}

// ------------------------------------------------------------------ currency

TEST_CASE("MinorUnitDigits knows the minor unit of active ISO 4217 codes", "[transaction][currency]") {
  CHECK(crm::common::MinorUnitDigits("CHF") == std::optional<int>(2));
  CHECK(crm::common::MinorUnitDigits("EUR") == std::optional<int>(2));
  CHECK(crm::common::MinorUnitDigits("USD") == std::optional<int>(2));
  CHECK(crm::common::MinorUnitDigits("JPY") == std::optional<int>(0));
  CHECK(crm::common::MinorUnitDigits("KRW") == std::optional<int>(0));
  CHECK(crm::common::MinorUnitDigits("KWD") == std::optional<int>(3));
  CHECK(crm::common::MinorUnitDigits("BHD") == std::optional<int>(3));
}

TEST_CASE("MinorUnitDigits refuses codes that are not spendable currencies",
          "[transaction][currency]") {
  CHECK_FALSE(crm::common::MinorUnitDigits("XXX").has_value());  // "no currency"
  CHECK_FALSE(
      crm::common::MinorUnitDigits("XAU").has_value());  // gold: precious metals are left out
  CHECK_FALSE(crm::common::MinorUnitDigits("ABC").has_value());
  CHECK_FALSE(crm::common::MinorUnitDigits("").has_value());
  CHECK_FALSE(crm::common::MinorUnitDigits("CHFX").has_value());
  CHECK_FALSE(crm::common::MinorUnitDigits("CH").has_value());
  // The table is upper-case only: lower case is normalized by NormalizeAndValidate first.
  CHECK_FALSE(crm::common::MinorUnitDigits("chf").has_value());
  CHECK_FALSE(crm::common::MinorUnitDigits("Chf").has_value());
}

TEST_CASE("NormalizeAndValidate upper-cases the currency before the lookup",
          "[transaction][currency]") {
  Product p = Valid();
  p.price.currency_code = "chf";
  RequireValid(p);
  CHECK(p.price.currency_code == "CHF");
  p.price.currency_code = "jPy";
  RequireValid(p);
  CHECK(p.price.currency_code == "JPY");
}

TEST_CASE("NormalizeAndValidate refuses unknown currencies on price.currency_code",
          "[transaction][currency]") {
  for (const char* code : {"XXX", "xxx", "", "EURO", "XAU", " CHF"}) {
    INFO(code);
    Product p = Valid();
    p.price.currency_code = code;
    RequireInvalid(p, "price.currency_code");
  }
}

// ----------------------------------------------------------------------- sku

TEST_CASE("IsValidSku accepts 1..64 of A-Z a-z 0-9 . _ -", "[transaction][sku]") {
  CHECK(IsValidSku("a"));
  CHECK(IsValidSku("SKU-1"));
  CHECK(IsValidSku("abc.DEF_123-x"));
  CHECK(IsValidSku("._-"));
  CHECK(IsValidSku(std::string(64, 'Z')));
}

TEST_CASE("IsValidSku refuses empty, too long and other characters", "[transaction][sku]") {
  CHECK_FALSE(IsValidSku(""));
  CHECK_FALSE(IsValidSku(std::string(65, 'Z')));
  for (const char* bad : {"a b", "a/b", "a%b", "a?b", "a#b", "a,b", "ä", "a\tb", " a", "a\n",
                          "a+b", "a:b", "a*b"}) {
    INFO(bad);
    CHECK_FALSE(IsValidSku(bad));
  }
  CHECK_FALSE(IsValidSku(std::string("a\0b", 3)));
}

TEST_CASE("NormalizeAndValidate refuses an invalid sku on field sku", "[transaction][sku]") {
  Product p = Valid();
  p.sku = "bad sku";
  RequireInvalid(p, "sku");
  p.sku = "";
  RequireInvalid(p, "sku");
  // The sku is checked as given: it is not trimmed.
  p.sku = " SKU-1";
  RequireInvalid(p, "sku");
}

// ---------------------------------------------------------------------- name

TEST_CASE("NormalizeAndValidate trims the name", "[transaction][name]") {
  Product p = Valid();
  p.name = " \t Kind of Blue \n ";
  RequireValid(p);
  CHECK(p.name == "Kind of Blue");
}

TEST_CASE("NormalizeAndValidate requires a name of at most 200 characters", "[transaction][name]") {
  Product p = Valid();
  p.name = "   ";
  RequireInvalid(p, "name");
  p.name = "";
  RequireInvalid(p, "name");
  p.name = std::string(201, 'n');
  RequireInvalid(p, "name");
  p.name = std::string(200, 'n');
  RequireValid(p);
  // Surrounding white space does not count against the limit.
  p.name = "  " + std::string(200, 'n') + "  ";
  RequireValid(p);
  CHECK(p.name.size() == 200);
}

// ------------------------------------------------------------------ category

TEST_CASE("NormalizeAndValidate accepts 2 or 3 category levels and trims them",
          "[transaction][category]") {
  Product p = Valid();
  p.category_path = {" Music ", "Jazz\t"};
  RequireValid(p);
  CHECK(p.category_path == std::vector<std::string>{"Music", "Jazz"});
  p.category_path = {"Music", "Jazz", "Bebop"};
  RequireValid(p);
  CHECK(p.category_path.size() == 3);
  p.category_path = {"A, \"quoted\"", "back\\slash", std::string(64, 'c')};
  RequireValid(p);
}

TEST_CASE("NormalizeAndValidate refuses 0, 1 or 4 levels", "[transaction][category]") {
  Product p = Valid();
  p.category_path = {};
  RequireInvalid(p, "category_path");
  p.category_path = {"Music"};
  RequireInvalid(p, "category_path");
  p.category_path = {"A", "B", "C", "D"};
  RequireInvalid(p, "category_path");
}

TEST_CASE("NormalizeAndValidate refuses empty, long or '/' category levels",
          "[transaction][category]") {
  Product p = Valid();
  p.category_path = {"Music", "Jazz/Bebop"};
  RequireInvalid(p, "category_path");
  p.category_path = {"Music", "/"};
  RequireInvalid(p, "category_path");
  p.category_path = {"Music", ""};
  RequireInvalid(p, "category_path");
  p.category_path = {"Music", "   "};
  RequireInvalid(p, "category_path");
  p.category_path = {"Music", std::string(65, 'c')};
  RequireInvalid(p, "category_path");
}

TEST_CASE("CategoryKey joins the levels with '/'", "[transaction][category]") {
  CHECK(CategoryKey({"Music", "Jazz", "Bebop"}) == "Music/Jazz/Bebop");
  CHECK(CategoryKey({"Music", "Jazz"}) == "Music/Jazz");
  CHECK(CategoryKey({}).empty());
}

// --------------------------------------------------------------------- price

TEST_CASE("NormalizeAndValidate bounds price.amount_minor to 0..10^15", "[transaction][price]") {
  Product p = Valid();
  p.price.amount_minor = 0;
  RequireValid(p);
  p.price.amount_minor = 1'000'000'000'000'000;
  RequireValid(p);
  p.price.amount_minor = 1'000'000'000'000'001;
  RequireInvalid(p, "price.amount_minor");
  p.price.amount_minor = -1;
  RequireInvalid(p, "price.amount_minor");
  p.price.amount_minor = INT64_MIN;
  RequireInvalid(p, "price.amount_minor");
  p.price.amount_minor = INT64_MAX;
  RequireInvalid(p, "price.amount_minor");
}

// ---------------------------------------------------------------- attributes

TEST_CASE("NormalizeAndValidate accepts attribute keys [a-z][a-z0-9_]{0,63}",
          "[transaction][attributes]") {
  Product p = Valid();
  p.attributes = {{"a", ""}, {"color", "red"}, {"size_2", "XL"}, {std::string(64, 'k'), "v"},
                  {"v", std::string(500, 'x')}};
  RequireValid(p);
  CHECK(p.attributes.size() == 5);
  CHECK(p.attributes["color"] == "red");  // values are kept as given
}

TEST_CASE("NormalizeAndValidate refuses bad attribute keys on attributes.<key>",
          "[transaction][attributes]") {
  for (const std::string& key : {std::string("Color"), std::string("1abc"), std::string("_x"),
                                 std::string("a-b"), std::string("a.b"), std::string("a b"),
                                 std::string(""), std::string(65, 'k'), std::string("colOr")}) {
    INFO(key);
    Product p = Valid();
    p.attributes = {{key, "v"}};
    RequireInvalid(p, "attributes." + key);
  }
}

TEST_CASE("NormalizeAndValidate limits attribute values to 500 and count to 50",
          "[transaction][attributes]") {
  Product p = Valid();
  p.attributes = {{"notes", std::string(501, 'x')}};
  RequireInvalid(p, "attributes.notes");
  p.attributes.clear();
  for (int i = 0; i < 50; ++i) p.attributes[absl::StrCat("k", i)] = "v";
  RequireValid(p);
  p.attributes["k50"] = "v";
  RequireInvalid(p, "attributes");
}

// --------------------------------------------------------------- SameContent

TEST_CASE("SameContent compares content, not version or times", "[transaction][same_content]") {
  Product a = Valid();
  Product b = a;
  b.version = 7;
  b.create_time = absl::FromUnixSeconds(1);
  b.update_time = absl::FromUnixSeconds(2);
  CHECK(SameContent(a, b));
  CHECK(SameContent(b, a));

  auto differs = [&](auto change) {
    Product c = a;
    change(c);
    return !SameContent(a, c) && !SameContent(c, a);
  };
  CHECK(differs([](Product& c) { c.sku = "SKU-2"; }));
  CHECK(differs([](Product& c) { c.name = "Other"; }));
  CHECK(differs([](Product& c) { c.category_path = {"Music", "Rock"}; }));
  CHECK(differs([](Product& c) { c.category_path.push_back("Bebop"); }));
  CHECK(differs([](Product& c) { c.price.amount_minor += 1; }));
  CHECK(differs([](Product& c) { c.price.currency_code = "EUR"; }));
  CHECK(differs([](Product& c) { c.attributes["format"] = "cd"; }));
  CHECK(differs([](Product& c) { c.attributes["extra"] = ""; }));
  CHECK(differs([](Product& c) { c.attributes.clear(); }));
  CHECK(differs([](Product& c) { c.active = false; }));
}

TEST_CASE("EtagOf is the version", "[transaction][etag]") {
  Product p = Valid();
  p.version = 42;
  CHECK(EtagOf(p) == "42");
  p.version = 43;
  CHECK(EtagOf(p) == "43");
}

// ----------------------------------------------------------- ApplyUpdateMask

void RequireBadMask(const std::vector<std::string>& paths) {
  Product target = Valid();
  Product patch = Valid();
  patch.name = "Patched";
  absl::Status s = ApplyUpdateMask(patch, paths, target);
  INFO(s.ToString());
  REQUIRE(s.code() == absl::StatusCode::kInvalidArgument);
  CHECK(ReasonOf(s) == "INVALID_UPDATE_MASK");
  CHECK(FieldOf(s) == "update_mask");
}

TEST_CASE("ApplyUpdateMask copies only the named fields", "[transaction][update_mask]") {
  Product target = Valid();
  target.version = 3;
  Product patch;
  patch.sku = "IGNORED";
  patch.name = "New name";
  patch.category_path = {"Books", "Poetry"};
  patch.price = {500, "EUR"};
  patch.attributes = {{"format", "cd"}, {"color", "blue"}};
  patch.active = false;

  SECTION("name") {
    REQUIRE(ApplyUpdateMask(patch, {"name"}, target).ok());
    CHECK(target.name == "New name");
    CHECK(target.category_path == std::vector<std::string>{"Music", "Jazz"});
    CHECK(target.price == Money{1990, "CHF"});
    CHECK(target.active);
  }
  SECTION("category_path, price, active") {
    REQUIRE(ApplyUpdateMask(patch, {"category_path", "price", "active"}, target).ok());
    CHECK(target.name == "Kind of Blue");
    CHECK(target.category_path == std::vector<std::string>{"Books", "Poetry"});
    CHECK(target.price == Money{500, "EUR"});
    CHECK_FALSE(target.active);
  }
  SECTION("attributes replaces the whole map") {
    target.attributes["old"] = "x";
    REQUIRE(ApplyUpdateMask(patch, {"attributes"}, target).ok());
    CHECK(target.attributes == patch.attributes);
  }
  SECTION("attributes.<key> sets one key and keeps the others") {
    target.attributes["old"] = "x";
    REQUIRE(ApplyUpdateMask(patch, {"attributes.color"}, target).ok());
    CHECK(target.attributes.size() == 3);
    CHECK(target.attributes["color"] == "blue");
    CHECK(target.attributes["format"] == "vinyl");
    CHECK(target.attributes["old"] == "x");
  }
  SECTION("attributes.<key> absent from the patch removes the key") {
    target.attributes["old"] = "x";
    REQUIRE(ApplyUpdateMask(patch, {"attributes.old"}, target).ok());
    CHECK(target.attributes.count("old") == 0);
    CHECK(target.attributes.count("format") == 1);
  }
  // Never touched by any mask.
  CHECK(target.sku == "SKU-1");
  CHECK(target.version == 3);
}

TEST_CASE("ApplyUpdateMask refuses output-only fields", "[transaction][update_mask]") {
  for (const char* p : {"sku", "etag", "create_time", "update_time"}) {
    INFO(p);
    RequireBadMask({p});
    RequireBadMask({"name", p});
  }
}

TEST_CASE("ApplyUpdateMask refuses unknown paths and invalid attribute keys",
          "[transaction][update_mask]") {
  for (const char* p : {"nmae", "version", "Name", "attributes.", "attributes.Color",
                        "attributes.1x", "attributes.a-b", "attributesx", "", "price.x.y",
                        "categoryPath"}) {
    INFO(p);
    RequireBadMask({p});
  }
}

TEST_CASE("ApplyUpdateMask refuses an empty mask", "[transaction][update_mask]") {
  RequireBadMask({});
}

// ------------------------------------------------------------ write rules

TEST_CASE("ApplyUpdate on a product checks the etag, then mutates a copy",
          "[transaction][product][write]") {
  Product p = Valid();
  p.version = 3;
  p.create_time = absl::FromUnixSeconds(100);
  const Product before = p;
  auto stale = ApplyUpdate(p, "2", [](Product& x) {
    x.name = "Other";
    return absl::OkStatus();
  });
  REQUIRE(stale.status().code() == absl::StatusCode::kAborted);
  CHECK(ReasonOf(stale.status()) == "ETAG_MISMATCH");
  CHECK(p.name == before.name);
  auto refused = ApplyUpdate(p, "", [](Product& x) {
    x.name = "Other";
    return crm::common::InvalidField("price", "bad");
  });
  CHECK(FieldOf(refused.status()) == "price");
  CHECK(p.name == before.name);
  CHECK(p.version == 3);
}

TEST_CASE("ApplyUpdate on a product: no content change writes nothing, else version + 1",
          "[transaction][product][write]") {
  Product p = Valid();
  p.version = 3;
  p.create_time = absl::FromUnixSeconds(100);
  p.update_time = absl::FromUnixSeconds(100);
  auto same = ApplyUpdate(p, "3", [](Product& x) {
    x.update_time = absl::FromUnixSeconds(200);  // times are not content
    return absl::OkStatus();
  });
  REQUIRE(same.ok());
  CHECK_FALSE(*same);
  CHECK(p.version == 3);
  CHECK(p.update_time == absl::FromUnixSeconds(100));
  auto changed = ApplyUpdate(p, "", [](Product& x) {
    x.name = "Renamed";
    x.create_time = absl::FromUnixSeconds(999);  // kept as stored
    x.update_time = absl::FromUnixSeconds(200);
    return absl::OkStatus();
  });
  REQUIRE(changed.ok());
  CHECK(*changed);
  CHECK(p.name == "Renamed");
  CHECK(p.version == 4);
  CHECK(p.create_time == absl::FromUnixSeconds(100));
  CHECK(p.update_time == absl::FromUnixSeconds(200));
}

TEST_CASE("ApplyUpsert creates, updates or leaves a product unchanged",
          "[transaction][product][write]") {
  Product in = Valid();
  in.version = 42;  // not the client's to set
  CHECK(ApplyUpsert(std::nullopt, in) == UpsertOutcome::kCreated);
  CHECK(in.version == 1);

  Product stored = Valid();
  stored.version = 5;
  stored.create_time = absl::FromUnixSeconds(100);
  Product same = Valid();
  same.create_time = absl::FromUnixSeconds(300);
  CHECK(ApplyUpsert(stored, same) == UpsertOutcome::kUnchanged);

  Product changed = Valid();
  changed.price.amount_minor = 2990;
  changed.create_time = absl::FromUnixSeconds(300);
  CHECK(ApplyUpsert(stored, changed) == UpsertOutcome::kUpdated);
  CHECK(changed.version == 6);
  CHECK(changed.create_time == absl::FromUnixSeconds(100));
}

TEST_CASE("ProductExists is ALREADY_EXISTS PRODUCT_EXISTS on sku", "[transaction][product]") {
  absl::Status s = ProductExists("SKU-1");
  CHECK(s.code() == absl::StatusCode::kAlreadyExists);
  CHECK(ReasonOf(s) == "PRODUCT_EXISTS");
  CHECK(FieldOf(s) == "sku");
  CHECK(absl::StrContains(s.message(), "\"SKU-1\""));
}

}  // namespace

// ---------------------------------------------------------------------- Cost

TEST_CASE("A product's cost is in its price's currency", "[transaction][cost]") {
  Product p = Valid();
  p.cost = Money{1200, ""};
  REQUIRE(NormalizeAndValidate(p).ok());
  CHECK(p.cost->currency_code == "CHF");  // empty: the price's
  p.cost = Money{1200, "chf"};
  REQUIRE(NormalizeAndValidate(p).ok());
  CHECK(p.cost->currency_code == "CHF");
  Product other = Valid();
  other.cost = Money{1200, "EUR"};
  RequireInvalid(other, "cost.currency_code");
  Product negative = Valid();
  negative.cost = Money{-1, "CHF"};
  RequireInvalid(negative, "cost.amount_minor");
  // A cost is content: adding, changing or removing it is a change.
  Product a = Valid(), b = Valid();
  b.cost = Money{1200, "CHF"};
  CHECK_FALSE(SameContent(a, b));
  // update_mask "cost" with no cost in the patch removes it.
  Product patch = Valid();
  REQUIRE(ApplyUpdateMask(patch, {"cost"}, b).ok());
  CHECK_FALSE(b.cost.has_value());
  patch.cost = Money{900, "CHF"};
  REQUIRE(ApplyUpdateMask(patch, {"cost"}, b).ok());
  CHECK(b.cost->amount_minor == 900);
}
