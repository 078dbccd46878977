// Reading customer-store's behaviour.* and customer.identified events
// (docs/events.md) into their contracts.
#include "libs/events/behaviour_event.h"

#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "libs/events/customer_event.h"
#include "tests/support/event_envelope.h"

namespace {

using crm::events::BehaviourFactOf;
using crm::events::CustomerIdentifiedOf;
using crm::events::v1::EventEnvelope;

constexpr char kTenant[] = "11111111-1111-4111-8111-111111111111";
constexpr char kCustomer[] = "22222222-2222-4222-8222-222222222222";
constexpr char kEventId[] = "33333333-3333-4333-8333-333333333333";

EventEnvelope Envelope(const std::string& type, const std::string& payload) {
  EventEnvelope e = crm::testing::EnvelopeOf(type, payload, kTenant);
  e.set_producer("customer-store");
  return e;
}

TEST_CASE("a behaviour event with every property is read into a BehaviourFact",
          "[events][behaviour]") {
  // As customer-store wrote it before batches (one behaviour.<type> event
  // per tracked event; still read).
  auto f = BehaviourFactOf(
      Envelope("behaviour.cart.item_added",
               R"({"event_id":"33333333-3333-4333-8333-333333333333","type":"cart.item_added",)"
               R"("customer_id":"22222222-2222-4222-8222-222222222222","visitor_id":"v-1",)"
               R"("occurred_at_us":"1700000000123456","device_class":2,"sku":"SKU-9",)"
               R"("category_path":["Music","Jazz"],"value":19.9,"currency_code":"CHF",)"
               R"("quantity":2,"utm_campaign":"spring"})"));
  REQUIRE(f.ok());
  REQUIRE(f->has_value());
  const crm::events::BehaviourFact& b = **f;
  CHECK(b.tenant_id == kTenant);
  CHECK(b.event_id == kEventId);
  CHECK(b.type == "cart.item_added");
  CHECK(b.customer_id == kCustomer);
  CHECK(b.visitor_id == "v-1");
  CHECK(absl::ToUnixMicros(b.occurred_time) == 1700000000123456);
  CHECK(b.sku == "SKU-9");
  CHECK(b.category_path == std::vector<std::string>{"Music", "Jazz"});
  CHECK(b.value == 19.9);
  CHECK(b.currency_code == "CHF");
  CHECK(b.quantity == 2);
  CHECK(b.utm_campaign == "spring");
}

TEST_CASE("an anonymous behaviour event without properties leaves them unset",
          "[events][behaviour]") {
  auto f = BehaviourFactOf(
      Envelope("behaviour.x.signup",
               R"({"event_id":"33333333-3333-4333-8333-333333333333","type":"x.signup",)"
               R"("customer_id":"","visitor_id":"v-2","occurred_at_us":"1","device_class":0})"));
  REQUIRE(f.ok());
  REQUIRE(f->has_value());
  CHECK((*f)->type == "x.signup");
  CHECK((*f)->customer_id.empty());
  CHECK((*f)->visitor_id == "v-2");
  CHECK((*f)->sku.empty());
  CHECK((*f)->category_path.empty());
  CHECK((*f)->value == 0);
  CHECK((*f)->currency_code.empty());
  CHECK((*f)->quantity == 0);
  CHECK((*f)->utm_campaign.empty());
}

TEST_CASE("other events are not behaviour facts", "[events][behaviour]") {
  for (const char* type : {"customer.created", "order.placed", "behaviourx.page.viewed"}) {
    auto f = BehaviourFactOf(Envelope(type, "{}"));
    REQUIRE(f.ok());
    CHECK_FALSE(f->has_value());
  }
}

TEST_CASE("a behaviour event with a malformed payload is refused", "[events][behaviour]") {
  for (const char* payload : {
           "not json",
           R"({"occurred_at_us":"1"})",                                       // no event_id
           R"({"event_id":"e","occurred_at_us":1})",                          // time not a string
           R"({"event_id":"e","occurred_at_us":"soon"})",                     // time not a number
           R"({"event_id":"e","occurred_at_us":"1","category_path":"a/b"})",  // not a list
           R"({"event_id":"e","occurred_at_us":"1","value":"19.9"})",         // value not a number
       }) {
    INFO(payload);
    CHECK(BehaviourFactOf(Envelope("behaviour.page.viewed", payload)).status().code() ==
          absl::StatusCode::kInvalidArgument);
  }
  CHECK(BehaviourFactOf(Envelope("behaviour.", R"({"event_id":"e","occurred_at_us":"1"})"))
            .status()
            .code() == absl::StatusCode::kInvalidArgument);
}

TEST_CASE("customer.identified is read into a CustomerIdentified, and is no CustomerChange",
          "[events][behaviour]") {
  const EventEnvelope e =
      Envelope("customer.identified",
               R"({"customer_id":"22222222-2222-4222-8222-222222222222","visitor_id":"v-1",)"
               R"("earlier_events":"3"})");
  auto c = CustomerIdentifiedOf(e);
  REQUIRE(c.ok());
  REQUIRE(c->has_value());
  CHECK((*c)->tenant_id == kTenant);
  CHECK((*c)->event_id == e.event_id());
  CHECK((*c)->customer_id == kCustomer);
  CHECK((*c)->visitor_id == "v-1");
  // The consumers of customer.* changes (transaction, segmentation) skip it.
  auto change = crm::events::CustomerChangeOf(e);
  REQUIRE(change.ok());
  CHECK_FALSE(change->has_value());
  // Other events are not identifications; a malformed one is refused.
  auto other = CustomerIdentifiedOf(Envelope("customer.created", "{}"));
  REQUIRE(other.ok());
  CHECK_FALSE(other->has_value());
  CHECK(CustomerIdentifiedOf(Envelope("customer.identified", R"({"customer_id":"x"})"))
            .status()
            .code() == absl::StatusCode::kInvalidArgument);
}

TEST_CASE("a behaviour.tracked batch is read into one fact per listed event, whole or not at all",
          "[events][behaviour]") {
  // As customer-store writes it (storage/pg_behaviour.cc, EmitEvents).
  const std::string payload = std::string(R"({"events":[{"event_id":")") + kEventId +
                              R"(","type":"product.viewed","customer_id":")" + kCustomer +
                              R"(","visitor_id":"","occurred_at_us":"1700000000000000",)"
                              R"("device_class":1,"sku":"SKU-1","category_path":["Music","Jazz"],)"
                              R"("value":12.5,"currency_code":"CHF"},{"event_id":"e2",)"
                              R"("type":"x.signup","customer_id":"","visitor_id":"v-9",)"
                              R"("occurred_at_us":"1700000001000000","device_class":0}]})";
  auto facts = crm::events::BehaviourFactsOf(Envelope("behaviour.tracked", payload));
  REQUIRE(facts.ok());
  REQUIRE(facts->has_value());
  const auto& v = **facts;
  REQUIRE(v.size() == 2);
  CHECK(v[0].tenant_id == kTenant);
  CHECK(v[0].event_id == kEventId);
  CHECK(v[0].type == "product.viewed");
  CHECK(v[0].customer_id == kCustomer);
  CHECK(v[0].category_path == std::vector<std::string>{"Music", "Jazz"});
  CHECK(v[0].value == 12.5);
  CHECK(v[1].type == "x.signup");
  CHECK(v[1].visitor_id == "v-9");
  CHECK(v[1].customer_id.empty());
  CHECK(v[1].occurred_time == absl::FromUnixSeconds(1700000001));
  // The batch type is not a single event's type.
  auto single = BehaviourFactOf(Envelope("behaviour.tracked", payload));
  REQUIRE(single.ok());
  CHECK_FALSE(single->has_value());
  // An older per-event envelope reads as a batch of one; others are not behaviour.
  auto one = crm::events::BehaviourFactsOf(
      Envelope("behaviour.page.viewed",
               R"({"event_id":"e1","customer_id":"","visitor_id":"v","occurred_at_us":"5"})"));
  REQUIRE(one.ok());
  REQUIRE(one->has_value());
  CHECK((*one)->size() == 1);
  CHECK((*one)->front().type == "page.viewed");
  auto other = crm::events::BehaviourFactsOf(Envelope("customer.created", "{}"));
  REQUIRE(other.ok());
  CHECK_FALSE(other->has_value());
  for (const char* bad :
       {R"({"events":{}})", R"({})", R"({"events":[{"event_id":"e","occurred_at_us":"1"}]})",
        R"({"events":[{"type":"","event_id":"e","occurred_at_us":"1"}]})",
        R"({"events":[{"type":"page.viewed","event_id":"e","occurred_at_us":"x"}]})", "nope"}) {
    CAPTURE(bad);
    CHECK(crm::events::BehaviourFactsOf(Envelope("behaviour.tracked", bad)).status().code() ==
          absl::StatusCode::kInvalidArgument);
  }
}

