// Content slots: the definition's checks and the decision (holdout, rules,
// topic targeting, best interest, A/B arms).
#include "services/personalization/domain/slots.h"

#include <catch2/catch.hpp>
#include <map>
#include <string>

#include "services/personalization/domain/assignment.h"
#include "tests/support/status_checks.h"

namespace {

using crm::personalization::domain::Bucket;
using crm::personalization::domain::ContentArm;
using crm::personalization::domain::Decide;
using crm::personalization::domain::HoldoutExperiment;
using crm::personalization::domain::NormalizeSlot;
using crm::personalization::domain::Slot;
using crm::personalization::domain::SlotReason;
using crm::personalization::domain::SlotSelection;
using crm::personalization::domain::SlotVariant;
using crm::testing::RequireRefused;

absl::Status AnyRule(const std::string& rule) {
  if (rule == "bad(") return absl::InvalidArgumentError("line 1, column 5: expected an expression");
  return absl::OkStatus();
}

Slot Banner() {
  Slot s;
  s.slot_id = "home-banner";
  s.display_name = "Home banner";
  s.variants = {SlotVariant{"vip", "clv >= 500", {}, "<b>VIP</b>", {}},
                SlotVariant{"kitchen", "", {"Home / Kitchen"}, "Knives sale", {}},
                SlotVariant{"garden", "", {"Garden"}, "Rakes sale", {}},
                SlotVariant{"everyone", "", {}, "Welcome", {}}};
  s.fallback_content = "Default";
  return s;
}

std::function<double(const std::string&)> Interests(std::map<std::string, double> m) {
  return [m](const std::string& t) {
    auto it = m.find(t);
    return it == m.end() ? 0.0 : it->second;
  };
}

}  // namespace

TEST_CASE("NormalizeSlot checks every field and normalizes topics") {
  Slot s = Banner();
  REQUIRE(NormalizeSlot(s, AnyRule).ok());
  CHECK(s.variants[1].topics[0] == "Home/Kitchen");

  const auto refused = [](auto edit, const char* field) {
    Slot bad = Banner();
    edit(bad);
    absl::Status st = NormalizeSlot(bad, AnyRule);
    RequireRefused(st, absl::StatusCode::kInvalidArgument, "INVALID_FIELD");
    CHECK(crm::common::FieldOf(st) == field);
    return std::string(st.message());
  };
  refused([](Slot& b) { b.slot_id = "Home"; }, "slot_id");
  refused([](Slot& b) { b.slot_id = "-x"; }, "slot_id");
  refused([](Slot& b) { b.display_name = ""; }, "display_name");
  refused([](Slot& b) { b.variants.clear(); }, "variants");
  refused([](Slot& b) { b.variants[1].variant_id = "vip"; }, "variants");
  refused([](Slot& b) { b.variants[0].content = ""; }, "variants");
  refused([](Slot& b) { b.variants[0].arms = {ContentArm{"a", "A", 1}}; }, "variants");
  refused([](Slot& b) { b.variants[2].topics = {"a//b"}; }, "variants.topics");
  refused(
      [](Slot& b) {
        b.variants[0].content = "";
        b.variants[0].arms = {ContentArm{"a", "A", 1}, ContentArm{"a", "B", 1}};
      },
      "variants.arms");
  refused(
      [](Slot& b) {
        b.variants[0].content = "";
        b.variants[0].arms = {ContentArm{"a", "A", 0}};
      },
      "variants.arms");
  refused([](Slot& b) { b.variants[3].content = std::string(16 * 1024 + 1, 'x'); },
          "variants.content");
  refused([](Slot& b) { b.fallback_content = std::string("a\0b", 3); }, "fallback_content");
  refused([](Slot& b) { b.holdout_bp = 10001; }, "holdout_basis_points");
  const std::string rule = refused([](Slot& b) { b.variants[0].rule = "bad("; }, "variants.rule");
  CHECK(rule == "variant \"vip\": line 1, column 5: expected an expression");
}

TEST_CASE("Decide takes the first eligible variant by rule and topic, else the fallback") {
  Slot s = Banner();
  REQUIRE(NormalizeSlot(s, AnyRule).ok());
  auto d = Decide(s, "t", "c1", {true, true, true, true}, Interests({}));
  CHECK(d.variant_id == "vip");
  CHECK(d.content == "<b>VIP</b>");
  CHECK(d.reason == SlotReason::kRule);
  // The rule fails: the kitchen variant needs an interest in its topic.
  d = Decide(s, "t", "c1", {false, true, true, true}, Interests({{"Garden", 0.3}}));
  CHECK(d.variant_id == "garden");
  CHECK(d.interest == Approx(0.3));
  d = Decide(s, "t", "c1", {false, true, true, true}, Interests({}));
  CHECK(d.variant_id == "everyone");
  d = Decide(s, "t", "c1", {false, true, true, false}, Interests({}));
  CHECK(d.variant_id.empty());
  CHECK(d.content == "Default");
  CHECK(d.reason == SlotReason::kFallback);
}

TEST_CASE("Decide by best interest ranks the eligible variants by topic match") {
  Slot s = Banner();
  s.selection = SlotSelection::kBestInterest;
  REQUIRE(NormalizeSlot(s, AnyRule).ok());
  auto d = Decide(s, "t", "c1", {true, true, true, true},
                  Interests({{"Home/Kitchen", 0.4}, {"Garden", 0.9}}));
  CHECK(d.variant_id == "garden");
  CHECK(d.reason == SlotReason::kInterest);
  // No interest at all: the first eligible one.
  d = Decide(s, "t", "c1", {true, true, true, true}, Interests({}));
  CHECK(d.variant_id == "vip");
  CHECK(d.reason == SlotReason::kRule);
}

TEST_CASE("The holdout and the arms follow the customer's buckets") {
  Slot s = Banner();
  s.holdout_bp = 2000;
  s.variants[3].content = "";
  s.variants[3].arms = {ContentArm{"blue", "Welcome (blue)", 1},
                        ContentArm{"red", "Welcome (red)", 3}};
  REQUIRE(NormalizeSlot(s, AnyRule).ok());
  std::map<std::string, int> seen;
  int held = 0;
  for (int i = 0; i < 20000; ++i) {
    const std::string unit = "c" + std::to_string(i);
    auto d = Decide(s, "t", unit, {false, true, true, true}, Interests({}));
    const bool in_holdout = Bucket("t", HoldoutExperiment(s), unit) < 2000;
    CHECK((d.reason == SlotReason::kHoldout) == in_holdout);
    if (in_holdout) {
      ++held;
      CHECK(d.content == "Default");
      continue;
    }
    ++seen[d.arm_id];
    CHECK(d.content == "Welcome (" + d.arm_id + ")");
    auto again = Decide(s, "t", unit, {false, true, true, true}, Interests({}));
    CHECK(again.arm_id == d.arm_id);  // stable
  }
  CHECK(held == Approx(4000).margin(250));
  CHECK(seen["red"] == Approx(3 * seen["blue"]).epsilon(0.08));
}
