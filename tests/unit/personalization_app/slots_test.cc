// The content slot use cases over the in-memory repositories: writes with
// their refusals and replays, decisions from the rules' matches, interests,
// the objection to profiling, visitors, segmentation down, a restart.
#include "services/personalization/app/slots.h"

#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "tests/support/fakes/common_fakes.h"
#include "tests/support/fakes/personalization/fake_personalization_repository.h"
#include "tests/support/fakes/personalization/fake_slot_repository.h"
#include "tests/support/status_checks.h"

namespace {

using crm::events::BehaviourFact;
using crm::events::ConsentFact;
using crm::events::CustomerChange;
using crm::events::ProductFact;
using crm::outbox::WriteMeta;
using crm::personalization::app::Fact;
using crm::personalization::app::Recommender;
using crm::personalization::app::Slots;
using crm::personalization::domain::ContentArm;
using crm::personalization::domain::Slot;
using crm::personalization::domain::SlotReason;
using crm::personalization::domain::SlotSelection;
using crm::personalization::domain::SlotVariant;
using crm::testing::RequireRefused;
using crm::testing::ValueOf;

const std::string kT = "tenant-1";
const std::string kOther = "tenant-2";

WriteMeta Meta(const std::string& key, const std::string& method = "CreateSlot",
               const std::string& tenant = kT, const std::string& fingerprint = "fp") {
  return WriteMeta{tenant, "tester", "req", method, key, fingerprint};
}

Slot Banner() {
  Slot s;
  s.slot_id = "home-banner";
  s.display_name = "Home banner";
  s.variants = {SlotVariant{"buyers", "orders(365d) >= 1", {}, "Thanks", {}},
                SlotVariant{"kitchen", "", {"Home/Kitchen"}, "Knives", {}},
                SlotVariant{"everyone", "", {}, "Hello", {}}};
  s.fallback_content = "Default";
  return s;
}

struct World {
  crm::testing::FakePersonalizationRepository repo;
  crm::testing::FakeSlotRepository slot_repo;
  crm::testing::FakeSegmentation matcher;
  crm::testing::FixedClock clock{absl::FromUnixSeconds(1'800'000'000)};
  Recommender recommender{repo, {}, &clock};
  Slots slots{slot_repo, recommender, matcher, &clock};

  World() {
    std::vector<Fact> facts;
    for (const char* c : {"c1", "c2", "c3"}) {
      CustomerChange k;
      k.kind = CustomerChange::Kind::kCreated;
      k.tenant_id = kT;
      k.customer_id = c;
      facts.push_back(k);
    }
    ProductFact p;
    p.tenant_id = kT;
    p.sku = "knife";
    p.category_path = {"Home", "Kitchen", "Knives"};
    p.active = true;
    p.version = 1;
    facts.push_back(p);
    for (const char* who : {"c2", ""}) {  // c2 and visitor v1 viewed the knife
      BehaviourFact b;
      b.tenant_id = kT;
      b.event_id = std::string("view-") + who;
      b.type = "product.viewed";
      b.customer_id = who;
      b.visitor_id = *who ? "" : "v1";
      b.sku = "knife";
      b.occurred_time = clock.Now();
      facts.push_back(b);
    }
    for (const auto& s : recommender.Apply(facts)) REQUIRE(s.ok());
    matcher.known = {"c1", "c2", "c3"};
    matcher.matches = {{"c1", "orders(365d) >= 1"}};
  }
};

}  // namespace

TEST_CASE("Slot writes check the rules, refuse what is taken or stale and replay their answer") {
  World w;
  Slot bad = Banner();
  bad.variants[0].rule = "orders(365d) >=";
  RequireRefused(w.slots.Create(Meta("k0"), bad).status(), absl::StatusCode::kInvalidArgument,
                 "INVALID_FIELD");
  auto created = w.slots.Create(Meta("k1"), Banner());
  REQUIRE(created.ok());
  CHECK(created->version == 1);
  // The same key: the same answer, nothing written again.
  CHECK(ValueOf(w.slots.Create(Meta("k1"), Banner())).version == 1);
  RequireRefused(w.slots.Create(Meta("k2"), Banner()).status(), absl::StatusCode::kAlreadyExists,
                 "SLOT_EXISTS");
  Slot edit = Banner();
  edit.fallback_content = "New default";
  RequireRefused(w.slots.Update(Meta("k3", "UpdateSlot"), edit, "7").status(),
                 absl::StatusCode::kAborted, "ETAG_MISMATCH");
  auto updated = w.slots.Update(Meta("k4", "UpdateSlot"), edit, "1");
  REQUIRE(updated.ok());
  CHECK(updated->version == 2);
  CHECK(ValueOf(w.slots.Get(kT, "home-banner")).fallback_content == "New default");
  // A replay of the create after the update does not bring back version 1.
  CHECK(ValueOf(w.slots.Create(Meta("k1"), Banner())).version == 1);
  CHECK(ValueOf(w.slots.Get(kT, "home-banner")).version == 2);
  // Tenants apart.
  RequireRefused(w.slots.Get(kOther, "home-banner").status(), absl::StatusCode::kNotFound,
                 "SLOT_NOT_FOUND");
  RequireRefused(w.slots.Update(Meta("k5", "UpdateSlot", kOther), edit, "").status(),
                 absl::StatusCode::kNotFound, "SLOT_NOT_FOUND");
  CHECK(w.slots.List(kOther).empty());
  // A restart reads them back.
  Slots restarted(w.slot_repo, w.recommender, w.matcher, &w.clock);
  REQUIRE(restarted.Load().ok());
  CHECK(ValueOf(restarted.Get(kT, "home-banner")).version == 2);
  REQUIRE(w.slots.Delete(Meta("k6", "DeleteSlot"), "home-banner", "2").ok());
  RequireRefused(w.slots.Get(kT, "home-banner").status(), absl::StatusCode::kNotFound,
                 "SLOT_NOT_FOUND");
  // Replaying the update after the delete does not bring it back.
  CHECK(w.slots.Update(Meta("k4", "UpdateSlot"), edit, "1").ok());
  CHECK(w.slots.List(kT).empty());
}

TEST_CASE("At most 500 slots per tenant") {
  World w;
  for (int i = 0; i < 500; ++i) {
    Slot s = Banner();
    s.slot_id = "s" + std::to_string(i);
    REQUIRE(w.slots.Create(Meta("k" + std::to_string(i)), s).ok());
  }
  RequireRefused(w.slots.Create(Meta("one-more"), Banner()).status(),
                 absl::StatusCode::kFailedPrecondition, "TOO_MANY_SLOTS");
  CHECK(w.slots.List(kT).size() == 500);
}

TEST_CASE("A decision follows the rules' matches, the interests and the objection") {
  World w;
  REQUIRE(w.slots.Create(Meta("k1"), Banner()).ok());
  auto c1 = ValueOf(w.slots.ForCustomer(kT, "c1", "home-banner"));
  CHECK(c1.decision.variant_id == "buyers");
  CHECK(c1.decision.reason == SlotReason::kRule);
  CHECK(c1.rules_evaluated);
  auto c2 = ValueOf(w.slots.ForCustomer(kT, "c2", "home-banner"));
  CHECK(c2.decision.variant_id == "kitchen");  // viewed a knife
  CHECK(c2.decision.interest == Approx(1.0));
  CHECK(ValueOf(w.slots.ForCustomer(kT, "c3", "home-banner")).decision.variant_id == "everyone");
  // A visitor: rules left out, interests count.
  CHECK(ValueOf(w.slots.ForVisitor(kT, "v1", "home-banner")).decision.variant_id == "kitchen");
  CHECK(ValueOf(w.slots.ForVisitor(kT, "v2", "home-banner")).decision.variant_id == "everyone");
  // Unknown customer or slot.
  RequireRefused(w.slots.ForCustomer(kT, "nobody", "home-banner").status(),
                 absl::StatusCode::kNotFound, "CUSTOMER_NOT_FOUND");
  RequireRefused(w.slots.ForCustomer(kT, "c1", "nope").status(), absl::StatusCode::kNotFound,
                 "SLOT_NOT_FOUND");
  // Segmentation down: the rule's variant is left out, and the answer says so.
  w.matcher.down = absl::UnavailableError("segmentation is down");
  auto degraded = ValueOf(w.slots.ForCustomer(kT, "c1", "home-banner"));
  CHECK(degraded.decision.variant_id == "everyone");
  CHECK_FALSE(degraded.rules_evaluated);
  w.matcher.down = absl::OkStatus();
  // A customer segmentation does not know yet matches no rule.
  w.matcher.known.erase("c1");
  auto unknown = ValueOf(w.slots.ForCustomer(kT, "c1", "home-banner"));
  CHECK(unknown.decision.variant_id == "everyone");
  CHECK(unknown.rules_evaluated);
  w.matcher.known.insert("c1");
  // An objection to profiling: the fallback, segmentation not asked.
  ConsentFact objection;
  objection.tenant_id = kT;
  objection.customer_id = "c1";
  objection.channel = "web";
  objection.purpose = "profiling";
  objection.status = "opted_out";
  objection.recorded_time = w.clock.Now();
  for (const auto& s : w.recommender.Apply({objection})) REQUIRE(s.ok());
  const int calls = w.matcher.calls;
  auto objected = ValueOf(w.slots.ForCustomer(kT, "c1", "home-banner"));
  CHECK(objected.decision.reason == SlotReason::kNotPersonalized);
  CHECK(objected.decision.content == "Default");
  CHECK(w.matcher.calls == calls);
}

TEST_CASE("Best interest and A/B arms with a holdout") {
  World w;
  Slot s = Banner();
  s.selection = SlotSelection::kBestInterest;
  s.holdout_bp = 5000;
  s.variants[2].content = "";
  s.variants[2].arms = {ContentArm{"a", "Hello A", 1}, ContentArm{"b", "Hello B", 1}};
  REQUIRE(w.slots.Create(Meta("k1"), s).ok());
  int held = 0, a = 0, b = 0;
  for (int i = 0; i < 400; ++i) {
    auto d = ValueOf(w.slots.ForVisitor(kT, "visitor-" + std::to_string(i), "home-banner"));
    if (d.decision.reason == SlotReason::kHoldout) {
      ++held;
      CHECK(d.decision.content == "Default");
    } else {
      CHECK(d.decision.variant_id == "everyone");
      (d.decision.arm_id == "a" ? a : b) += 1;
      CHECK(d.decision.content == "Hello " + std::string(d.decision.arm_id == "a" ? "A" : "B"));
    }
  }
  CHECK(held > 150);
  CHECK(held < 250);
  CHECK(a > 50);
  CHECK(b > 50);
}
