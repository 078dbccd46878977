// Reading the service desk's ticket.* events (docs/events.md) into a
// TicketEvent: the timeline's kinds, a survey's answer with its kind and
// rating, other types skipped, a payload that is not the documented JSON
// refused.
#include "libs/events/ticket_event.h"

#include <catch2/catch.hpp>
#include <string>

#include "tests/support/event_envelope.h"

namespace {

using crm::events::TicketEventOf;

constexpr char kTicket[] =
    R"("ticketId":"66666666-6666-4666-8666-666666666666","number":12,)"
    R"("customerId":"22222222-2222-4222-8222-222222222222","subject":"Charged twice",)"
    R"("channel":"email","status":"solved")";

TEST_CASE("ticket events are read for the timeline, survey answers with their rating",
          "[events][ticket]") {
  auto created =
      TicketEventOf(crm::testing::EnvelopeOf("ticket.created", std::string("{") + kTicket + "}"));
  REQUIRE(created.ok());
  REQUIRE(created->has_value());
  CHECK((*created)->kind == "created");
  CHECK((*created)->number == 12);
  CHECK((*created)->rating == -1);
  auto rated = TicketEventOf(crm::testing::EnvelopeOf(
      "ticket.survey_answered",
      std::string("{") + kTicket + R"(,"surveyId":"x","surveyKind":"nps","rating":0})"));
  REQUIRE(rated.ok());
  REQUIRE(rated->has_value());
  CHECK((*rated)->kind == "survey_answered");
  CHECK((*rated)->survey_kind == "nps");
  CHECK((*rated)->rating == 0);
  auto other = TicketEventOf(crm::testing::EnvelopeOf("ticket.mail_queued", "{}"));
  REQUIRE(other.ok());
  CHECK_FALSE(other->has_value());
  CHECK(TicketEventOf(crm::testing::EnvelopeOf("ticket.created", R"({"number":1})"))
            .status()
            .code() == absl::StatusCode::kInvalidArgument);
}

}  // namespace
