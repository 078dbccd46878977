// Pure validation and normalization rules of the customer store.
#include "services/customer_store/domain/rules.h"

#include <catch2/catch.hpp>
#include <cmath>
#include <cstdint>
#include <functional>
#include <limits>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "libs/common/errors.h"

namespace {

using namespace crm::customer_store::domain;  // NOLINT
using crm::common::FieldOf;
using crm::common::ReasonOf;

std::string Normalized(const absl::StatusOr<std::string>& s) {
  REQUIRE(s.ok());
  return *s;
}

TEST_CASE("NormalizeEmail trims, lower-cases and rejects bad shapes", "[customer_store][domain]") {
  SECTION("normalizes") {
    CHECK(Normalized(NormalizeEmail("  Alice.Smith@Example.COM \t")) == "alice.smith@example.com");
    CHECK(Normalized(NormalizeEmail("a+tag@sub.example.ch")) == "a+tag@sub.example.ch");
  }
  SECTION("rejects") {
    for (const char* bad : {"", "   ", "no-at-sign.example.com", "@example.com", "a@b@example.com",
                            "a@localhost", "a@.example.com", "a@example.com.", "a@example..com",
                            "a b@example.com", "a@exa_mple.com", "<a>@example.com",
                            "a@example.com;"}) {
      INFO(bad);
      auto r = NormalizeEmail(bad);
      REQUIRE_FALSE(r.ok());
      CHECK(r.status().code() == absl::StatusCode::kInvalidArgument);
    }
  }
  SECTION("length limits") {
    std::string local64(64, 'a');
    CHECK(NormalizeEmail(local64 + "@example.com").ok());
    CHECK_FALSE(NormalizeEmail(local64 + "a@example.com").ok());
    std::string long_domain;
    while (long_domain.size() < 250) long_domain += "abcdefghi.";
    long_domain += "ch";  // "a@" + 252 = 254 characters: the limit
    CHECK(NormalizeEmail("a@" + long_domain).ok());
    CHECK_FALSE(NormalizeEmail("ab@" + long_domain).ok());
  }
}

TEST_CASE("NormalizePhone produces E.164", "[customer_store][domain]") {
  SECTION("accepts formatting and 00 prefix") {
    CHECK(Normalized(NormalizePhone("+41 44 668 18 00")) == "+41446681800");
    CHECK(Normalized(NormalizePhone("0041 (44) 668-18.00")) == "+41446681800");
    CHECK(Normalized(NormalizePhone(" +1 415/555-0100 ")) == "+14155550100");
  }
  SECTION("national numbers are refused with a hint") {
    auto r = NormalizePhone("044 668 18 00");
    REQUIRE_FALSE(r.ok());
    CHECK(r.status().code() == absl::StatusCode::kInvalidArgument);
    CHECK(std::string(r.status().message()).find("country code") != std::string::npos);
  }
  SECTION("digit count and leading zero") {
    CHECK(Normalized(NormalizePhone("+12345678")) == "+12345678");        // 8 digits
    CHECK_FALSE(NormalizePhone("+1234567").ok());                          // 7
    CHECK(Normalized(NormalizePhone("+123456789012345")) == "+123456789012345");  // 15
    CHECK_FALSE(NormalizePhone("+1234567890123456").ok());                 // 16
    CHECK_FALSE(NormalizePhone("+0441234567").ok());
    CHECK_FALSE(NormalizePhone("").ok());
    CHECK_FALSE(NormalizePhone("+41 44 abc").ok());
    CHECK_FALSE(NormalizePhone("+41+446681800").ok());
  }
}

TEST_CASE("ValidateExternalId, ValidateDate, keys and locales", "[customer_store][domain]") {
  SECTION("external ids") {
    CHECK(ValidateExternalId({"shopify", "12345"}).ok());
    CHECK(ValidateExternalId({"erp_v2.sap-1", "X"}).ok());
    CHECK_FALSE(ValidateExternalId({"", "1"}).ok());
    CHECK_FALSE(ValidateExternalId({"Shopify", "1"}).ok());
    CHECK_FALSE(ValidateExternalId({"shop ify", "1"}).ok());
    CHECK_FALSE(ValidateExternalId({"shopify", ""}).ok());
    CHECK(ValidateExternalId({"shopify", std::string(128, 'v')}).ok());
    CHECK_FALSE(ValidateExternalId({"shopify", std::string(129, 'v')}).ok());
  }
  SECTION("dates") {
    CHECK(ValidateDate({1990, 5, 17}, "birthday").ok());
    CHECK(ValidateDate({0, 2, 29}, "birthday").ok());  // unknown year: leap day accepted
    CHECK(ValidateDate({2024, 2, 29}, "birthday").ok());
    absl::Status s = ValidateDate({2023, 2, 29}, "birthday");
    CHECK(s.code() == absl::StatusCode::kInvalidArgument);
    CHECK(FieldOf(s) == "birthday");
    CHECK(FieldOf(ValidateDate({1899, 1, 1}, "anniversaries[0]")) == "anniversaries[0]");
    CHECK_FALSE(ValidateDate({2201, 1, 1}, "birthday").ok());
    CHECK_FALSE(ValidateDate({2000, 13, 1}, "birthday").ok());
    CHECK_FALSE(ValidateDate({2000, 0, 1}, "birthday").ok());
    CHECK_FALSE(ValidateDate({2000, 4, 31}, "birthday").ok());
    CHECK_FALSE(ValidateDate({2000, 4, 0}, "birthday").ok());
  }
  SECTION("attribute keys") {
    CHECK(IsValidAttributeKey("a"));
    CHECK(IsValidAttributeKey("loyalty_tier_2"));
    CHECK(IsValidAttributeKey(std::string(64, 'k')));
    CHECK_FALSE(IsValidAttributeKey(std::string(65, 'k')));
    CHECK_FALSE(IsValidAttributeKey(""));
    CHECK_FALSE(IsValidAttributeKey("2fa"));
    CHECK_FALSE(IsValidAttributeKey("_x"));
    CHECK_FALSE(IsValidAttributeKey("Tier"));
    CHECK_FALSE(IsValidAttributeKey("a-b"));
    CHECK_FALSE(IsValidAttributeKey("a.b"));
  }
  SECTION("locales") {
    CHECK(IsValidLocale("en"));
    CHECK(IsValidLocale("de-CH"));
    CHECK(IsValidLocale("zh-Hant-TW"));
    CHECK_FALSE(IsValidLocale(""));
    CHECK_FALSE(IsValidLocale("e"));
    CHECK_FALSE(IsValidLocale("engl"));
    CHECK_FALSE(IsValidLocale("de-"));
    CHECK_FALSE(IsValidLocale("12-CH"));
    CHECK_FALSE(IsValidLocale("de CH"));
    CHECK_FALSE(IsValidLocale("de-abcdefghi"));
  }
}

Customer Valid() {
  Customer c;
  c.given_name = "  Ada ";
  c.family_name = "Lovelace";
  c.emails = {"Ada@Example.com", "ada@example.com ", "ada@work.example.org"};
  c.phones = {"+41 44 668 18 00", "0041446681800"};
  c.external_ids = {{"shopify", "1"}, {"shopify", "1"}, {"erp", "1"}};
  return c;
}

TEST_CASE("NormalizeAndValidate normalizes and names the failing field",
          "[customer_store][domain]") {
  SECTION("normalizes and dedupes identities, keeping order") {
    Customer c = Valid();
    c.postal_address = PostalAddress{{"Bahnhofstrasse 1"}, "Zurich", "", "8001", "ch"};
    REQUIRE(NormalizeAndValidate(c).ok());
    CHECK(c.given_name == "Ada");
    CHECK(c.emails == std::vector<std::string>{"ada@example.com", "ada@work.example.org"});
    CHECK(c.phones == std::vector<std::string>{"+41446681800"});
    CHECK(c.external_ids == std::vector<ExternalId>{{"shopify", "1"}, {"erp", "1"}});
    REQUIRE(c.postal_address.has_value());
    CHECK(c.postal_address->country_code == "CH");
  }
  SECTION("an empty address is dropped") {
    Customer c = Valid();
    c.postal_address = PostalAddress{};
    REQUIRE(NormalizeAndValidate(c).ok());
    CHECK_FALSE(c.postal_address.has_value());
  }
  struct Case {
    const char* name;
    std::function<void(Customer&)> edit;
    const char* field;
  };
  std::vector<Case> cases = {
      {"bad second email", [](Customer& c) { c.emails = {"a@example.com", "nope"}; }, "emails[1]"},
      {"bad phone", [](Customer& c) { c.phones = {"12345"}; }, "phones[0]"},
      {"bad external id", [](Customer& c) { c.external_ids = {{"erp", "1"}, {"", "x"}}; },
       "external_ids[1]"},
      {"long given name", [](Customer& c) { c.given_name = std::string(201, 'x'); }, "given_name"},
      {"long owner", [](Customer& c) { c.owner = std::string(201, 'x'); }, "owner"},
      {"country code", [](Customer& c) { c.postal_address = PostalAddress{{}, "", "", "", "CHE"}; },
       "postal_address.country_code"},
      {"six address lines",
       [](Customer& c) { c.postal_address = PostalAddress{{"1", "2", "3", "4", "5", "6"}, "", "", "", ""}; },
       "postal_address.lines"},
      {"birthday", [](Customer& c) { c.birthday = Date{2001, 2, 29}; }, "birthday"},
      {"anniversary label", [](Customer& c) { c.anniversaries = {{"", {2000, 1, 1}}}; },
       "anniversaries[0]"},
      {"anniversary date",
       [](Customer& c) { c.anniversaries = {{"wedding", {2000, 1, 1}}, {"first order", {2000, 6, 31}}}; },
       "anniversaries[1]"},
      {"locale", [](Customer& c) { c.locale = "english"; }, "locale"},
      {"time zone", [](Customer& c) { c.time_zone = "Mars/Olympus"; }, "time_zone"},
      {"lifecycle stage", [](Customer& c) { c.lifecycle_stage = static_cast<LifecycleStage>(7); },
       "lifecycle_stage"},
      {"attribute key", [](Customer& c) { c.attributes["Bad-Key"] = std::string("x"); },
       "attributes.Bad-Key"},
      {"attribute string length",
       [](Customer& c) { c.attributes["note"] = std::string(2001, 'x'); }, "attributes.note"},
      {"attribute NaN", [](Customer& c) { c.attributes["score"] = std::nan(""); },
       "attributes.score"},
      {"attribute infinity",
       [](Customer& c) { c.attributes["score"] = std::numeric_limits<double>::infinity(); },
       "attributes.score"},
  };
  for (const Case& k : cases) {
    SECTION(k.name) {
      Customer c = Valid();
      k.edit(c);
      absl::Status s = NormalizeAndValidate(c);
      CHECK(s.code() == absl::StatusCode::kInvalidArgument);
      CHECK(FieldOf(s) == k.field);
      CHECK(ReasonOf(s) == "INVALID_FIELD");
    }
  }
  SECTION("limits") {
    Customer c;
    for (int i = 0; i < 21; ++i) c.emails.push_back(absl::StrCat("u", i, "@example.com"));
    CHECK(NormalizeAndValidate(c).code() == absl::StatusCode::kInvalidArgument);
    Customer ok;
    for (int i = 0; i < 20; ++i) ok.emails.push_back(absl::StrCat("u", i, "@example.com"));
    ok.emails.push_back("U0@example.com");  // a duplicate after normalization
    CHECK(NormalizeAndValidate(ok).ok());
    CHECK(ok.emails.size() == 20);
    Customer many;
    for (int i = 0; i < 101; ++i) many.attributes[absl::StrCat("k", i)] = int64_t{i};
    CHECK(FieldOf(NormalizeAndValidate(many)) == "attributes");
    Customer zone;
    zone.time_zone = "Europe/Zurich";
    zone.locale = "de-CH";
    zone.given_name = std::string(200, 'x');
    CHECK(NormalizeAndValidate(zone).ok());
  }
}

TEST_CASE("ApplyUpdateMask copies the named paths only", "[customer_store][domain]") {
  Customer target;
  target.given_name = "Old";
  target.family_name = "Keep";
  target.emails = {"old@example.com"};
  target.attributes = {{"tier", std::string("gold")}, {"visits", int64_t{3}}};
  Customer patch;
  patch.given_name = "New";
  patch.family_name = "Ignored";
  patch.emails = {"new@example.com"};
  patch.lifecycle_stage = LifecycleStage::kCustomer;
  patch.attributes = {{"visits", int64_t{4}}, {"vip", true}};

  SECTION("plain fields") {
    REQUIRE(ApplyUpdateMask(patch, {"given_name", "emails", "lifecycle_stage"}, target).ok());
    CHECK(target.given_name == "New");
    CHECK(target.family_name == "Keep");
    CHECK(target.emails == std::vector<std::string>{"new@example.com"});
    CHECK(target.lifecycle_stage == LifecycleStage::kCustomer);
  }
  SECTION("attributes.<key> sets, a missing key removes") {
    REQUIRE(ApplyUpdateMask(patch, {"attributes.visits", "attributes.tier"}, target).ok());
    CHECK(target.attributes.size() == 1);
    CHECK(std::get<int64_t>(target.attributes.at("visits")) == 4);
    CHECK(target.attributes.count("tier") == 0);
    CHECK(target.attributes.count("vip") == 0);
  }
  SECTION("attributes replaces the whole map") {
    REQUIRE(ApplyUpdateMask(patch, {"attributes"}, target).ok());
    CHECK(target.attributes == patch.attributes);
  }
  SECTION("postal_address and birthday can be cleared") {
    target.postal_address = PostalAddress{{"x"}, "y", "", "", ""};
    target.birthday = Date{2000, 1, 1};
    REQUIRE(ApplyUpdateMask(patch, {"postal_address", "birthday"}, target).ok());
    CHECK_FALSE(target.postal_address.has_value());
    CHECK_FALSE(target.birthday.has_value());
  }
  for (const char* bad : {"id", "etag", "create_time", "update_time", "nickname",
                          "attributes.Bad", "attributes.", "given_name.x", ""}) {
    SECTION(std::string("refuses path '") + bad + "'") {
      absl::Status s = ApplyUpdateMask(patch, {bad}, target);
      CHECK(s.code() == absl::StatusCode::kInvalidArgument);
      CHECK(ReasonOf(s) == "INVALID_UPDATE_MASK");
      CHECK(FieldOf(s) == "update_mask");
    }
  }
  SECTION("an empty mask is refused") {
    absl::Status s = ApplyUpdateMask(patch, {}, target);
    CHECK(s.code() == absl::StatusCode::kInvalidArgument);
    CHECK(ReasonOf(s) == "INVALID_UPDATE_MASK");
  }
}

Consent Rec(ConsentChannel ch, ConsentPurpose p, ConsentStatus s, int64_t secs) {
  Consent c;
  c.channel = ch;
  c.purpose = p;
  c.status = s;
  c.record_time = absl::FromUnixSeconds(secs);
  return c;
}

TEST_CASE("CurrentConsents keeps the newest record per channel and purpose",
          "[customer_store][domain]") {
  std::vector<Consent> history = {
      Rec(ConsentChannel::kSms, ConsentPurpose::kMarketing, ConsentStatus::kOptedIn, 300),
      Rec(ConsentChannel::kEmail, ConsentPurpose::kMarketing, ConsentStatus::kOptedOut, 200),
      Rec(ConsentChannel::kEmail, ConsentPurpose::kMarketing, ConsentStatus::kOptedIn, 100),
      Rec(ConsentChannel::kEmail, ConsentPurpose::kProfiling, ConsentStatus::kPending, 50),
      Rec(ConsentChannel::kSms, ConsentPurpose::kMarketing, ConsentStatus::kOptedOut, 100),
  };
  std::vector<Consent> current = CurrentConsents(history);
  REQUIRE(current.size() == 3);
  CHECK(current[0].channel == ConsentChannel::kEmail);
  CHECK(current[0].purpose == ConsentPurpose::kMarketing);
  CHECK(current[0].status == ConsentStatus::kOptedOut);
  CHECK(current[1].channel == ConsentChannel::kEmail);
  CHECK(current[1].purpose == ConsentPurpose::kProfiling);
  CHECK(current[2].channel == ConsentChannel::kSms);
  CHECK(current[2].status == ConsentStatus::kOptedIn);
  CHECK(CurrentConsents({}).empty());
}

TEST_CASE("ValidateConsent and ValidateInteraction name the field", "[customer_store][domain]") {
  SECTION("consent") {
    Consent c = Rec(ConsentChannel::kEmail, ConsentPurpose::kMarketing, ConsentStatus::kOptedIn, 1);
    CHECK(ValidateConsent(c).ok());
    Consent bad = c;
    bad.channel = ConsentChannel::kUnspecified;
    CHECK(FieldOf(ValidateConsent(bad)) == "consent.channel");
    bad = c;
    bad.purpose = static_cast<ConsentPurpose>(4);
    CHECK(FieldOf(ValidateConsent(bad)) == "consent.purpose");
    bad = c;
    bad.status = ConsentStatus::kUnspecified;
    CHECK(FieldOf(ValidateConsent(bad)) == "consent.status");
    bad = c;
    bad.source = std::string(129, 's');
    CHECK(FieldOf(ValidateConsent(bad)) == "consent.source");
    bad = c;
    bad.policy_version = std::string(65, 'v');
    CHECK(FieldOf(ValidateConsent(bad)) == "consent.policy_version");
  }
  SECTION("interaction") {
    Interaction i;
    i.kind = InteractionKind::kCall;
    CHECK(ValidateInteraction(i).ok());
    Interaction bad = i;
    bad.kind = static_cast<InteractionKind>(11);
    CHECK(FieldOf(ValidateInteraction(bad)) == "interaction.kind");
    bad = i;
    bad.summary = std::string(4001, 's');
    CHECK(FieldOf(ValidateInteraction(bad)) == "interaction.summary");
    bad = i;
    bad.payload_json = std::string(64 * 1024 + 1, ' ');
    CHECK(FieldOf(ValidateInteraction(bad)) == "interaction.payload");
    bad = i;
    bad.actor = std::string(129, 'a');
    CHECK(FieldOf(ValidateInteraction(bad)) == "interaction.actor");
    bad = i;
    bad.channel = std::string(129, 'c');
    CHECK(FieldOf(ValidateInteraction(bad)) == "interaction.channel");
  }
}

TEST_CASE("IdentitiesOf flattens emails, phones and external ids", "[customer_store][domain]") {
  Customer c;
  c.emails = {"a@example.com"};
  c.phones = {"+41446681800", "+14155550100"};
  c.external_ids = {{"shopify", "77"}};
  std::vector<Identity> ids = IdentitiesOf(c);
  REQUIRE(ids.size() == 4);
  CHECK(ids[0].kind == IdentityKind::kEmail);
  CHECK(ids[0].value == "a@example.com");
  CHECK(ids[2].kind == IdentityKind::kPhone);
  CHECK(ids[2].value == "+14155550100");
  CHECK(ids[3].kind == IdentityKind::kExternalId);
  CHECK(ids[3].value == "77");
  CHECK(ids[3].source == "shopify");
  CHECK(IdentitiesOf(Customer{}).empty());
  CHECK(EtagOf(Customer{}) == "0");
}

}  // namespace

