// Other engines' events on the timeline (app/engine_timeline.h): which
// delivery and service-desk events make an entry, what it says (ids, never
// a message's content), and that an entry added invalidates the cached 360
// view.
#include "services/customer_store/app/engine_timeline.h"

#include <catch2/catch.hpp>
#include <map>

#include "tests/support/fakes/customer_store/fake_view_cache.h"

namespace {

using crm::customer_store::app::ActivityRepository;
using crm::customer_store::app::EngineTimeline;
using crm::customer_store::app::MessageActivityOf;
using crm::customer_store::app::TicketActivityOf;
using crm::events::MessageEvent;
using crm::events::TicketEvent;

constexpr char kTenant[] = "11111111-1111-4111-8111-111111111111";
constexpr char kCustomer[] = "22222222-2222-4222-8222-222222222222";

MessageEvent Event(const std::string& kind, const std::string& event_id) {
  MessageEvent m;
  m.tenant_id = kTenant;
  m.event_id = event_id;
  m.kind = kind;
  m.message_id = "44444444-4444-4444-8444-444444444444";
  m.customer_id = kCustomer;
  m.channel = "email";
  m.purpose = "marketing";
  m.template_id = "spring";
  m.campaign_id = "55555555-5555-4555-8555-555555555555";
  m.occurred_time = absl::FromUnixSeconds(1800000000);
  return m;
}

// Entries by id; customers that exist.
class FakeActivities final : public ActivityRepository {
 public:
  absl::StatusOr<bool> RecordActivity(const Activity& a) override {
    if (a.customer_id != kCustomer) return false;
    return entries.emplace(a.id, a).second;
  }
  std::map<std::string, Activity> entries;
};

TEST_CASE("Message events are email entries of the timeline, ids only",
          "[customer_store][timeline]") {
  auto sent = MessageActivityOf(Event("sent", "33333333-3333-4333-8333-333333333301"));
  REQUIRE(sent.has_value());
  CHECK(sent->kind == crm::customer_store::domain::InteractionKind::kEmail);
  CHECK(sent->id == "33333333-3333-4333-8333-333333333301");
  CHECK(sent->summary == "Sent marketing email \"spring\" (campaign)");
  CHECK(sent->source == "delivery");
  CHECK(sent->time == absl::FromUnixSeconds(1800000000));
  CHECK(sent->payload_json ==
        R"({"campaign_id":"55555555-5555-4555-8555-555555555555","event":"sent",)"
        R"("message_id":"44444444-4444-4444-8444-444444444444","template_id":"spring"})");
  MessageEvent converted = Event("converted", "33333333-3333-4333-8333-333333333302");
  converted.order_id = "66666666-6666-4666-8666-666666666666";
  auto c = MessageActivityOf(converted);
  REQUIRE(c.has_value());
  CHECK(c->summary == "Ordered after marketing email \"spring\" (campaign)");
  CHECK(c->payload_json.find("\"order_id\":\"66666666-6666-4666-8666-666666666666\"") !=
        std::string::npos);
  CHECK(MessageActivityOf(Event("clicked", "33333333-3333-4333-8333-333333333303"))->summary ==
        "Clicked a link in marketing email \"spring\" (campaign)");
  // A webhook, a malformed id, another kind: no entry.
  MessageEvent hook = Event("sent", "33333333-3333-4333-8333-333333333304");
  hook.channel = "webhook";
  CHECK_FALSE(MessageActivityOf(hook).has_value());
  CHECK_FALSE(MessageActivityOf(Event("sent", "not-a-uuid")).has_value());
  CHECK_FALSE(
      MessageActivityOf(Event("queued", "33333333-3333-4333-8333-333333333305")).has_value());
}

TEST_CASE("SMS and push messages are entries of their own kinds", "[customer_store][timeline]") {
  MessageEvent sms = Event("sent", "33333333-3333-4333-8333-333333333311");
  sms.channel = "sms";
  auto s = MessageActivityOf(sms);
  REQUIRE(s.has_value());
  CHECK(s->kind == crm::customer_store::domain::InteractionKind::kSms);
  CHECK(s->channel == "sms");
  CHECK(s->summary == "Sent marketing SMS \"spring\" (campaign)");
  MessageEvent push = Event("converted", "33333333-3333-4333-8333-333333333312");
  push.channel = "push";
  push.campaign_id.clear();
  auto p = MessageActivityOf(push);
  REQUIRE(p.has_value());
  CHECK(p->kind == crm::customer_store::domain::InteractionKind::kPush);
  CHECK(p->summary == "Ordered after marketing push notification \"spring\"");
  MessageEvent unsubscribed = Event("unsubscribed", "33333333-3333-4333-8333-333333333313");
  CHECK(MessageActivityOf(unsubscribed)->summary ==
        "Unsubscribed from marketing email through marketing email \"spring\" (campaign)");
}

TEST_CASE("An entry is added once and invalidates the view", "[customer_store][timeline]") {
  FakeActivities repo;
  crm::testing::FakeViewCache cache;
  EngineTimeline timeline(repo, cache);
  const MessageEvent opened = Event("opened", "33333333-3333-4333-8333-333333333306");
  REQUIRE(timeline.Apply(opened).ok());
  REQUIRE(timeline.Apply(opened).ok());  // redelivered
  CHECK(repo.entries.size() == 1);
  CHECK(cache.invalidate_calls() == 1);
  MessageEvent gone = Event("opened", "33333333-3333-4333-8333-333333333307");
  gone.customer_id = "77777777-7777-4777-8777-777777777777";  // erased
  REQUIRE(timeline.Apply(gone).ok());
  CHECK(repo.entries.size() == 1);
}

TEST_CASE("Ticket events are ticket entries of the timeline, notes excluded",
          "[customer_store][timeline]") {
  auto ticket = [](const std::string& kind, const std::string& event_id) {
    TicketEvent t;
    t.tenant_id = kTenant;
    t.event_id = event_id;
    t.kind = kind;
    t.ticket_id = "66666666-6666-4666-8666-666666666666";
    t.number = 12;
    t.customer_id = kCustomer;
    t.subject = "Charged twice";
    t.channel = "email";
    t.status = "new";
    t.occurred_time = absl::FromUnixSeconds(1800000000);
    return t;
  };
  auto opened = TicketActivityOf(ticket("created", "33333333-3333-4333-8333-333333333320"));
  REQUIRE(opened.has_value());
  CHECK(opened->kind == crm::customer_store::domain::InteractionKind::kTicket);
  CHECK(opened->summary == "Opened ticket #12 \"Charged twice\"");
  CHECK(opened->source == "service-desk");
  CHECK(opened->channel == "email");
  CHECK(opened->id == "33333333-3333-4333-8333-333333333320");
  TicketEvent wrote = ticket("message_added", "33333333-3333-4333-8333-333333333321");
  wrote.message_kind = "customer";
  CHECK(TicketActivityOf(wrote)->summary == "Wrote on ticket #12");
  wrote.message_kind = "public_reply";
  CHECK(TicketActivityOf(wrote)->summary == "Was answered on ticket #12");
  wrote.message_kind = "internal_note";
  CHECK_FALSE(TicketActivityOf(wrote).has_value());
  TicketEvent moved = ticket("status_changed", "33333333-3333-4333-8333-333333333322");
  moved.from_status = "open";
  moved.status = "solved";
  CHECK(TicketActivityOf(moved)->summary == "Ticket #12 solved");
  moved.from_status = "solved";
  moved.status = "open";
  CHECK(TicketActivityOf(moved)->summary == "Ticket #12 reopened");
  moved.from_status = "open";
  moved.status = "pending_customer";
  CHECK_FALSE(TicketActivityOf(moved).has_value());
  CHECK_FALSE(TicketActivityOf(ticket("created", "not-a-uuid")).has_value());
  TicketEvent rated = ticket("survey_answered", "33333333-3333-4333-8333-333333333324");
  rated.survey_kind = "csat";
  rated.rating = 4;
  auto csat = TicketActivityOf(rated);
  REQUIRE(csat.has_value());
  CHECK(csat->summary == "Rated the help on ticket #12 4 of 5");
  CHECK(csat->payload_json.find("\"rating\":4") != std::string::npos);
  rated.survey_kind = "nps";
  rated.rating = 0;
  CHECK(TicketActivityOf(rated)->summary == "Would recommend us 0 of 10 (after ticket #12)");
  rated.rating = 11;  // not a rating: no entry
  CHECK_FALSE(TicketActivityOf(rated).has_value());

  FakeActivities repo;
  crm::testing::FakeViewCache cache;
  EngineTimeline timeline(repo, cache);
  REQUIRE(timeline.Apply(ticket("created", "33333333-3333-4333-8333-333333333323")).ok());
  REQUIRE(timeline.Apply(ticket("created", "33333333-3333-4333-8333-333333333323")).ok());
  CHECK(repo.entries.size() == 1);
  CHECK(cache.invalidate_calls() == 1);
}

}  // namespace
