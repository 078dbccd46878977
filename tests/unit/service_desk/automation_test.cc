// Time-based automations: their checks, when one is due (its clock, its
// hours, its last firing, its conditions), the sweep over tenants (the
// firing's changes, note and audit, no second firing until the instant
// moves, refusals, triggers after it), the etag and tenants.
#include "services/service_desk/domain/automation.h"

#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "libs/common/errors.h"
#include "libs/common/id.h"
#include "services/service_desk/app/automations.h"
#include "services/service_desk/app/tickets.h"
#include "services/service_desk/app/triggers.h"
#include "tests/support/fakes/common_fakes.h"
#include "tests/support/fakes/service_desk/fake_ticket_repository.h"

namespace {

namespace sd = crm::service_desk;
using sd::domain::Automation;
using sd::domain::AutomationClock;
using sd::domain::Automations;
using sd::domain::Ticket;
using sd::domain::TicketStatus;

constexpr char kTenant[] = "11111111-1111-4111-8111-111111111111";
constexpr char kOther[] = "22222222-2222-4222-8222-222222222222";
const absl::Time kStart = absl::FromUnixSeconds(1'800'000'000);

// Pending on the customer for 48 hours: solved, with a note.
Automation CloseWaiting() {
  Automation a;
  a.id = "close-waiting";
  a.name = "Close after two days waiting";
  a.since = AutomationClock::kStatusChanged;
  a.hours = 48;
  a.conditions = {{"status", "in", {"pending_customer"}}};
  a.action.status = TicketStatus::kSolved;
  a.action.add_tags = {"auto-solved"};
  a.note = "Solved by {{agent}}: no answer for two days.";
  return a;
}

TEST_CASE("automations are checked before they are stored", "[service_desk][automation]") {
  Automations ok{{CloseWaiting()}, 0, absl::InfinitePast()};
  REQUIRE(sd::domain::NormalizeAndValidate(ok).ok());
  const auto field = [](auto change) {
    Automations a{{CloseWaiting()}, 0, absl::InfinitePast()};
    change(a.automations[0]);
    return crm::common::FieldOf(sd::domain::NormalizeAndValidate(a));
  };
  CHECK(field([](Automation& a) { a.id = "Bad Id!"; }) == "automations[0].id");
  CHECK(field([](Automation& a) { a.hours = 0; }) == "automations[0].hours");
  CHECK(field([](Automation& a) { a.hours = 8761; }) == "automations[0].hours");
  CHECK(field([](Automation& a) {
          a.conditions = {{"status", "changed", {}}};
        }) == "automations[0].conditions[0].match");  // no write is under way
  CHECK(field([](Automation& a) { a.action.remove_tags = {"a b"}; }) ==
        "automations[0].action.remove_tags[0]");
  CHECK(field([](Automation& a) { a.note = "{{nope}}"; }) == "automations[0].note");
  CHECK(field([](Automation& a) {
          a.action = {};
          a.note.clear();
        }) == "automations[0].action");
  Automations twice{{CloseWaiting(), CloseWaiting()}, 0, absl::InfinitePast()};
  CHECK(crm::common::FieldOf(sd::domain::NormalizeAndValidate(twice)) == "automations[1].id");
  CHECK(sd::domain::AutomationClockFromName("status_changed") == AutomationClock::kStatusChanged);
  CHECK_FALSE(sd::domain::AutomationClockFromName("closed").has_value());
}

TEST_CASE("an automation is due once its hours passed, once per value of its instant",
          "[service_desk][automation]") {
  const Automation a = CloseWaiting();
  Ticket t;
  t.status = TicketStatus::kPendingCustomer;
  t.create_time = kStart;
  t.status_time = kStart + absl::Hours(1);
  const absl::Time due = t.status_time + absl::Hours(48);
  CHECK_FALSE(sd::domain::AutomationDue(a, t, absl::InfinitePast(), due - absl::Seconds(1)));
  CHECK(sd::domain::AutomationDue(a, t, absl::InfinitePast(), due));
  CHECK_FALSE(sd::domain::AutomationDue(a, t, due, due + absl::Hours(1)));      // fired already
  CHECK(sd::domain::AutomationDue(a, t, t.status_time - absl::Hours(1), due));  // before it moved
  Ticket open = t;
  open.status = TicketStatus::kOpen;
  CHECK_FALSE(sd::domain::AutomationDue(a, open, absl::InfinitePast(), due));  // conditions
  Ticket closed = t;
  closed.status = TicketStatus::kClosed;
  Automation any = a;
  any.conditions.clear();
  CHECK_FALSE(sd::domain::AutomationDue(any, closed, absl::InfinitePast(), due));
  Automation off = a;
  off.active = false;
  CHECK_FALSE(sd::domain::AutomationDue(off, t, absl::InfinitePast(), due));
  Automation solved = any;
  solved.since = AutomationClock::kSolved;  // never solved: never due
  CHECK_FALSE(sd::domain::AutomationDue(solved, t, absl::InfinitePast(), due + absl::Hours(999)));
  CHECK(sd::domain::ClockOf(AutomationClock::kCreated, t) == kStart);
}

struct World {
  crm::testing::FakeTicketRepository repo;
  crm::testing::FakeRequesterDirectory directory;
  crm::testing::FixedClock clock{kStart};
  crm::common::RandomIdGenerator ids;
  sd::app::Tickets tickets{repo, directory, clock, ids};
  sd::app::AutomationRules automations{repo, tickets, clock};
  sd::app::TriggerRules triggers{repo, clock};
  int keys = 0;

  sd::app::Actor Meta(const std::string& method, const std::string& tenant = kTenant) {
    return sd::app::Actor{tenant, "agent-ann", "req", method, "k" + std::to_string(++keys), "fp"};
  }
  Ticket Create(const std::string& tenant = kTenant) {
    clock.Advance(absl::Seconds(1));
    sd::app::NewTicket n;
    n.ticket.subject = "Parcel missing";
    n.requester.email = "eve@example.com";
    n.description = "It never came.";
    auto t = tickets.Create(Meta("CreateTicket", tenant), n);
    REQUIRE(t.ok());
    return *t;
  }
  Ticket Status(const std::string& id, TicketStatus s, const std::string& tenant = kTenant) {
    clock.Advance(absl::Seconds(1));
    Ticket patch;
    patch.status = s;
    auto t = tickets.Update(Meta("UpdateTicket", tenant), id, patch, {"status"}, "");
    REQUIRE(t.ok());
    return *t;
  }
};

TEST_CASE("the sweep fires due automations in writes of their own, audited, once per instant",
          "[service_desk][automation]") {
  World w;
  REQUIRE(w.automations
              .Update(w.Meta("UpdateAutomations"),
                      Automations{{CloseWaiting()}, 0, absl::InfinitePast()}, "0")
              .ok());
  // A trigger on updates tags what the automation solved.
  sd::domain::Trigger tag;
  tag.id = "solved-tag";
  tag.name = "Tag solved";
  tag.events = {sd::domain::TriggerEvent::kUpdated};
  tag.conditions = {{"status", "changed_to", {"solved"}}};
  tag.action.add_tags = {"solved-once"};
  REQUIRE(w.triggers.Update(w.Meta("UpdateTriggers"), {{tag}, 0, absl::InfinitePast()}, "0").ok());

  const Ticket waiting = w.Create();
  w.Status(waiting.id, TicketStatus::kPendingCustomer);
  const Ticket open = w.Create();  // stays open: not due
  const Ticket theirs = w.Create(kOther);
  w.Status(theirs.id, TicketStatus::kPendingCustomer, kOther);  // no automations there

  w.clock.Advance(absl::Hours(47));
  sd::app::AutomationRound early = w.automations.Sweep(100);
  CHECK(early.failure.ok());
  CHECK(early.fired == 0);
  w.clock.Advance(absl::Hours(2));
  sd::app::AutomationRound round = w.automations.Sweep(100);
  REQUIRE(round.failure.ok());
  CHECK(round.fired == 1);
  CHECK_FALSE(round.more);
  auto solved = w.tickets.Get(kTenant, waiting.id);
  REQUIRE(solved.ok());
  CHECK(solved->status == TicketStatus::kSolved);
  CHECK(solved->tags == std::vector<std::string>{"auto-solved", "solved-once"});
  auto thread = w.tickets.Messages(kTenant, waiting.id, "", 10);
  REQUIRE(thread.ok());
  REQUIRE(thread->items.size() == 2);
  CHECK(thread->items[1].author == "automation/close-waiting");
  CHECK(thread->items[1].body == "Solved by Close after two days waiting: no answer for two days.");
  auto changes = w.tickets.Changes(kTenant, waiting.id);
  REQUIRE(changes.ok());
  std::vector<std::string> rows;
  for (const auto& c : *changes) rows.push_back(c.field + " " + c.actor);
  CHECK(rows == std::vector<std::string>{"status agent-ann", "status automation/close-waiting",
                                         "tags automation/close-waiting",
                                         "tags trigger/solved-tag"});
  CHECK(w.tickets.Get(kTenant, open.id)->status == TicketStatus::kNew);
  CHECK(w.tickets.Get(kOther, theirs.id)->status == TicketStatus::kPendingCustomer);

  // Fired once: pending again later, it fires again only 48 hours after.
  CHECK(w.automations.Sweep(100).fired == 0);
  w.Status(waiting.id, TicketStatus::kOpen);
  w.Status(waiting.id, TicketStatus::kPendingCustomer);
  w.clock.Advance(absl::Hours(47));
  CHECK(w.automations.Sweep(100).fired == 0);
  w.clock.Advance(absl::Hours(2));
  CHECK(w.automations.Sweep(100).fired == 1);

  // Pages: a batch of one reads one candidate a round and continues.
  const Ticket a = w.Create();
  const Ticket b = w.Create();
  w.Status(a.id, TicketStatus::kPendingCustomer);
  w.Status(b.id, TicketStatus::kPendingCustomer);
  w.clock.Advance(absl::Hours(49));
  int fired = 0;
  for (int i = 0; i < 4; ++i) fired += w.automations.Sweep(1).fired;
  CHECK(fired == 2);
}

TEST_CASE("a change the ticket refuses is audited once, and automations are the tenant's",
          "[service_desk][automation]") {
  World w;
  Automation back;
  back.id = "back-to-new";
  back.name = "Back to new";
  back.since = AutomationClock::kCreated;
  back.hours = 1;
  back.action.status = TicketStatus::kNew;  // an open ticket cannot become new
  REQUIRE(w.automations.Update(w.Meta("UpdateAutomations"), {{back}, 0, absl::InfinitePast()}, "")
              .ok());
  const Ticket t = w.Create();
  w.Status(t.id, TicketStatus::kOpen);
  w.clock.Advance(absl::Hours(2));
  CHECK(w.automations.Sweep(10).fired == 1);
  CHECK(w.automations.Sweep(10).fired == 0);  // recorded: not tried again
  auto changes = w.tickets.Changes(kTenant, t.id);
  REQUIRE(changes.ok());
  REQUIRE(changes->size() == 2);
  CHECK(changes->back().field == "automation_refused");
  CHECK(changes->back().new_value.rfind("back-to-new: ", 0) == 0);
  CHECK(changes->back().actor == "automation/back-to-new");

  CHECK(w.automations.Get(kOther)->automations.empty());
  CHECK(
      crm::common::ReasonOf(
          w.automations.Update(w.Meta("UpdateAutomations"), {{back}, 0, absl::InfinitePast()}, "0")
              .status()) == "ETAG_MISMATCH");
  auto cleared = w.automations.Update(w.Meta("UpdateAutomations"), {}, "1");
  REQUIRE(cleared.ok());
  CHECK(cleared->version == 2);
  CHECK(w.automations.Sweep(10).examined == 0);  // nothing to sweep
}

}  // namespace