TEST_CASE("Text with a NUL byte is refused with its field, never truncated",
          "[customer_store][domain]") {
  using crm::customer_store::domain::Customer;
  using crm::customer_store::domain::Interaction;
  using crm::customer_store::domain::InteractionKind;
  SECTION("a name") {
    Customer c;
    c.given_name = std::string("Ad\0a", 4);
    absl::Status s = crm::customer_store::domain::NormalizeAndValidate(c);
    CHECK(s.code() == absl::StatusCode::kInvalidArgument);
    CHECK(crm::common::FieldOf(s) == "given_name");
  }
  SECTION("a string attribute") {
    Customer c;
    c.attributes["note"] = std::string("x\0y", 3);
    absl::Status s = crm::customer_store::domain::NormalizeAndValidate(c);
    CHECK(crm::common::FieldOf(s) == "attributes.note");
  }
  SECTION("an interaction payload carrying \\u0000") {
    Interaction i;
    i.kind = InteractionKind::kNote;
    i.payload_json = R"({"a":"x\u0000y"})";
    absl::Status s = crm::customer_store::domain::ValidateInteraction(i);
    CHECK(crm::common::FieldOf(s) == "interaction.payload");
  }
}

TEST_CASE("SameContent compares every field a write may change, not id, version or times",
          "[customer_store][domain]") {
  using namespace crm::customer_store::domain;  // NOLINT
  Customer a;
  a.id = "a";
  a.given_name = "Ada";
  a.emails = {"ada@example.com"};
  a.postal_address = PostalAddress{{"1 Main St"}, "Zurich", "", "8000", "CH"};
  a.birthday = Date{1815, 12, 10};
  a.anniversaries = {{"wedding", Date{0, 7, 8}}};
  a.attributes["seen"] = absl::FromUnixMicros(1700000000000001);
  a.attributes["score"] = int64_t{3};
  Customer b = a;
  b.id = "b";
  b.version = 7;
  b.create_time = b.update_time = absl::Now();
  CHECK(SameContent(a, b));
  // Times as stored: microseconds.
  b.attributes["seen"] = absl::FromUnixMicros(1700000000000001) + absl::Nanoseconds(300);
  CHECK(SameContent(a, b));
  const std::vector<std::function<void(Customer&)>> changes = {
      [](Customer& c) { c.given_name = "Augusta"; },
      [](Customer& c) { c.family_name = "King"; },
      [](Customer& c) { c.display_name = "A"; },
      [](Customer& c) { c.emails.push_back("b@example.com"); },
      [](Customer& c) { c.phones = {"+41446681800"}; },
      [](Customer& c) {
        c.external_ids = {{"erp", "1"}};
      },
      [](Customer& c) { c.postal_address->locality = "Bern"; },
      [](Customer& c) { c.postal_address.reset(); },
      [](Customer& c) {
        c.birthday = Date{1815, 12, 11};
      },
      [](Customer& c) { c.anniversaries[0].label = "other"; },
      [](Customer& c) { c.locale = "de-CH"; },
      [](Customer& c) { c.time_zone = "Europe/Zurich"; },
      [](Customer& c) { c.lifecycle_stage = LifecycleStage::kLead; },
      [](Customer& c) { c.owner = "someone"; },
      [](Customer& c) { c.attributes["score"] = int64_t{4}; },
      [](Customer& c) { c.attributes["score"] = std::string("4"); },
      [](Customer& c) { c.attributes["seen"] = absl::FromUnixMicros(1700000000000002); },
      [](Customer& c) { c.attributes.erase("score"); },
  };
  for (size_t n = 0; n < changes.size(); ++n) {
    Customer changed = a;
    changes[n](changed);
    INFO("change " << n);
    CHECK_FALSE(SameContent(a, changed));
  }
}

TEST_CASE("CheckIfMatch: an empty if_match or the etag passes, another is ETAG_MISMATCH",
          "[customer_store][domain]") {
  using namespace crm::customer_store::domain;  // NOLINT
  Customer c;
  c.version = 3;
  CHECK(CheckIfMatch(c, "").ok());
  CHECK(CheckIfMatch(c, EtagOf(c)).ok());
  absl::Status s = CheckIfMatch(c, "2");
  CHECK(s.code() == absl::StatusCode::kAborted);
  CHECK(crm::common::ReasonOf(s) == "ETAG_MISMATCH");
  CHECK(crm::common::ReasonOf(CheckErasureIfMatch(c, "2")) == "ETAG_MISMATCH");
  CHECK(CheckErasureIfMatch(c, "3").ok());
}
