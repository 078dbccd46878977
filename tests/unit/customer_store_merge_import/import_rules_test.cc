// Planning and row rules of the bulk import (domain/import_rules.h).
#include "services/customer_store/domain/import_rules.h"

#include <catch2/catch.hpp>
#include <algorithm>
#include <map>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "libs/common/errors.h"
#include "services/customer_store/domain/rules.h"

namespace {

using namespace crm::customer_store::domain;  // NOLINT
using crm::common::FieldOf;
using crm::common::ReasonOf;

constexpr char kOwnerA[] = "00000000-0000-4000-8000-0000000000aa";
constexpr char kOwnerB[] = "00000000-0000-4000-8000-0000000000bb";

ImportRow Row(int64_t line, std::vector<std::string> emails, std::vector<std::string> phones = {},
              std::vector<ExternalId> ext = {}) {
  ImportRow r;
  r.line = line;
  r.customer.id = absl::StrCat("00000000-0000-4000-8000-", 100000000000 + line);
  r.customer.given_name = absl::StrCat("Row", line);
  r.customer.emails = std::move(emails);
  r.customer.phones = std::move(phones);
  r.customer.external_ids = std::move(ext);
  r.present_paths = {"given_name"};
  return r;
}

IdentityKey Email(const std::string& e) { return {static_cast<int>(IdentityKind::kEmail), "", e}; }
IdentityKey Phone(const std::string& p) { return {static_cast<int>(IdentityKind::kPhone), "", p}; }
IdentityKey Ext(const std::string& s, const std::string& v) {
  return {static_cast<int>(IdentityKind::kExternalId), s, v};
}

TEST_CASE("IdentityKeysOf lists every identity with its kind", "[import_rules]") {
  Customer c;
  c.emails = {"a@example.com"};
  c.phones = {"+41446681800"};
  c.external_ids = {{"erp", "E-1"}};
  std::vector<IdentityKey> keys = IdentityKeysOf(c);
  REQUIRE(keys.size() == 3);
  CHECK(std::count(keys.begin(), keys.end(), Email("a@example.com")) == 1);
  CHECK(std::count(keys.begin(), keys.end(), Phone("+41446681800")) == 1);
  CHECK(std::count(keys.begin(), keys.end(), Ext("erp", "E-1")) == 1);
}

TEST_CASE("PlanImport creates rows without owners and updates rows matching one owner",
          "[import_rules]") {
  std::vector<ImportRow> rows = {
      Row(1, {"new@example.com"}),
      Row(2, {"known@example.com"}),
      Row(3, {}, {"+41446681800"}),
      Row(4, {}, {}, {{"erp", "E-7"}}),
      Row(5, {"other@example.com"}, {"+41446681801"}),  // both owned by B
  };
  std::map<IdentityKey, std::string> owners = {
      {Email("known@example.com"), kOwnerA},
      {Phone("+41446681800"), "00000000-0000-4000-8000-0000000000cc"},
      {Ext("erp", "E-7"), "00000000-0000-4000-8000-0000000000dd"},
      {Email("other@example.com"), kOwnerB},
      {Phone("+41446681801"), kOwnerB},
  };
  ImportPlan p = PlanImport(rows, owners);
  CHECK(p.errors.empty());
  CHECK(p.creates == std::vector<size_t>{0});
  REQUIRE(p.updates.size() == 4);
  CHECK(p.updates[0] == std::make_pair(size_t{1}, std::string(kOwnerA)));
  CHECK(p.updates[1] ==
        std::make_pair(size_t{2}, std::string("00000000-0000-4000-8000-0000000000cc")));
  CHECK(p.updates[2] ==
        std::make_pair(size_t{3}, std::string("00000000-0000-4000-8000-0000000000dd")));
  CHECK(p.updates[3] == std::make_pair(size_t{4}, std::string(kOwnerB)));
}

TEST_CASE("PlanImport: identities of two owners is IDENTITY_TAKEN", "[import_rules]") {
  std::vector<ImportRow> rows = {Row(7, {"a@example.com", "b@example.com"}), Row(8, {"c@example.com"})};
  std::map<IdentityKey, std::string> owners = {{Email("a@example.com"), kOwnerA},
                                               {Email("b@example.com"), kOwnerB}};
  ImportPlan p = PlanImport(rows, owners);
  REQUIRE(p.errors.size() == 1);
  CHECK(p.errors[0].line == 7);
  CHECK(p.errors[0].reason == "IDENTITY_TAKEN");
  CHECK(p.updates.empty());
  CHECK(p.creates == std::vector<size_t>{1});
}

TEST_CASE("PlanImport: an identity repeated in the batch fails the later line", "[import_rules]") {
  std::vector<ImportRow> rows = {Row(1, {"dup@example.com"}), Row(2, {"x@example.com"}),
                                 Row(3, {"y@example.com", "dup@example.com"}),
                                 Row(4, {}, {"+41446681800"}), Row(5, {}, {"+41446681800"})};
  ImportPlan p = PlanImport(rows, {});
  REQUIRE(p.errors.size() == 2);
  CHECK(p.errors[0].line == 3);
  CHECK(p.errors[0].reason == "IDENTITY_TAKEN");
  CHECK(p.errors[0].message.find("line 1") != std::string::npos);
  CHECK(p.errors[1].line == 5);
  CHECK(p.errors[1].reason == "IDENTITY_TAKEN");
  CHECK(p.errors[1].message.find("line 4") != std::string::npos);
  CHECK(p.creates == std::vector<size_t>{0, 1, 3});
  CHECK(p.updates.empty());
}

TEST_CASE("PlanImport: an identity repeated in the batch also fails on an existing owner",
          "[import_rules]") {
  std::vector<ImportRow> rows = {Row(10, {"known@example.com"}), Row(11, {"known@example.com"})};
  ImportPlan p = PlanImport(rows, {{Email("known@example.com"), kOwnerA}});
  REQUIRE(p.updates.size() == 1);
  CHECK(p.updates[0].first == 0);
  REQUIRE(p.errors.size() == 1);
  CHECK(p.errors[0].line == 11);
  CHECK(p.errors[0].reason == "IDENTITY_TAKEN");
}

TEST_CASE("PlanImport: two rows updating the same customer fails the later one",
          "[import_rules]") {
  std::vector<ImportRow> rows = {Row(1, {"a@example.com"}), Row(2, {}, {"+41446681800"}),
                                 Row(3, {"fresh@example.com"})};
  std::map<IdentityKey, std::string> owners = {{Email("a@example.com"), kOwnerA},
                                               {Phone("+41446681800"), kOwnerA}};
  ImportPlan p = PlanImport(rows, owners);
  REQUIRE(p.updates.size() == 1);
  CHECK(p.updates[0] == std::make_pair(size_t{0}, std::string(kOwnerA)));
  REQUIRE(p.errors.size() == 1);
  CHECK(p.errors[0].line == 2);
  CHECK(p.errors[0].reason == "IDENTITY_TAKEN");
  CHECK(p.errors[0].message.find("line 1") != std::string::npos);
  CHECK(p.creates == std::vector<size_t>{2});
}

TEST_CASE("PlanImport: rows without identities always create", "[import_rules]") {
  std::vector<ImportRow> rows = {Row(1, {}), Row(2, {})};
  ImportPlan p = PlanImport(rows, {{Email("a@example.com"), kOwnerA}});
  CHECK(p.errors.empty());
  CHECK(p.creates == std::vector<size_t>{0, 1});
}

Customer Existing() {
  Customer c;
  c.id = kOwnerA;
  c.given_name = "Ada";
  c.family_name = "Lovelace";
  c.locale = "de-CH";
  c.emails = {"ada@example.com"};
  c.phones = {"+41446681800"};
  c.attributes = {{"tier", std::string("gold")}, {"score", int64_t{1}}};
  c.version = 4;
  return c;
}

TEST_CASE("ApplyImportRow patches only the fields the row sets and unites identities",
          "[import_rules]") {
  ImportRow row;
  row.line = 3;
  row.customer.given_name = "Augusta";
  row.customer.family_name = "";  // not present: must not clear
  row.customer.emails = {"countess@example.com"};
  row.customer.external_ids = {{"erp", "E-1"}};
  row.customer.attributes = {{"score", int64_t{5}}};
  row.present_paths = {"given_name", "attributes.score"};
  Customer c = Existing();
  absl::Status s = ApplyImportRow(row, c);
  INFO(s.ToString());
  REQUIRE(s.ok());
  CHECK(c.id == kOwnerA);
  CHECK(c.given_name == "Augusta");
  CHECK(c.family_name == "Lovelace");
  CHECK(c.locale == "de-CH");
  CHECK(std::get<int64_t>(c.attributes.at("score")) == 5);
  CHECK(std::get<std::string>(c.attributes.at("tier")) == "gold");
  CHECK(c.emails == std::vector<std::string>{"ada@example.com", "countess@example.com"});
  CHECK(c.phones == std::vector<std::string>{"+41446681800"});
  CHECK(c.external_ids == std::vector<ExternalId>{{"erp", "E-1"}});
}

TEST_CASE("ApplyImportRow with identities only changes no profile field", "[import_rules]") {
  ImportRow row;
  row.line = 1;
  row.customer.phones = {"+41446681800", "+14155550100"};
  Customer c = Existing();
  REQUIRE(ApplyImportRow(row, c).ok());
  CHECK(c.given_name == "Ada");
  CHECK(c.phones == std::vector<std::string>{"+41446681800", "+14155550100"});
}

TEST_CASE("ApplyImportRow validation errors name the field", "[import_rules]") {
  SECTION("locale") {
    ImportRow row;
    row.line = 9;
    row.customer.locale = "not a locale!";
    row.present_paths = {"locale"};
    Customer c = Existing();
    absl::Status s = ApplyImportRow(row, c);
    CHECK(s.code() == absl::StatusCode::kInvalidArgument);
    CHECK(FieldOf(s) == "locale");
    CHECK(ReasonOf(s) == "INVALID_FIELD");
    ImportError e = RowError(row.line, s);
    CHECK(e.line == 9);
    CHECK(e.field == "locale");
    CHECK(e.reason == "INVALID_FIELD");
    CHECK_FALSE(e.message.empty());
  }
  SECTION("attribute") {
    ImportRow row;
    row.line = 2;
    row.customer.attributes = {{"tier", std::string(5000, 'x')}};
    row.present_paths = {"attributes.tier"};
    Customer c = Existing();
    absl::Status s = ApplyImportRow(row, c);
    CHECK(FieldOf(s) == "attributes.tier");
  }
  SECTION("too many phones after the union names phones") {
    Customer c = Existing();
    c.phones.clear();
    for (int i = 0; i < kMaxIdentitiesPerKind; ++i) c.phones.push_back(absl::StrCat("+4144668180", i % 10, i / 10));
    REQUIRE(NormalizeAndValidate(c).ok());
    ImportRow row;
    row.line = 4;
    row.customer.phones = {"+14155550100"};
    absl::Status s = ApplyImportRow(row, c);
    CHECK(s.code() == absl::StatusCode::kInvalidArgument);
    CHECK(FieldOf(s) == "phones");
  }
}

TEST_CASE("RowError takes field and reason from the status, INVALID_FIELD by default",
          "[import_rules]") {
  ImportError e = RowError(12, crm::common::WithReason(absl::InvalidArgumentError("bad json"),
                                                       "MALFORMED_BODY"));
  CHECK(e.line == 12);
  CHECK(e.field.empty());
  CHECK(e.reason == "MALFORMED_BODY");
  CHECK(e.message == "bad json");
  ImportError plain = RowError(3, absl::InvalidArgumentError("x"));
  CHECK(plain.reason == "INVALID_FIELD");
  CHECK(plain.line == 3);
}

TEST_CASE("IsValidBatchId: 1..128 of [A-Za-z0-9._-]", "[import_rules]") {
  CHECK(IsValidBatchId("a"));
  CHECK(IsValidBatchId("erp-2024.01_05"));
  CHECK(IsValidBatchId(std::string(128, 'x')));
  CHECK(IsValidBatchId("ABC.def-123_"));
  CHECK_FALSE(IsValidBatchId(""));
  CHECK_FALSE(IsValidBatchId(std::string(129, 'x')));
  for (const char* bad : {"a b", "a/b", "a:b", "ä", "a\nb", "a%20", "a+b", "batch#1"}) {
    INFO(bad);
    CHECK_FALSE(IsValidBatchId(bad));
  }
}

}  // namespace
