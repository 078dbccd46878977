// Survivorship rules of merge and unmerge (domain/merge_rules.h).
#include "services/customer_store/domain/merge_rules.h"

#include <catch2/catch.hpp>
#include <algorithm>
#include <string>
#include <tuple>
#include <vector>

#include "absl/time/time.h"
#include "services/customer_store/domain/rules.h"

namespace {

using namespace crm::customer_store::domain;  // NOLINT

bool Has(const std::vector<std::string>& v, const std::string& x) {
  return std::find(v.begin(), v.end(), x) != v.end();
}

Customer Survivor() {
  Customer c;
  c.id = "00000000-0000-4000-8000-00000000000a";
  c.given_name = "Ada";
  c.emails = {"ada@example.com"};
  c.phones = {"+41446681800"};
  c.external_ids = {{"erp", "A-1"}};
  c.locale = "de-CH";
  c.attributes = {{"tier", std::string("gold")}, {"score", int64_t{10}}};
  c.anniversaries = {{"wedding", {2010, 6, 12}}};
  c.version = 3;
  return c;
}

Customer Source() {
  Customer c;
  c.id = "00000000-0000-4000-8000-00000000000b";
  c.given_name = "Adelheid";  // survivor's is non-empty: kept
  c.family_name = "Lovelace";
  c.display_name = "Countess";
  c.emails = {"countess@example.com", "ada@example.com"};
  c.phones = {"+14155550100"};
  c.external_ids = {{"shop", "S-9"}, {"erp", "A-1"}};
  c.postal_address = PostalAddress{{"Main St 1"}, "Zürich", "ZH", "8001", "CH"};
  c.birthday = Date{1815, 12, 10};
  c.locale = "en-GB";                // survivor's kept
  c.time_zone = "Europe/London";     // filled
  c.lifecycle_stage = LifecycleStage::kCustomer;
  c.owner = "user:7";
  c.attributes = {{"tier", std::string("silver")}, {"vip", true}};
  c.anniversaries = {{"wedding", {2011, 1, 1}}, {"first_purchase", {2020, 2, 2}}};
  c.version = 9;
  return c;
}

TEST_CASE("PlanMerge keeps the survivor's non-empty fields", "[merge_rules]") {
  MergePlan p = PlanMerge(Survivor(), Source());
  CHECK(p.merged.id == Survivor().id);
  CHECK(p.merged.given_name == "Ada");
  CHECK(p.merged.locale == "de-CH");
  CHECK(p.merged.version == 3);
  CHECK_FALSE(Has(p.filled_paths, "given_name"));
  CHECK_FALSE(Has(p.filled_paths, "locale"));
}

TEST_CASE("PlanMerge fills empty survivor fields from the source and lists them",
          "[merge_rules]") {
  MergePlan p = PlanMerge(Survivor(), Source());
  CHECK(p.merged.family_name == "Lovelace");
  CHECK(p.merged.display_name == "Countess");
  CHECK(p.merged.time_zone == "Europe/London");
  CHECK(p.merged.owner == "user:7");
  CHECK(p.merged.lifecycle_stage == LifecycleStage::kCustomer);
  REQUIRE(p.merged.postal_address.has_value());
  CHECK(p.merged.postal_address->locality == "Zürich");
  REQUIRE(p.merged.birthday.has_value());
  CHECK(*p.merged.birthday == Date{1815, 12, 10});
  for (const char* path : {"family_name", "display_name", "time_zone", "owner", "lifecycle_stage",
                           "postal_address", "birthday", "anniversaries", "attributes.vip"}) {
    INFO(path);
    CHECK(Has(p.filled_paths, path));
  }
  CHECK_FALSE(Has(p.filled_paths, "attributes.tier"));
  CHECK_FALSE(Has(p.filled_paths, "attributes.score"));
}

TEST_CASE("PlanMerge of two complete customers fills nothing", "[merge_rules]") {
  Customer a = Source();
  Customer b = Source();
  b.given_name = "Other";
  MergePlan p = PlanMerge(a, b);
  CHECK(p.filled_paths.empty());
  CHECK(p.merged.given_name == a.given_name);
}

TEST_CASE("PlanMerge unites attributes, the survivor winning a clash", "[merge_rules]") {
  MergePlan p = PlanMerge(Survivor(), Source());
  REQUIRE(p.merged.attributes.size() == 3);
  CHECK(std::get<std::string>(p.merged.attributes.at("tier")) == "gold");
  CHECK(std::get<int64_t>(p.merged.attributes.at("score")) == 10);
  CHECK(std::get<bool>(p.merged.attributes.at("vip")) == true);
}

TEST_CASE("PlanMerge unites anniversaries by label, the survivor's date winning",
          "[merge_rules]") {
  MergePlan p = PlanMerge(Survivor(), Source());
  REQUIRE(p.merged.anniversaries.size() == 2);
  CHECK(p.merged.anniversaries[0].label == "wedding");
  CHECK(p.merged.anniversaries[0].date == Date{2010, 6, 12});
  CHECK(p.merged.anniversaries[1].label == "first_purchase");
  CHECK(p.merged.anniversaries[1].date == Date{2020, 2, 2});
}

TEST_CASE("PlanMerge unites identities without duplicates, survivor's first", "[merge_rules]") {
  MergePlan p = PlanMerge(Survivor(), Source());
  CHECK(p.merged.emails == std::vector<std::string>{"ada@example.com", "countess@example.com"});
  CHECK(p.merged.phones == std::vector<std::string>{"+41446681800", "+14155550100"});
  CHECK(p.merged.external_ids == std::vector<ExternalId>{{"erp", "A-1"}, {"shop", "S-9"}});
  // Identities are not profile paths: they move, they are not "filled".
  CHECK_FALSE(Has(p.filled_paths, "emails"));
  CHECK_FALSE(Has(p.filled_paths, "phones"));
  CHECK_FALSE(Has(p.filled_paths, "external_ids"));
}

int Rank(ConsentStatus s) {
  switch (s) {
    case ConsentStatus::kOptedOut:
      return 3;
    case ConsentStatus::kPending:
      return 2;
    case ConsentStatus::kOptedIn:
      return 1;
    default:
      return 0;
  }
}

const ConsentStatus kAll[] = {ConsentStatus::kUnspecified, ConsentStatus::kOptedIn,
                              ConsentStatus::kOptedOut, ConsentStatus::kPending};

TEST_CASE("MostRestrictive over all 4x4 status pairs", "[merge_rules][consent]") {
  for (ConsentStatus a : kAll) {
    for (ConsentStatus b : kAll) {
      INFO("a=" << static_cast<int>(a) << " b=" << static_cast<int>(b));
      ConsentStatus r = MostRestrictive(a, b);
      CHECK(r == MostRestrictive(b, a));  // order does not matter
      CHECK(Rank(r) == std::max(Rank(a), Rank(b)));
      CHECK((r == a || r == b));
      if (a == ConsentStatus::kOptedOut || b == ConsentStatus::kOptedOut) {
        CHECK(r == ConsentStatus::kOptedOut);
      }
      if (r == ConsentStatus::kOptedIn) {
        CHECK(a != ConsentStatus::kOptedOut);
        CHECK(b != ConsentStatus::kOptedOut);
        CHECK(a != ConsentStatus::kPending);
        CHECK(b != ConsentStatus::kPending);
      }
    }
  }
}

Consent C(ConsentChannel ch, ConsentPurpose pu, ConsentStatus st, std::string policy = "v1") {
  Consent c;
  c.channel = ch;
  c.purpose = pu;
  c.status = st;
  c.source = "form";
  c.record_time = absl::FromUnixSeconds(1600000000);
  c.policy_version = std::move(policy);
  return c;
}

TEST_CASE("ResolveConsents never turns an opt-out into an opt-in, in either direction",
          "[merge_rules][consent]") {
  const absl::Time at = absl::FromUnixSeconds(1700000000);
  for (ConsentStatus s : kAll) {
    for (ConsentStatus o : kAll) {
      INFO("survivor=" << static_cast<int>(s) << " source=" << static_cast<int>(o));
      std::vector<Consent> survivor{C(ConsentChannel::kEmail, ConsentPurpose::kMarketing, s)};
      std::vector<Consent> source{C(ConsentChannel::kEmail, ConsentPurpose::kMarketing, o, "v2")};
      std::vector<Consent> r = ResolveConsents(survivor, source, at, "merge:x");
      REQUIRE(r.size() == 1);
      CHECK(r[0].channel == ConsentChannel::kEmail);
      CHECK(r[0].purpose == ConsentPurpose::kMarketing);
      CHECK(Rank(r[0].status) == std::max(Rank(s), Rank(o)));
      if (s == ConsentStatus::kOptedOut || o == ConsentStatus::kOptedOut) {
        CHECK(r[0].status == ConsentStatus::kOptedOut);
      }
      CHECK(r[0].record_time == at);
      CHECK(r[0].source == "merge:x");
      // After the merge the resolution record is the newest: the current state.
      std::vector<Consent> history = survivor;
      history.insert(history.end(), source.begin(), source.end());
      history.insert(history.end(), r.begin(), r.end());
      std::vector<Consent> current = CurrentConsents(history);
      REQUIRE(current.size() == 1);
      CHECK(current[0].status == r[0].status);
      // Swapping the roles gives the same status.
      std::vector<Consent> swapped = ResolveConsents(source, survivor, at, "merge:y");
      REQUIRE(swapped.size() == 1);
      CHECK(swapped[0].status == r[0].status);
    }
  }
}

TEST_CASE("ResolveConsents takes over pairs only on the source, leaves survivor-only pairs",
          "[merge_rules][consent]") {
  const absl::Time at = absl::FromUnixSeconds(1700000000);
  std::vector<Consent> survivor{
      C(ConsentChannel::kEmail, ConsentPurpose::kMarketing, ConsentStatus::kOptedIn),
      C(ConsentChannel::kPush, ConsentPurpose::kProfiling, ConsentStatus::kOptedOut)};
  std::vector<Consent> source{
      C(ConsentChannel::kEmail, ConsentPurpose::kMarketing, ConsentStatus::kOptedOut),
      C(ConsentChannel::kSms, ConsentPurpose::kTransactional, ConsentStatus::kOptedIn, "v7")};
  std::vector<Consent> r = ResolveConsents(survivor, source, at, "merge:s");
  REQUIRE(r.size() == 2);
  auto find = [&](ConsentChannel ch, ConsentPurpose pu) -> const Consent* {
    for (const auto& c : r) {
      if (c.channel == ch && c.purpose == pu) return &c;
    }
    return nullptr;
  };
  const Consent* email = find(ConsentChannel::kEmail, ConsentPurpose::kMarketing);
  REQUIRE(email != nullptr);
  CHECK(email->status == ConsentStatus::kOptedOut);
  const Consent* sms = find(ConsentChannel::kSms, ConsentPurpose::kTransactional);
  REQUIRE(sms != nullptr);
  CHECK(sms->status == ConsentStatus::kOptedIn);
  CHECK(sms->policy_version == "v7");
  CHECK(find(ConsentChannel::kPush, ConsentPurpose::kProfiling) == nullptr);
}

TEST_CASE("UndoMergeProfile restores filled fields that were not edited since",
          "[merge_rules][unmerge]") {
  Customer before = Survivor();
  MergePlan p = PlanMerge(before, Source());
  Customer now = p.merged;
  Customer undone = UndoMergeProfile(now, before, p.merged, p.filled_paths);
  CHECK(undone.family_name.empty());
  CHECK(undone.display_name.empty());
  CHECK(undone.time_zone.empty());
  CHECK(undone.owner.empty());
  CHECK(undone.lifecycle_stage == LifecycleStage::kUnspecified);
  CHECK_FALSE(undone.postal_address.has_value());
  CHECK_FALSE(undone.birthday.has_value());
  REQUIRE(undone.anniversaries.size() == 1);
  CHECK(undone.anniversaries[0].label == "wedding");
  CHECK(undone.attributes.count("vip") == 0);
  CHECK(std::get<std::string>(undone.attributes.at("tier")) == "gold");
  CHECK(undone.given_name == "Ada");
  CHECK(undone.locale == "de-CH");
}

TEST_CASE("UndoMergeProfile keeps fields edited after the merge", "[merge_rules][unmerge]") {
  Customer before = Survivor();
  MergePlan p = PlanMerge(before, Source());
  Customer now = p.merged;
  now.family_name = "Byron";                      // a filled field, edited since
  now.attributes["vip"] = false;                  // a filled attribute, edited since
  now.given_name = "Augusta";                     // not filled: edits stay anyway
  now.birthday = Date{1815, 12, 11};              // filled, edited
  Customer undone = UndoMergeProfile(now, before, p.merged, p.filled_paths);
  CHECK(undone.family_name == "Byron");
  CHECK(std::get<bool>(undone.attributes.at("vip")) == false);
  CHECK(undone.given_name == "Augusta");
  REQUIRE(undone.birthday.has_value());
  CHECK(*undone.birthday == Date{1815, 12, 11});
  // Untouched filled fields still go back.
  CHECK(undone.display_name.empty());
  CHECK(undone.time_zone.empty());
  CHECK_FALSE(undone.postal_address.has_value());
}

TEST_CASE("SameAtPath compares the value at one path", "[merge_rules]") {
  Customer a = Source();
  Customer b = Source();
  for (const char* path :
       {"given_name", "family_name", "display_name", "locale", "time_zone", "owner",
        "lifecycle_stage", "postal_address", "birthday", "anniversaries", "emails", "phones",
        "external_ids", "attributes", "attributes.tier", "attributes.absent"}) {
    INFO(path);
    CHECK(SameAtPath(a, b, path));
  }
  b.postal_address->postal_code = "8002";
  CHECK_FALSE(SameAtPath(a, b, "postal_address"));
  b.birthday.reset();
  CHECK_FALSE(SameAtPath(a, b, "birthday"));
  b.anniversaries[1].date.day = 3;
  CHECK_FALSE(SameAtPath(a, b, "anniversaries"));
  b.attributes.erase("vip");
  CHECK_FALSE(SameAtPath(a, b, "attributes.vip"));
  CHECK(SameAtPath(a, b, "attributes.tier"));
  CHECK_FALSE(SameAtPath(a, b, "attributes"));
  b.lifecycle_stage = LifecycleStage::kChurned;
  CHECK_FALSE(SameAtPath(a, b, "lifecycle_stage"));
  CHECK_FALSE(SameAtPath(a, b, "no_such_path"));
}

}  // namespace
