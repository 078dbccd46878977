// Reading customer-store's consent.recorded events (docs/events.md) into a
// ConsentFact, enum numbers turned into the segment language's names.
#include "libs/events/consent_event.h"

#include <catch2/catch.hpp>
#include <string>

#include "tests/support/event_envelope.h"

namespace {

using crm::events::ConsentFactOf;
using crm::events::v1::EventEnvelope;

EventEnvelope Envelope(const std::string& type, const std::string& payload) {
  EventEnvelope e = crm::testing::EnvelopeOf(type, payload);
  e.mutable_occurred_at()->set_seconds(1700000000);
  e.mutable_occurred_at()->set_nanos(5000);
  return e;
}

TEST_CASE("consent.recorded is read with channel, purpose and status names", "[events][consent]") {
  // As customer-store writes it (storage/pg_customer_repository.cc, EmitConsent).
  auto f = ConsentFactOf(Envelope(
      "consent.recorded",
      R"({"customer_id":"22222222-2222-4222-8222-222222222222","channel":5,"purpose":3,"status":2})"));
  REQUIRE(f.ok());
  REQUIRE(f->has_value());
  CHECK((*f)->customer_id == "22222222-2222-4222-8222-222222222222");
  CHECK((*f)->channel == "web");
  CHECK((*f)->purpose == "profiling");
  CHECK((*f)->status == "opted_out");
  CHECK((*f)->event_id == "44444444-4444-4444-8444-444444444444");
  CHECK((*f)->recorded_time == absl::FromUnixSeconds(1700000000) + absl::Microseconds(5));
  auto in = ConsentFactOf(Envelope(
      "consent.recorded",
      R"({"customer_id":"22222222-2222-4222-8222-222222222222","channel":1,"purpose":1,"status":1})"));
  REQUIRE(in.ok());
  CHECK(((*in)->channel + "." + (*in)->purpose + "." + (*in)->status) == "email.marketing.opted_in");
}

TEST_CASE("other events are not consents, malformed ones are refused", "[events][consent]") {
  auto other = ConsentFactOf(Envelope("customer.created", "{}"));
  REQUIRE(other.ok());
  CHECK_FALSE(other->has_value());
  for (const char* payload :
       {R"({"customer_id":"c","channel":9,"purpose":1,"status":1})",
        R"({"customer_id":"c","channel":1,"purpose":0,"status":1})",
        R"({"customer_id":"c","channel":1,"purpose":1,"status":0})",
        R"({"customer_id":"c","channel":1,"purpose":1,"status":7})",
        R"({"customer_id":"c","channel":"1","purpose":1,"status":1})", R"({"channel":1})",
        "not json"}) {
    CAPTURE(payload);
    CHECK(ConsentFactOf(Envelope("consent.recorded", payload)).status().code() ==
          absl::StatusCode::kInvalidArgument);
  }
}

}  // namespace
