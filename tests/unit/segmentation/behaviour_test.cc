// Behaviour facts as segments see them (domain/behaviour.h): the mapping of
// a stored fact to a SegmentEvent, and segments over the mapped events.
#include "services/segmentation/domain/behaviour.h"

#include <catch2/catch.hpp>
#include <string>

#include "absl/time/civil_time.h"

namespace {

using namespace crm::segmentation::domain;  // NOLINT
using crm::events::BehaviourFact;

const absl::Time kT0 = absl::FromCivil(absl::CivilHour(2026, 3, 1, 10), absl::UTCTimeZone());

BehaviourFact Fact(const std::string& type, absl::Time at) {
  BehaviourFact f;
  f.tenant_id = "t";
  f.event_id = "e";
  f.type = type;
  f.customer_id = "c";
  f.visitor_id = "v";
  f.occurred_time = at;
  return f;
}

TEST_CASE("a behaviour fact maps to a SegmentEvent with the catalog's property names",
          "[segmentation][behaviour]") {
  BehaviourFact f = Fact("cart.item_added", kT0);
  f.sku = "SKU-1";
  f.category_path = {"Music", "Jazz", "Vinyl"};
  f.value = 19.9;
  f.currency_code = "CHF";
  f.quantity = 2;
  f.utm_campaign = "spring";
  const SegmentEvent e = SegmentEventOf(f);
  CHECK(e.type == "cart.item_added");
  CHECK(e.time == kT0);
  CHECK(e.properties.size() == 6);
  CHECK(std::get<std::string>(e.properties.at("category")) == "Music/Jazz/Vinyl");
  CHECK(std::get<std::string>(e.properties.at("sku")) == "SKU-1");
  CHECK(std::get<double>(e.properties.at("value")) == 19.9);
  CHECK(std::get<std::string>(e.properties.at("currency")) == "CHF");
  CHECK(std::get<double>(e.properties.at("quantity")) == 2.0);
  CHECK(std::get<std::string>(e.properties.at("campaign")) == "spring");
  // Every property it sets is one the catalog declares for its type.
  const PropertySpecs* specs = FieldCatalog::Default().FindEventType(e.type);
  REQUIRE(specs != nullptr);
  for (const auto& [name, value] : e.properties) {
    INFO(name);
    REQUIRE(specs->count(name) == 1);
    CHECK(std::holds_alternative<double>(value) == (specs->at(name) == FieldType::kNumber));
  }
}

TEST_CASE("properties not set are absent from the SegmentEvent", "[segmentation][behaviour]") {
  const SegmentEvent e = SegmentEventOf(Fact("page.viewed", kT0));
  CHECK(e.type == "page.viewed");
  CHECK(e.properties.empty());
}

TEST_CASE("custom event types", "[segmentation][behaviour]") {
  CHECK(IsCustomEventType("x.signup"));
  CHECK(IsCustomEventType("x.plan.upgraded"));
  CHECK(IsCustomEventType("x.sign-up_2"));
  CHECK(IsCustomEventType("x." + std::string(62, 'a')));
  CHECK_FALSE(IsCustomEventType("x." + std::string(63, 'a')));
  CHECK_FALSE(IsCustomEventType("x."));
  CHECK_FALSE(IsCustomEventType("x.SignUp"));
  CHECK_FALSE(IsCustomEventType("page.viewed"));
  CHECK_FALSE(IsCustomEventType("xsignup"));
  CHECK(FieldCatalog::Default().FindEventType("x.signup") != nullptr);
  CHECK(FieldCatalog::Default().FindEventType("x.SignUp") == nullptr);
}

TEST_CASE("segments count the mapped events", "[segmentation][behaviour]") {
  CustomerSnapshot c;
  for (int i = 0; i < 3; ++i) {
    BehaviourFact f = Fact("product.viewed", kT0 + absl::Hours(i));
    f.category_path = {"Music", i == 0 ? "Pop" : "Jazz"};
    f.value = 10.0 * (i + 1);
    c.events.push_back(SegmentEventOf(f));
  }
  c.events.push_back(SegmentEventOf(Fact("x.signup", kT0)));
  const FieldCatalog catalog = FieldCatalog::Default();
  auto eval = [&](const std::string& text, absl::Time now) {
    absl::StatusOr<CheckedSegment> s = CompileSegment(text, catalog);
    INFO(text);
    REQUIRE(s.ok());
    return EvaluateSegment(*s, c, now).matches;
  };
  const absl::Time now = kT0 + absl::Hours(3);
  CHECK(eval(R"(count(product.viewed, category = "Music", 7d) = 3)", now));
  CHECK(eval(R"(count(product.viewed, category = "Music/Jazz", value >= 20, 7d) = 2)", now));
  CHECK(eval(R"(count(product.viewed, category = "Mus", 7d) = 0)", now));
  CHECK(eval("count(x.signup, 1d) = 1 AND count(x.other, 1d) = 0", now));
  // No currency set: neither currency = nor currency != holds (absent values).
  CHECK(eval(R"(count(product.viewed, currency = "CHF", 7d) = 0)", now));
  CHECK(eval(R"(count(product.viewed, currency != "CHF", 7d) = 0)", now));
  CHECK(eval("count(product.viewed, 7d) = 0", kT0 + absl::Hours(24 * 7 + 3)));
}

}  // namespace