TEST_CASE("behaviour.settings_updated reads as the tenant's retention, never as a tracked event",
          "[events][behaviour]") {
  const auto e = Envelope("behaviour.settings_updated", R"({"retention_days":30,"version":2})");
  auto facts = crm::events::BehaviourFactsOf(e);
  REQUIRE(facts.ok());
  CHECK_FALSE(facts->has_value());
  auto r = crm::events::BehaviourRetentionOf(e);
  REQUIRE(r.ok());
  REQUIRE(r->has_value());
  CHECK((*r)->retention_days == 30);
  CHECK((*r)->version == 2);
  CHECK((*r)->tenant_id == e.tenant_id());
  CHECK_FALSE(crm::events::BehaviourRetentionOf(Envelope("behaviour.tracked", "{}"))->has_value());
  CHECK(crm::events::BehaviourRetentionOf(
            Envelope("behaviour.settings_updated", R"({"retention_days":"x"})"))
            .status()
            .code() == absl::StatusCode::kInvalidArgument);
}

}  // namespace

TEST_CASE("delivery's email events are the customer's email.* behaviour", "[events][behaviour]") {
  using crm::events::MessageFactOf;
  EventEnvelope e = crm::testing::EnvelopeOf(
      "message.opened",
      R"({"messageId":"44444444-4444-4444-8444-444444444444","customerId":")" +
          std::string(kCustomer) +
          R"(","channel":"email","purpose":"marketing","campaignId":"c-1","variantId":"a"})",
      kTenant);
  e.set_event_id(kEventId);
  e.mutable_occurred_at()->set_seconds(1700000000);
  e.mutable_occurred_at()->set_nanos(5000);
  auto f = MessageFactOf(e);
  REQUIRE(f.ok());
  REQUIRE(f->has_value());
  CHECK((*f)->type == "email.opened");
  CHECK((*f)->customer_id == kCustomer);
  CHECK((*f)->tenant_id == kTenant);
  CHECK((*f)->event_id == kEventId);
  CHECK((*f)->utm_campaign == "c-1");
  CHECK((*f)->occurred_time == absl::FromUnixSeconds(1700000000) + absl::Nanoseconds(5000));
  // A webhook reached the tenant's system, not the customer; other message
  // events are not behaviour.
  e.set_payload_json(R"({"messageId":"m","customerId":")" + std::string(kCustomer) +
                     R"(","channel":"webhook"})");
  CHECK_FALSE(MessageFactOf(e)->has_value());
  e.set_type("message.queued");
  CHECK_FALSE(MessageFactOf(e)->has_value());
  e.set_type("message.clicked");
  e.set_payload_json("{}");
  CHECK(MessageFactOf(e).status().code() == absl::StatusCode::kInvalidArgument);
}
