// Triggers: their checks, the conditions on what a write changed, passes
// and chains, the chain-depth guard, refusals and events (pure); run in
// the ticket writes (creation, update, messages, macros) with their audit
// and notes, the dry run, the etag and tenants.
#include "services/service_desk/domain/trigger.h"

#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "libs/common/errors.h"
#include "libs/common/id.h"
#include "services/service_desk/app/macros.h"
#include "services/service_desk/app/slas.h"
#include "services/service_desk/app/tickets.h"
#include "services/service_desk/app/triggers.h"
#include "tests/support/fakes/common_fakes.h"
#include "tests/support/fakes/service_desk/fake_ticket_repository.h"

namespace {

namespace sd = crm::service_desk;
using sd::domain::Macro;
using sd::domain::Ticket;
using sd::domain::Trigger;
using sd::domain::TriggerEvent;
using sd::domain::Triggers;

const absl::Time kNow = absl::FromUnixSeconds(1'800'000'000);
constexpr char kTenant[] = "11111111-1111-4111-8111-111111111111";
constexpr char kOther[] = "22222222-2222-4222-8222-222222222222";

Trigger Make(const std::string& id, std::vector<sd::domain::RoutingCondition> conditions,
             std::vector<TriggerEvent> events = {TriggerEvent::kCreated, TriggerEvent::kUpdated}) {
  Trigger t;
  t.id = id;
  t.name = "Trigger " + id;
  t.events = std::move(events);
  t.conditions = std::move(conditions);
  return t;
}

Ticket Open(std::vector<std::string> tags = {}) {
  Ticket t;
  t.id = "t1";
  t.number = 7;
  t.subject = "Card charged twice";
  t.status = sd::domain::TicketStatus::kOpen;
  t.priority = sd::domain::Priority::kNormal;
  t.requester_email = "eve@example.com";
  t.tags = std::move(tags);
  t.create_time = t.update_time = kNow - absl::Hours(1);
  return t;
}

std::string FieldOf(Triggers t) {
  return crm::common::FieldOf(sd::domain::NormalizeAndValidate(t));
}

TEST_CASE("triggers are checked before they are stored", "[service_desk][trigger]") {
  Trigger ok = Make(" VIP-Urgent ", {{"tags", "in", {"VIP"}}, {"status", "changed", {}}});
  ok.action.priority = sd::domain::Priority::kUrgent;
  ok.action.add_tags = {"Escalated"};
  ok.events = {TriggerEvent::kUpdated, TriggerEvent::kCreated, TriggerEvent::kUpdated};
  Triggers good{{ok}, 0, absl::InfinitePast()};
  REQUIRE(sd::domain::NormalizeAndValidate(good).ok());
  CHECK(good.triggers[0].id == "vip-urgent");
  CHECK(good.triggers[0].events ==
        std::vector<TriggerEvent>{TriggerEvent::kCreated, TriggerEvent::kUpdated});
  CHECK(good.triggers[0].action.add_tags == std::vector<std::string>{"escalated"});

  const auto with = [&](auto change) {
    Triggers t{{ok}, 0, absl::InfinitePast()};
    change(t.triggers[0]);
    return FieldOf(t);
  };
  CHECK(with([](Trigger& t) { t.id = "no spaces"; }) == "triggers[0].id");
  CHECK(with([](Trigger& t) { t.name = ""; }) == "triggers[0].name");
  CHECK(with([](Trigger& t) { t.events.clear(); }) == "triggers[0].events");
  CHECK(with([](Trigger& t) { t.conditions[1].values = {"open"}; }) ==
        "triggers[0].conditions[1].values");  // changed takes no values
  CHECK(with([](Trigger& t) {
          t.conditions = {{"status", "changed_to", {"gone"}}};
        }) == "triggers[0].conditions[0].values[0]");
  CHECK(with([](Trigger& t) {
          t.conditions = {{"description", "in", {"x"}}};
        }) == "triggers[0].conditions[0].field");
  CHECK(with([](Trigger& t) { t.action.add_tags = {"two words"}; }) ==
        "triggers[0].action.add_tags[0]");
  CHECK(with([](Trigger& t) { t.note = "Dear {{ticket.secret}}"; }) == "triggers[0].note");
  CHECK(with([](Trigger& t) {
          t.action = {};
          t.note.clear();
        }) == "triggers[0].action");
  Triggers twice{{ok, ok}, 0, absl::InfinitePast()};
  CHECK(FieldOf(twice) == "triggers[1].id");
  // Routing rules and SLA policies read no changes.
  std::vector<sd::domain::RoutingCondition> change = {{"tags", "changed", {}}};
  CHECK(crm::common::FieldOf(sd::domain::NormalizeAndValidateConditions(
            change, "rules[0].conditions", sd::domain::ConditionScope::kRouting)) ==
        "rules[0].conditions[0].match");
}

TEST_CASE("a trigger reads what the write changed, and a creation changed every set field",
          "[service_desk][trigger]") {
  Trigger urgent = Make("urgent", {{"priority", "changed_to", {"urgent"}}});
  urgent.action.add_tags = {"escalated"};
  Triggers ts{{urgent}, 1, kNow};
  Ticket before = Open();
  Ticket after = before;
  after.priority = sd::domain::Priority::kUrgent;
  auto run = sd::domain::RunTriggers(ts, {TriggerEvent::kUpdated}, &before, after, kNow);
  REQUIRE(run.fired.size() == 1);
  CHECK(run.ticket.tags == std::vector<std::string>{"escalated"});
  CHECK(run.fired[0].changes.size() == 1);
  CHECK(run.fired[0].changes[0].field == "tags");
  CHECK(run.fired[0].changes[0].actor == "trigger/urgent");
  // Already urgent before the write: nothing changed to urgent.
  before.priority = sd::domain::Priority::kUrgent;
  CHECK(sd::domain::RunTriggers(ts, {TriggerEvent::kUpdated}, &before, after, kNow).fired.empty());
  // A creation at urgent: changed to it from nothing.
  CHECK(sd::domain::RunTriggers(ts, {TriggerEvent::kCreated}, nullptr, after, kNow).fired.size() ==
        1);
  // Not among its events: a customer's message does not run it.
  before.priority = sd::domain::Priority::kNormal;
  CHECK(sd::domain::RunTriggers(ts, {TriggerEvent::kCustomerMessage}, &before, after, kNow)
            .fired.empty());
  // Inactive: never.
  ts.triggers[0].active = false;
  CHECK(sd::domain::RunTriggers(ts, {TriggerEvent::kUpdated}, &before, after, kNow).fired.empty());

  // "changed" without values: any change, a cleared assignee included.
  Trigger unassigned = Make("unassigned", {{"assignee", "changed", {}}});
  unassigned.note = "{{agent}}: assignee of #{{ticket.number}} changed";
  Triggers notes{{unassigned}, 1, kNow};
  Ticket was = Open();
  was.assignee = "ann";
  Ticket now = was;
  now.assignee = "";
  auto noted = sd::domain::RunTriggers(notes, {TriggerEvent::kUpdated}, &was, now, kNow);
  REQUIRE(noted.fired.size() == 1);
  CHECK(noted.fired[0].note == "Trigger unassigned: assignee of #7 changed");
  CHECK(noted.fired[0].changes.empty());
  CHECK(sd::domain::RunTriggers(notes, {TriggerEvent::kUpdated}, &was, was, kNow).fired.empty());
}

TEST_CASE("triggers chain over passes, each fires once, and the guard cuts a long chain",
          "[service_desk][trigger]") {
  // Listed before the trigger that makes its condition hold: it fires in
  // the second pass.
  Trigger tag = Make("tag-escalated", {{"priority", "in", {"urgent"}}});
  tag.action.add_tags = {"escalated"};
  Trigger vip = Make("vip", {{"tags", "in", {"vip"}}});
  vip.action.priority = sd::domain::Priority::kUrgent;
  Trigger queue = Make("escalated-queue", {{"tags", "changed_to", {"escalated"}}});
  queue.action.queue = "tier2";
  Triggers ts{{tag, vip, queue}, 1, kNow};
  Ticket before = Open();
  Ticket after = Open({"vip"});
  auto run = sd::domain::RunTriggers(ts, {TriggerEvent::kUpdated}, &before, after, kNow);
  REQUIRE(run.fired.size() == 3);
  CHECK(run.fired[0].trigger_id == "vip");
  CHECK(run.fired[1].trigger_id == "tag-escalated");
  CHECK(run.fired[2].trigger_id == "escalated-queue");
  CHECK(run.ticket.priority == sd::domain::Priority::kUrgent);
  CHECK(run.ticket.queue == "tier2");
  CHECK(run.ticket.tags == std::vector<std::string>{"escalated", "vip"});
  CHECK_FALSE(run.chain_cut);

  // Two that undo each other stop: each fires once a write.
  Trigger low = Make("low", {{"priority", "in", {"urgent"}}});
  low.action.priority = sd::domain::Priority::kLow;
  Trigger high = Make("high", {{"priority", "in", {"low"}}});
  high.action.priority = sd::domain::Priority::kUrgent;
  Triggers flip{{low, high}, 1, kNow};
  Ticket u = Open();
  u.priority = sd::domain::Priority::kUrgent;
  auto flipped = sd::domain::RunTriggers(flip, {TriggerEvent::kUpdated}, &before, u, kNow);
  CHECK(flipped.fired.size() == 2);
  CHECK(flipped.ticket.priority == sd::domain::Priority::kUrgent);

  // A chain of twelve listed last link first: one link a pass; the tenth
  // pass ends it and says so.
  Triggers chain;
  for (int i = 12; i >= 1; --i) {
    Trigger link =
        Make("link-" + std::to_string(i), {{"tags", "in", {"step-" + std::to_string(i - 1)}}});
    link.action.add_tags = {"step-" + std::to_string(i)};
    chain.triggers.push_back(link);
  }
  auto cut =
      sd::domain::RunTriggers(chain, {TriggerEvent::kUpdated}, &before, Open({"step-0"}), kNow);
  CHECK(cut.fired.size() == static_cast<size_t>(sd::domain::kMaxTriggerPasses));
  CHECK(cut.chain_cut);
  chain.triggers.erase(chain.triggers.begin(), chain.triggers.begin() + 2);  // ten links
  CHECK_FALSE(
      sd::domain::RunTriggers(chain, {TriggerEvent::kUpdated}, &before, Open({"step-0"}), kNow)
          .chain_cut);
}

TEST_CASE("a change the ticket refuses is reported, and the rest still run",
          "[service_desk][trigger]") {
  Trigger reopen = Make("reopen", {{"tags", "in", {"again"}}});
  reopen.action.status = sd::domain::TicketStatus::kOpen;
  Trigger tag = Make("tag", {{"tags", "in", {"again"}}});
  tag.action.add_tags = {"seen"};
  Triggers ts{{reopen, tag}, 1, kNow};
  Ticket closed = Open({"again"});
  closed.status = sd::domain::TicketStatus::kClosed;
  auto run = sd::domain::RunTriggers(ts, {TriggerEvent::kUpdated}, &closed, closed, kNow);
  REQUIRE(run.refused.size() == 2);  // a closed ticket takes no change
  CHECK(run.refused[0].first == "reopen");
  CHECK(run.fired.empty());
  Ticket pending = Open({"again"});
  pending.status = sd::domain::TicketStatus::kPendingCustomer;
  auto ok = sd::domain::RunTriggers(ts, {TriggerEvent::kUpdated}, &pending, pending, kNow);
  CHECK(ok.refused.empty());
  CHECK(ok.fired.size() == 2);
  CHECK(ok.ticket.status == sd::domain::TicketStatus::kOpen);
}

struct World {
  crm::testing::FakeTicketRepository repo;
  crm::testing::FakeRequesterDirectory directory;
  crm::testing::FixedClock clock{kNow};
  crm::common::RandomIdGenerator ids;
  sd::app::Tickets tickets{repo, directory, clock, ids};
  sd::app::Macros macros{repo, tickets, clock, ids};
  sd::app::TriggerRules triggers{repo, clock};
  int keys = 0;

  sd::app::Actor Meta(const std::string& method, const std::string& tenant = kTenant) {
    return sd::app::Actor{tenant, "agent-ann", "req", method, "k" + std::to_string(++keys), "fp"};
  }
  Ticket Create(const std::string& email, const std::string& tenant = kTenant) {
    clock.Advance(absl::Seconds(1));
    sd::app::NewTicket n;
    n.ticket.subject = "Parcel missing";
    n.requester.email = email;
    n.description = "It never came.";
    auto t = tickets.Create(Meta("CreateTicket", tenant), n);
    REQUIRE(t.ok());
    return *t;
  }
  std::vector<std::string> Audit(const std::string& id) {
    clock.Advance(absl::Seconds(1));
    auto changes = tickets.Changes(kTenant, id);
    REQUIRE(changes.ok());
    std::vector<std::string> out;
    for (const auto& c : *changes) out.push_back(c.field + " " + c.new_value + " " + c.actor);
    return out;
  }
};

Triggers DeskTriggers() {
  Trigger vip =
      Make("vip", {{"requester_domain", "in", {"vip.example"}}}, {TriggerEvent::kCreated});
  vip.action.priority = sd::domain::Priority::kUrgent;
  vip.action.add_tags = {"vip"};
  vip.note = "VIP ticket #{{ticket.number}} from {{requester.email}} ({{agent}})";
  Trigger pending =
      Make("reply-pending", {{"status", "in", {"open"}}}, {TriggerEvent::kAgentMessage});
  pending.action.status = sd::domain::TicketStatus::kPendingCustomer;
  Trigger back =
      Make("customer-back", {{"status", "changed_to", {"open"}}}, {TriggerEvent::kCustomerMessage});
  back.action.add_tags = {"customer-back"};
  Trigger close =
      Make("close-me", {{"tags", "changed_to", {"close-me"}}}, {TriggerEvent::kUpdated});
  close.action.status = sd::domain::TicketStatus::kClosed;  // open -> closed: refused
  return Triggers{{vip, pending, back, close}, 0, absl::InfinitePast()};
}

TEST_CASE("triggers run in creations, updates, messages and macros, audited with their notes",
          "[service_desk][trigger]") {
  World w;
  auto stored = w.triggers.Update(w.Meta("UpdateTriggers"), DeskTriggers(), "0");
  REQUIRE(stored.ok());
  CHECK(stored->version == 1);

  // Created by a VIP: urgent, tagged, a note after the first message.
  const Ticket vip = w.Create("Ada@VIP.example");
  CHECK(vip.priority == sd::domain::Priority::kUrgent);
  CHECK(vip.tags == std::vector<std::string>{"vip"});
  CHECK(vip.message_count == 2);
  auto thread = w.tickets.Messages(kTenant, vip.id, "", 10);
  REQUIRE(thread.ok());
  REQUIRE(thread->items.size() == 2);
  CHECK(thread->items[0].kind == sd::domain::MessageKind::kCustomer);
  CHECK(thread->items[1].kind == sd::domain::MessageKind::kInternalNote);
  CHECK(thread->items[1].author == "trigger/vip");
  CHECK(thread->items[1].body == "VIP ticket #1 from ada@vip.example (Trigger vip)");
  CHECK(w.Audit(vip.id) ==
        std::vector<std::string>{"priority urgent trigger/vip", "tags vip trigger/vip"});
  const Ticket plain = w.Create("bob@example.com");
  CHECK(plain.priority == sd::domain::Priority::kNormal);
  CHECK(plain.message_count == 1);

  // An agent's reply: new -> open by the reply, then pending by the trigger.
  auto replied = w.tickets.AddMessage(w.Meta("AddTicketMessage"), plain.id,
                                      sd::domain::MessageKind::kPublicReply, "Looking into it.");
  REQUIRE(replied.ok());
  CHECK(replied->ticket.status == sd::domain::TicketStatus::kPendingCustomer);
  // The customer answers: pending -> open, and the trigger tags it.
  auto back = w.tickets.AddMessage(w.Meta("AddTicketMessage"), plain.id,
                                   sd::domain::MessageKind::kCustomer, "Still nothing.");
  REQUIRE(back.ok());
  CHECK(back->ticket.status == sd::domain::TicketStatus::kOpen);
  CHECK(back->ticket.tags == std::vector<std::string>{"customer-back"});
  CHECK(w.Audit(plain.id) ==
        std::vector<std::string>{
            "status open agent-ann", "status pending_customer trigger/reply-pending",
            "status open customer", "tags customer-back trigger/customer-back"});

  // An update the trigger's change cannot follow: refused, and audited.
  Ticket patch;
  patch.tags = {"close-me"};
  auto updated = w.tickets.Update(w.Meta("UpdateTicket"), plain.id, patch, {"tags"}, "");
  REQUIRE(updated.ok());
  CHECK(updated->status == sd::domain::TicketStatus::kOpen);
  const std::vector<std::string> audit = w.Audit(plain.id);
  REQUIRE(audit.size() == 6);
  CHECK(audit[4] == "tags close-me agent-ann");
  CHECK(audit[5].rfind("trigger_refused close-me: ", 0) == 0);

  // A macro with a reply and a change runs the triggers once, for both.
  Macro reply;
  reply.name = "Ask and raise";
  reply.reply = "Could you send a photo?";
  reply.priority = sd::domain::Priority::kHigh;
  auto m = w.macros.Create(w.Meta("CreateMacro"), reply);
  REQUIRE(m.ok());
  auto applied = w.macros.Apply(w.Meta("ApplyMacro"), plain.id, m->id, false, "");
  REQUIRE(applied.ok());
  CHECK(applied->result.ticket.status == sd::domain::TicketStatus::kPendingCustomer);
  CHECK(applied->result.ticket.priority == sd::domain::Priority::kHigh);
  int pendings = 0;
  for (const std::string& row : w.Audit(plain.id)) {
    if (row == "status pending_customer trigger/reply-pending") ++pendings;
  }
  CHECK(pendings == 2);  // the first reply's and the macro's

  // Another tenant's tickets run none of them.
  const Ticket theirs = w.Create("ada@vip.example", kOther);
  CHECK(theirs.priority == sd::domain::Priority::kNormal);
  CHECK(w.triggers.Get(kOther)->triggers.empty());
}

TEST_CASE("a dry run of triggers writes nothing, and triggers are written under their etag",
          "[service_desk][trigger]") {
  World w;
  const Ticket t = w.Create("ada@vip.example");
  // Proposed triggers, tried on a stored ticket as if it were being created.
  auto dry = w.triggers.DryRun(kTenant, DeskTriggers(), {t.id}, TriggerEvent::kCreated);
  REQUIRE(dry.ok());
  REQUIRE(dry->size() == 1);
  CHECK(dry->at(0).ticket.id == t.id);
  REQUIRE(dry->at(0).run.fired.size() == 1);
  CHECK(dry->at(0).run.fired[0].trigger_id == "vip");
  CHECK(dry->at(0).run.fired[0].note == "VIP ticket #1 from ada@vip.example (Trigger vip)");
  CHECK(dry->at(0).run.ticket.priority == sd::domain::Priority::kUrgent);
  // As an update of nothing: "changed" conditions do not hold.
  auto update = w.triggers.DryRun(kTenant, DeskTriggers(), {t.id}, TriggerEvent::kUpdated);
  REQUIRE(update.ok());
  CHECK(update->at(0).run.fired.empty());
  // Nothing was written; the stored triggers (none) fire nothing.
  CHECK(w.tickets.Get(kTenant, t.id)->version == t.version);
  CHECK(w.triggers.DryRun(kTenant, std::nullopt, {t.id}, TriggerEvent::kCreated)
            ->at(0)
            .run.fired.empty());

  // Bad input and other tenants.
  const auto field = [&](std::vector<std::string> ids) {
    return crm::common::FieldOf(
        w.triggers.DryRun(kTenant, std::nullopt, ids, TriggerEvent::kCreated).status());
  };
  CHECK(field({}) == "ticket_ids");
  CHECK(field({"nope"}) == "ticket_ids[0]");
  CHECK(field(std::vector<std::string>(21, t.id)) == "ticket_ids");
  Triggers bad = DeskTriggers();
  bad.triggers[1].id = "vip";
  CHECK(crm::common::FieldOf(
            w.triggers.DryRun(kTenant, bad, {t.id}, TriggerEvent::kCreated).status()) ==
        "triggers[1].id");
  CHECK(crm::common::ReasonOf(
            w.triggers.DryRun(kOther, std::nullopt, {t.id}, TriggerEvent::kCreated).status()) ==
        "TICKET_NOT_FOUND");

  // The etag: "0" before the first write, then the version.
  REQUIRE(w.triggers.Update(w.Meta("UpdateTriggers"), DeskTriggers(), "0").ok());
  CHECK(crm::common::ReasonOf(
            w.triggers.Update(w.Meta("UpdateTriggers"), DeskTriggers(), "0").status()) ==
        "ETAG_MISMATCH");
  auto second = w.triggers.Update(w.Meta("UpdateTriggers"), Triggers{}, "1");
  REQUIRE(second.ok());
  CHECK(second->version == 2);
  CHECK(w.triggers.Get(kTenant)->triggers.empty());
  CHECK(crm::common::FieldOf(w.triggers.Update(w.Meta("UpdateTriggers"), bad, "").status()) ==
        "triggers[1].id");
}

TEST_CASE("SLA notices run escalation triggers in the sweep's write, told once",
          "[service_desk][trigger]") {
  World w;
  sd::app::Slas slas{w.repo, w.clock};
  sd::domain::SlaPolicySpec policy;  // 24/7; first reply in an hour, urgent in 15 minutes
  policy.hours.always_open = true;
  policy.targets_by_priority["normal"] = {absl::Hours(1), std::nullopt, std::nullopt, std::nullopt};
  policy.targets_by_priority["urgent"] = {absl::Minutes(15), std::nullopt, std::nullopt,
                                          std::nullopt};
  REQUIRE(slas.UpdatePolicy(w.Meta("UpdateSlaPolicy"), policy, "").ok());
  Trigger raise =
      Make("breach-raise", {{"priority", "in", {"normal", "low"}}}, {TriggerEvent::kSlaBreach});
  raise.action.priority = sd::domain::Priority::kUrgent;
  raise.action.add_tags = {"sla-breached"};
  raise.note = "{{agent}}: #{{ticket.number}} breached, now {{ticket.priority}}";
  REQUIRE(w.triggers.Update(w.Meta("UpdateTriggers"), {{raise}, 0, absl::InfinitePast()}, "").ok());
  slas.Sweep(100);  // the policy's re-evaluation of no ticket ends

  const Ticket t = w.Create("eve@example.com");
  CHECK(t.priority == sd::domain::Priority::kNormal);
  w.clock.Advance(absl::Minutes(61));
  auto round = slas.Sweep(100);
  REQUIRE(round.failure.ok());
  CHECK(round.notices == 1);  // the breach
  auto raised = w.tickets.Get(kTenant, t.id);
  REQUIRE(raised.ok());
  CHECK(raised->priority == sd::domain::Priority::kUrgent);
  CHECK(raised->tags == std::vector<std::string>{"sla-breached"});
  CHECK(raised->version == t.version + 1);
  auto thread = w.tickets.Messages(kTenant, t.id, "", 10);
  REQUIRE(thread.ok());
  REQUIRE(thread->items.size() == 2);
  CHECK(thread->items[1].author == "trigger/breach-raise");
  CHECK(thread->items[1].body == "Trigger breach-raise: #1 breached, now urgent");
  CHECK(w.Audit(t.id) == std::vector<std::string>{"priority urgent trigger/breach-raise",
                                                  "tags sla-breached trigger/breach-raise"});
  // Due again at once: the next round evaluates it under its new priority;
  // the breach is not told twice, the trigger does not run again.
  auto again = slas.Sweep(100);
  CHECK(again.evaluated == 1);
  CHECK(again.notices == 0);
  CHECK(w.tickets.Get(kTenant, t.id)->version == raised->version);
}

TEST_CASE("survey_answered triggers read the answer's kind and rating", "[service_desk][trigger]") {
  Trigger bad =
      Make("bad-csat", {{"survey_kind", "in", {"csat"}}, {"survey_rating", "in", {"1", "2"}}},
           {TriggerEvent::kSurveyAnswered});
  bad.action.add_tags = {"bad_csat"};
  Triggers ts{{bad}, 0, kNow};
  REQUIRE(sd::domain::NormalizeAndValidate(ts).ok());
  const Ticket t = Open();
  const sd::domain::SurveyAnswerFacts poor{"csat", 2}, fine{"csat", 4}, nps{"nps", 2};
  CHECK(sd::domain::RunTriggers(ts, {TriggerEvent::kSurveyAnswered}, &t, t, kNow, &poor)
            .ticket.tags == std::vector<std::string>{"bad_csat"});
  CHECK(sd::domain::RunTriggers(ts, {TriggerEvent::kSurveyAnswered}, &t, t, kNow, &fine)
            .fired.empty());
  CHECK(sd::domain::RunTriggers(ts, {TriggerEvent::kSurveyAnswered}, &t, t, kNow, &nps)
            .fired.empty());
  // Another event has no answer: the fields read "".
  CHECK(sd::domain::RunTriggers(ts, {TriggerEvent::kUpdated}, &t, t, kNow).fired.empty());
  CHECK(std::string(sd::domain::TriggerEventName(TriggerEvent::kSurveyAnswered)) ==
        "survey_answered");
  // Automations cannot name the answer's fields.
  std::vector<sd::domain::RoutingCondition> conditions = {{"survey_rating", "in", {"1"}}};
  CHECK(crm::common::FieldOf(sd::domain::NormalizeAndValidateConditions(
            conditions, "automations[0].conditions", sd::domain::ConditionScope::kAutomation)) ==
        "automations[0].conditions[0].field");
}

}  // namespace
