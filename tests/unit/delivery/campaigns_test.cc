// Campaigns over the in-memory fakes: the rules of a definition and of its
// states, expansion into ledger rows (variants, holdout, throttle, a page
// at a time, once), pause, resume, cancel, completion and results.
#include "services/delivery/app/campaigns.h"

#include <catch2/catch.hpp>

#include "absl/strings/str_cat.h"
#include "libs/common/errors.h"
#include "services/delivery/app/delivery.h"
#include "services/delivery/app/dispatcher.h"
#include "tests/support/fakes/common_fakes.h"
#include "tests/support/fakes/delivery/fake_delivery.h"

namespace {

using crm::common::FieldOf;
using crm::common::ReasonOf;
using crm::delivery::app::Campaigns;
using crm::delivery::domain::Campaign;
using crm::delivery::domain::CampaignAction;
using crm::delivery::domain::CampaignState;
using crm::delivery::domain::Channel;
using crm::delivery::domain::NextState;
using crm::delivery::domain::SendTimeOf;
using crm::delivery::domain::State;
using crm::delivery::domain::ValidateCampaign;

constexpr char kTenant[] = "11111111-1111-4111-8111-111111111111";
constexpr char kOther[] = "22222222-2222-4222-8222-222222222222";

std::string Customer(int i) { return crm::testing::SequentialIdGenerator::IdFor(100000 + i); }

struct World {
  crm::testing::FixedClock clock;
  crm::testing::SequentialIdGenerator ids;
  crm::testing::FakeDeliveryRepository repo{clock};
  crm::testing::FakeWorkQueue queue;
  crm::testing::FakeRenderer renderer;
  crm::testing::FakeSegmentDirectory segments;
  crm::testing::FakeCustomerDirectory directory;
  crm::testing::FakeTicketMailSource desk;
  crm::testing::FakeEmailChannel email;
  crm::testing::FakeWebhookChannel webhook;
  crm::testing::FakeNotificationChannel notify;
  crm::delivery::app::PolicyCache policies{repo, clock};
  Campaigns campaigns{repo, queue, renderer, segments, {3, 100}, clock, ids};
  crm::delivery::app::Dispatcher dispatcher{repo,
                                            repo,
                                            policies,
                                            directory,
                                            renderer,
                                            desk,
                                            email,
                                            webhook,
                                            notify,
                                            {absl::Seconds(60),
                                             absl::Seconds(30),
                                             {absl::Seconds(2), absl::Minutes(30)},
                                             {"no-reply@crm.test", "CRM", "", std::nullopt}},
                                            clock,
                                            [] { return 0.0; }};
  int keys = 0;

  World() {
    renderer.channels[std::string(kTenant) + "/a"] = "email";
    renderer.channels[std::string(kTenant) + "/b"] = "email";
    renderer.channels[std::string(kTenant) + "/hook"] = "webhook";
    std::vector<std::string> members;
    for (int i = 0; i < 250; ++i) {
      members.push_back(Customer(i));
      crm::delivery::app::Contact c;
      c.emails = {"c" + std::to_string(i) + "@example.com"};
      c.consents["email"]["marketing"] = crm::delivery::domain::ConsentStatus::kOptedIn;
      directory.contacts[std::string(kTenant) + "/" + Customer(i)] = c;
    }
    segments.members[std::string(kTenant) + "/buyers"] = members;
  }
  crm::outbox::WriteMeta Meta(const char* method) {
    return crm::outbox::WriteMeta{kTenant, "tester", "", method, "k" + std::to_string(++keys), ""};
  }
  Campaign Draft() {
    Campaign c;
    c.name = "Spring sale";
    c.audience.segment_id = "buyers";
    c.variants = {{"a", "a", 1}, {"b", "b", 1}};
    return c;
  }
  // Rounds of the runner until it has nothing to do.
  void Run() {
    for (int i = 0; i < 100; ++i) {
      auto busy = campaigns.Tick();
      REQUIRE(busy.ok());
      if (*busy == 0) return;
    }
    FAIL("the runner never settled");
  }
  // Every queued message due now, through the dispatcher.
  int SendDue() {
    int sent = 0;
    auto due = repo.TakeDue(absl::Seconds(30), 100000);
    for (const auto& d : *due) {
      auto s = dispatcher.Process(d.tenant, d.id);
      if (s.ok() && s->has_value() && **s == State::kSent) ++sent;
    }
    return sent;
  }
};

}  // namespace

TEST_CASE("A campaign definition is checked field by field") {
  World w;
  Campaign c = w.Draft();
  CHECK(ValidateCampaign(c).ok());
  Campaign bad = c;
  bad.name = "";
  CHECK(FieldOf(ValidateCampaign(bad)) == "name");
  bad = c;
  bad.variants.clear();
  CHECK(FieldOf(ValidateCampaign(bad)) == "variants");
  bad = c;
  bad.variants[1].id = "a";
  CHECK(FieldOf(ValidateCampaign(bad)) == "variants.variant_id");
  bad = c;
  bad.variants[0].id = "Bad id";
  CHECK(FieldOf(ValidateCampaign(bad)) == "variants.variant_id");
  bad = c;
  bad.audience.customer_ids = {Customer(1)};
  CHECK(FieldOf(ValidateCampaign(bad)) == "audience");  // both
  bad = c;
  bad.audience.segment_id.clear();
  CHECK(FieldOf(ValidateCampaign(bad)) == "audience");  // neither
  bad.audience.customer_ids = {Customer(1), Customer(1)};
  CHECK(FieldOf(ValidateCampaign(bad)) == "audience.customer_ids");
  bad.audience.customer_ids = {"nope"};
  CHECK(FieldOf(ValidateCampaign(bad)) == "audience.customer_ids");
  bad = c;
  bad.holdout_bp = 5001;
  CHECK(FieldOf(ValidateCampaign(bad)) == "holdout_basis_points");
  bad = c;
  bad.throttle_per_second = 10001;
  CHECK(FieldOf(ValidateCampaign(bad)) == "throttle_per_second");
  bad = c;
  bad.channel = Channel::kWebhook;
  CHECK(FieldOf(ValidateCampaign(bad)) == "endpoint_id");
  // The references are checked when it is created.
  bad = c;
  bad.variants[1].template_id = "hook";
  CHECK(ReasonOf(w.campaigns.Create(w.Meta("CreateCampaign"), bad).status()) ==
        "TEMPLATE_CHANNEL_MISMATCH");
  bad = c;
  bad.variants[1].template_id = "missing";
  CHECK(ReasonOf(w.campaigns.Create(w.Meta("CreateCampaign"), bad).status()) ==
        "TEMPLATE_NOT_FOUND");
  bad = c;
  bad.audience.segment_id = "nobody";
  CHECK(ReasonOf(w.campaigns.Create(w.Meta("CreateCampaign"), bad).status()) ==
        "SEGMENT_NOT_FOUND");
  CHECK(w.campaigns.List(kTenant)->empty());
}

TEST_CASE("Campaign states move only along their transitions, naming the state") {
  Campaign c;
  c.id = "c1";
  c.state = CampaignState::kDraft;
  CHECK(*NextState(c, CampaignAction::kSchedule) == CampaignState::kScheduled);
  CHECK(ReasonOf(NextState(c, CampaignAction::kPause).status()) == "CAMPAIGN_STATE_INVALID");
  c.state = CampaignState::kRunning;
  auto refused = NextState(c, CampaignAction::kSchedule);
  CHECK(refused.status().message() ==
        "campaign c1 is running; scheduling needs a campaign that is draft");
  CHECK(*NextState(c, CampaignAction::kPause) == CampaignState::kPaused);
  c.state = CampaignState::kPaused;
  CHECK(*NextState(c, CampaignAction::kResume) == CampaignState::kScheduled);  // never started
  c.started_time = absl::Now();
  CHECK(*NextState(c, CampaignAction::kResume) == CampaignState::kRunning);
  CHECK(*NextState(c, CampaignAction::kCancel) == CampaignState::kCancelled);
  c.state = CampaignState::kCompleted;
  CHECK_FALSE(NextState(c, CampaignAction::kCancel).ok());
  c.state = CampaignState::kCancelled;
  CHECK_FALSE(NextState(c, CampaignAction::kResume).ok());
}

TEST_CASE("The throttle spaces send times exactly") {
  const absl::Time t0 = absl::FromUnixSeconds(1700000000);
  CHECK(SendTimeOf(t0, 0, 100) == t0);
  CHECK(SendTimeOf(t0, 1, 100) == t0 + absl::Milliseconds(10));
  CHECK(SendTimeOf(t0, 300, 100) == t0 + absl::Seconds(3));
  CHECK(SendTimeOf(t0, 1, 3) == t0 + absl::Microseconds(333333));
  CHECK(SendTimeOf(t0, 3000000, 3) == t0 + absl::Seconds(1000000));  // no drift
  CHECK(SendTimeOf(t0, 12345, 0) == t0);
}

TEST_CASE("A campaign runs: expanded a page at a time, once, with variants and a holdout") {
  World w;
  Campaign draft = w.Draft();
  draft.holdout_bp = 2000;
  auto c = w.campaigns.Create(w.Meta("CreateCampaign"), draft);
  REQUIRE(c.ok());
  CHECK(c->state == CampaignState::kDraft);
  // Nothing happens to a draft.
  w.Run();
  CHECK(w.segments.calls == 0);
  auto scheduled = w.campaigns.Schedule(w.Meta("ScheduleCampaign"), c->id, std::nullopt);
  REQUIRE(scheduled.ok());
  CHECK(scheduled->state == CampaignState::kScheduled);
  w.Run();
  auto running = w.campaigns.Get(kTenant, c->id);
  CHECK(running->state == CampaignState::kRunning);
  CHECK(running->expanded);
  CHECK(running->targeted == 250);
  CHECK(w.segments.calls == 3);  // pages of 100
  // Running the rounds again adds nothing.
  w.campaigns.Tick().IgnoreError();
  CHECK(w.campaigns.Get(kTenant, c->id)->targeted == 250);
  // Every row due now was queued at once; send them.
  CHECK(w.queue.queued.size() > 150);
  const int sent = w.SendDue();
  auto results = w.campaigns.Results(kTenant, c->id);
  REQUIRE(results.ok());
  REQUIRE(results->variants.size() == 3);
  const auto& a = results->variants[0];
  const auto& b = results->variants[1];
  const auto& holdout = results->variants[2];
  CHECK(a.variant_id == "a");
  CHECK(holdout.variant_id.empty());
  CHECK(a.targeted + b.targeted + holdout.targeted == 250);
  CHECK(a.sent + b.sent == sent);
  CHECK(sent == a.targeted + b.targeted);
  CHECK(holdout.suppressed.at("holdout") == holdout.targeted);
  // Roughly 20 % held out, the rest split in two.
  CHECK(holdout.targeted > 25);
  CHECK(holdout.targeted < 80);
  CHECK(a.targeted > 60);
  CHECK(b.targeted > 60);
  CHECK(w.email.sent.size() == static_cast<size_t>(sent));
  // Every row final: the next round completes it.
  w.Run();
  auto done = w.campaigns.Get(kTenant, c->id);
  CHECK(done->state == CampaignState::kCompleted);
  CHECK(done->completed_time.has_value());
  // Completed campaigns take no more actions.
  CHECK(ReasonOf(w.campaigns.Cancel(w.Meta("CancelCampaign"), c->id).status()) ==
        "CAMPAIGN_STATE_INVALID");
  // Other tenants see nothing.
  CHECK(ReasonOf(w.campaigns.Get(kOther, c->id).status()) == "CAMPAIGN_NOT_FOUND");
  CHECK(ReasonOf(w.campaigns.Results(kOther, c->id).status()) == "CAMPAIGN_NOT_FOUND");
}

TEST_CASE("A throttled campaign is paced, pause holds it, resume paces the rest from then") {
  World w;
  Campaign draft = w.Draft();
  draft.variants = {{"a", "a", 1}};
  draft.throttle_per_second = 50;
  auto c = w.campaigns.Create(w.Meta("CreateCampaign"), draft);
  REQUIRE(w.campaigns.Schedule(w.Meta("ScheduleCampaign"), c->id, std::nullopt).ok());
  w.Run();
  // 250 rows at 50/s: due over 5 seconds. At the start only the first is due.
  CHECK(w.SendDue() == 1);
  w.clock.Advance(absl::Seconds(1));
  CHECK(w.SendDue() == 50);
  // Paused: nothing is claimed although due.
  REQUIRE(w.campaigns.Pause(w.Meta("PauseCampaign"), c->id)->state == CampaignState::kPaused);
  w.clock.Advance(absl::Seconds(10));
  CHECK(w.SendDue() == 0);
  // Resumed 10 s later: the 199 left are paced again from now, not sent in a burst.
  REQUIRE(w.campaigns.Resume(w.Meta("ResumeCampaign"), c->id)->state == CampaignState::kRunning);
  CHECK(w.SendDue() == 1);
  w.clock.Advance(absl::Seconds(2));
  CHECK(w.SendDue() == 100);
  // Cancelled: the rest never goes.
  auto cancelled = w.campaigns.Cancel(w.Meta("CancelCampaign"), c->id);
  REQUIRE(cancelled.ok());
  CHECK(cancelled->state == CampaignState::kCancelled);
  w.clock.Advance(absl::Seconds(60));
  CHECK(w.SendDue() == 0);
  auto r = w.campaigns.Results(kTenant, c->id);
  CHECK(r->variants[0].sent == 152);
  CHECK(r->variants[0].cancelled == 98);
  CHECK(r->variants[0].pending == 0);
  // The offers the sent messages carried.
  REQUIRE(r->offers.size() == 1);
  CHECK(r->offers[0].offer_id == "o-1");
  CHECK(r->offers[0].sent == 152);
  CHECK(r->offers[0].converted == 0);
}

TEST_CASE("A list audience, a start in the future, and only drafts are edited") {
  World w;
  Campaign draft = w.Draft();
  draft.audience.segment_id.clear();
  draft.audience.customer_ids = {Customer(1), Customer(2), Customer(3)};
  auto c = w.campaigns.Create(w.Meta("CreateCampaign"), draft);
  REQUIRE(c.ok());
  Campaign edit = draft;
  edit.name = "Renamed";
  auto edited = w.campaigns.Update(w.Meta("UpdateCampaign"), c->id, edit, "1");
  REQUIRE(edited.ok());
  CHECK(edited->name == "Renamed");
  CHECK(edited->version == 2);
  CHECK(ReasonOf(w.campaigns.Update(w.Meta("UpdateCampaign"), c->id, edit, "1").status()) ==
        "ETAG_MISMATCH");
  CHECK(FieldOf(
            w.campaigns.Schedule(w.Meta("ScheduleCampaign"), c->id, w.clock.Now() - absl::Hours(1))
                .status()) == "start_time");
  auto later =
      w.campaigns.Schedule(w.Meta("ScheduleCampaign"), c->id, w.clock.Now() + absl::Hours(1));
  REQUIRE(later.ok());
  CHECK(ReasonOf(w.campaigns.Update(w.Meta("UpdateCampaign"), c->id, edit, "").status()) ==
        "CAMPAIGN_STATE_INVALID");
  w.Run();
  CHECK(w.campaigns.Get(kTenant, c->id)->state == CampaignState::kScheduled);
  w.clock.Advance(absl::Hours(1));
  w.Run();
  CHECK(w.campaigns.Get(kTenant, c->id)->targeted == 3);
  CHECK(w.SendDue() == 3);
  w.Run();
  CHECK(w.campaigns.Get(kTenant, c->id)->state == CampaignState::kCompleted);
}

TEST_CASE("A triggered campaign adds a row per event, once per customer or every time") {
  World w;
  Campaign draft = w.Draft();
  draft.audience = {};
  draft.trigger.kind = crm::delivery::domain::TriggerKind::kSegmentEntered;
  draft.trigger.segment_id = "buyers";
  draft.trigger.delay = absl::Hours(1);
  // A trigger and an audience together, a segment for an order trigger,
  // a delay over 30 days: refused naming the field.
  Campaign both = draft;
  both.audience.segment_id = "buyers";
  CHECK(FieldOf(ValidateCampaign(both)) == "audience");
  Campaign order = draft;
  order.trigger.kind = crm::delivery::domain::TriggerKind::kOrderPlaced;
  CHECK(FieldOf(ValidateCampaign(order)) == "trigger.segment_id");
  Campaign late = draft;
  late.trigger.delay = absl::Hours(24 * 31);
  CHECK(FieldOf(ValidateCampaign(late)) == "trigger.delay_seconds");
  Campaign unknown = draft;
  unknown.trigger.segment_id = "nobody";
  CHECK(FieldOf(w.campaigns.Create(w.Meta("CreateCampaign"), unknown).status()) ==
        "trigger.segment_id");

  auto c = w.campaigns.Create(w.Meta("CreateCampaign"), draft);
  REQUIRE(c.ok());
  crm::delivery::app::TriggerEvent e;
  e.kind = crm::delivery::domain::TriggerKind::kSegmentEntered;
  e.segment_id = "buyers";
  e.customer_id = Customer(1);
  e.event_id = "e1";
  e.time = w.clock.Now();
  // Not running yet: the event adds nothing.
  CHECK(*w.campaigns.Trigger(kTenant, e) == 0);
  REQUIRE(w.campaigns.Schedule(w.Meta("ScheduleCampaign"), c->id, std::nullopt).ok());
  REQUIRE(w.campaigns.Tick().ok());
  REQUIRE(w.campaigns.Get(kTenant, c->id)->state == CampaignState::kRunning);
  CHECK(*w.campaigns.Trigger(kTenant, e) == 1);
  // The runner leaves it running: its rows come from events.
  for (int i = 0; i < 3; ++i) REQUIRE(w.campaigns.Tick().ok());
  CHECK(w.campaigns.Get(kTenant, c->id)->state == CampaignState::kRunning);
  // Once per customer: a redelivered event, a re-entry, another segment: nothing.
  CHECK(*w.campaigns.Trigger(kTenant, e) == 0);
  e.event_id = "e2";
  CHECK(*w.campaigns.Trigger(kTenant, e) == 0);
  e.segment_id = "others";
  CHECK(*w.campaigns.Trigger(kTenant, e) == 0);
  // The row waits the delay from the event.
  auto rows = w.repo.ListCustomerMessages(kTenant, Customer(1), {});
  REQUIRE(rows->messages.size() == 1);
  const auto& row = rows->messages[0];
  CHECK(row.campaign_id == c->id);
  if (row.state == State::kQueued) {
    CHECK(*row.next_attempt_time == e.time + absl::Hours(1));
  } else {
    CHECK(row.suppression == crm::delivery::domain::Suppression::kHoldout);
  }
  CHECK(w.campaigns.Get(kTenant, c->id)->targeted == 1);
  // Another tenant's event finds no campaign of this one.
  e.segment_id = "buyers";
  e.customer_id = Customer(2);
  CHECK(*w.campaigns.Trigger(kOther, e) == 0);
}

TEST_CASE("A campaign triggered every time adds a row per event, once per event") {
  World w;
  Campaign draft = w.Draft();
  draft.audience = {};
  draft.trigger.kind = crm::delivery::domain::TriggerKind::kOrderPlaced;
  draft.trigger.reentry = crm::delivery::domain::Reentry::kEveryTime;
  auto c = w.campaigns.Create(w.Meta("CreateCampaign"), draft);
  REQUIRE(c.ok());
  REQUIRE(w.campaigns.Schedule(w.Meta("ScheduleCampaign"), c->id, std::nullopt).ok());
  REQUIRE(w.campaigns.Tick().ok());
  crm::delivery::app::TriggerEvent e;
  e.kind = crm::delivery::domain::TriggerKind::kOrderPlaced;
  e.customer_id = Customer(3);
  e.event_id = "o1";
  e.time = w.clock.Now() - absl::Minutes(5);
  CHECK(*w.campaigns.Trigger(kTenant, e) == 1);
  CHECK(*w.campaigns.Trigger(kTenant, e) == 0);  // the same event again
  e.event_id = "o2";
  CHECK(*w.campaigns.Trigger(kTenant, e) == 1);
  CHECK(w.repo.ListCustomerMessages(kTenant, Customer(3), {})->messages.size() == 2);
  // Paused: events add nothing.
  REQUIRE(w.campaigns.Pause(w.Meta("PauseCampaign"), c->id).ok());
  e.event_id = "o3";
  CHECK(*w.campaigns.Trigger(kTenant, e) == 0);
}

TEST_CASE("An abandoned cart is reminded once per cart unless the customer orders first") {
  World w;
  Campaign draft = w.Draft();
  draft.audience = {};
  draft.holdout_bp = 0;
  draft.trigger.kind = crm::delivery::domain::TriggerKind::kCartAbandoned;
  draft.trigger.reentry = crm::delivery::domain::Reentry::kEveryTime;
  draft.trigger.delay = absl::Minutes(4);
  CHECK(FieldOf(ValidateCampaign(draft)) == "trigger.delay_seconds");  // at least 5 minutes
  draft.trigger.delay = absl::Hours(1);
  auto c = w.campaigns.Create(w.Meta("CreateCampaign"), draft);
  REQUIRE(c.ok());
  REQUIRE(w.campaigns.Schedule(w.Meta("ScheduleCampaign"), c->id, std::nullopt).ok());
  REQUIRE(w.campaigns.Tick().ok());
  const absl::Time t = w.clock.Now();
  crm::delivery::app::TriggerEvent e;
  e.kind = crm::delivery::domain::TriggerKind::kCartAbandoned;
  e.customer_id = Customer(4);
  e.event_id = "cart-1";
  e.time = t;
  CHECK(*w.campaigns.Trigger(kTenant, e) == 1);
  // A second item ten minutes later postpones the one reminder.
  e.event_id = "cart-2";
  e.time = t + absl::Minutes(10);
  CHECK(*w.campaigns.Trigger(kTenant, e) == 0);
  auto rows = w.repo.ListCustomerMessages(kTenant, Customer(4), {})->messages;
  REQUIRE(rows.size() == 1);
  CHECK(*rows[0].next_attempt_time == t + absl::Minutes(70));
  // An order of another customer changes nothing; this customer's order
  // reaches the goal: suppressed, with its event.
  CHECK(*w.campaigns.ReachGoal(kTenant, Customer(5), t + absl::Minutes(30)) == 0);
  CHECK(*w.campaigns.ReachGoal(kTenant, Customer(4), t + absl::Minutes(30)) == 1);
  rows = w.repo.ListCustomerMessages(kTenant, Customer(4), {})->messages;
  CHECK(rows[0].state == State::kSuppressed);
  CHECK(rows[0].suppression == crm::delivery::domain::Suppression::kGoalReached);
  CHECK(w.repo.events().back().type == "message.suppressed");
  // A new cart after the order: a new reminder, which that order does not reach.
  e.event_id = "cart-3";
  e.time = t + absl::Hours(2);
  CHECK(*w.campaigns.Trigger(kTenant, e) == 1);
  CHECK(*w.campaigns.ReachGoal(kTenant, Customer(4), t + absl::Minutes(30)) == 0);
  CHECK(w.SendDue() == 0);  // not due yet
  w.clock.Advance(absl::Hours(3));
  CHECK(w.SendDue() == 1);
}

TEST_CASE("A recurring campaign sends once per occurrence to its audience of the time") {
  World w;
  Campaign draft = w.Draft();
  draft.audience = {};
  draft.audience.customer_ids = {Customer(1), Customer(2), Customer(3)};
  draft.holdout_bp = 0;
  draft.recurrence.interval = absl::Minutes(30);
  CHECK(FieldOf(ValidateCampaign(draft)) == "recurrence.interval_seconds");
  draft.recurrence.interval = absl::Hours(24 * 91);
  CHECK(FieldOf(ValidateCampaign(draft)) == "recurrence.interval_seconds");
  Campaign end_only = w.Draft();
  end_only.recurrence.end_time = w.clock.Now();
  CHECK(FieldOf(ValidateCampaign(end_only)) == "recurrence.end_time");
  Campaign triggered = w.Draft();
  triggered.audience = {};
  triggered.trigger.kind = crm::delivery::domain::TriggerKind::kOrderPlaced;
  triggered.recurrence.interval = absl::Hours(24);
  CHECK(FieldOf(ValidateCampaign(triggered)) == "recurrence.interval_seconds");

  const absl::Time start = w.clock.Now();
  draft.recurrence.interval = absl::Hours(24);
  draft.recurrence.end_time = start + absl::Hours(60);  // three occurrences: 0 h, 24 h, 48 h
  auto c = w.campaigns.Create(w.Meta("CreateCampaign"), draft);
  REQUIRE(c.ok());
  REQUIRE(w.campaigns.Schedule(w.Meta("ScheduleCampaign"), c->id, std::nullopt).ok());
  w.Run();
  CHECK(w.SendDue() == 3);
  w.Run();
  auto after = w.campaigns.Get(kTenant, c->id);
  CHECK(after->state == CampaignState::kScheduled);
  CHECK(after->occurrence == 1);
  CHECK(*after->start_time == start + absl::Hours(24));
  CHECK(w.SendDue() == 0);
  // A day later the second occurrence sends again, once to each.
  w.clock.Advance(absl::Hours(24));
  w.Run();
  CHECK(w.SendDue() == 3);
  CHECK(w.SendDue() == 0);
  w.Run();
  // The runner away for two days: the third occurrence starts late, when
  // it is back; the one after would start past the end: completed.
  w.clock.Advance(absl::Hours(49));
  w.Run();
  after = w.campaigns.Get(kTenant, c->id);
  CHECK(after->occurrence == 2);
  w.Run();
  CHECK(w.SendDue() == 3);
  w.Run();
  after = w.campaigns.Get(kTenant, c->id);
  CHECK(after->state == CampaignState::kCompleted);
  CHECK(after->targeted == 9);
  CHECK(w.repo.ListCustomerMessages(kTenant, Customer(1), {})->messages.size() == 3);
}

TEST_CASE("A dead letter of a completed campaign is sent when it is replayed") {
  World w;
  crm::testing::FakeResolver resolver;
  crm::delivery::app::Delivery delivery{w.repo,   w.policies,  w.queue, w.renderer,
                                        resolver, {3, {}, {}}, w.clock, w.ids};
  Campaign draft = w.Draft();
  draft.audience = {};
  draft.audience.customer_ids = {Customer(7)};
  draft.holdout_bp = 0;
  auto c = w.campaigns.Create(w.Meta("CreateCampaign"), draft);
  REQUIRE(c.ok());
  REQUIRE(w.campaigns.Schedule(w.Meta("ScheduleCampaign"), c->id, std::nullopt).ok());
  w.Run();
  w.email.next.outcome = crm::delivery::domain::Outcome::kPermanent;
  w.email.next.detail = "smtp: 550 mailbox unavailable";
  CHECK(w.SendDue() == 0);
  w.Run();
  REQUIRE(w.campaigns.Get(kTenant, c->id)->state == CampaignState::kCompleted);
  auto rows = w.repo.ListCustomerMessages(kTenant, Customer(7), {})->messages;
  REQUIRE(rows.size() == 1);
  REQUIRE(rows[0].state == State::kFailed);
  w.email.next = {};
  REQUIRE(delivery.Replay(w.Meta("ReplayMessage"), rows[0].id).ok());
  CHECK(w.SendDue() == 1);
}

TEST_CASE("Abandoned carts of customers in the holdout are counted, never sent") {
  World w;
  Campaign draft = w.Draft();
  draft.audience = {};
  draft.holdout_bp = 5000;
  draft.trigger.kind = crm::delivery::domain::TriggerKind::kCartAbandoned;
  draft.trigger.delay = absl::Minutes(30);
  auto c = w.campaigns.Create(w.Meta("CreateCampaign"), draft);
  REQUIRE(c.ok());
  REQUIRE(w.campaigns.Schedule(w.Meta("ScheduleCampaign"), c->id, std::nullopt).ok());
  REQUIRE(w.campaigns.Tick().ok());
  crm::delivery::app::TriggerEvent e;
  e.kind = crm::delivery::domain::TriggerKind::kCartAbandoned;
  for (int i = 0; i < 20; ++i) {
    e.customer_id = Customer(i);
    for (const char* id : {"a", "b"}) {  // two items each
      e.event_id = absl::StrCat(i, id);
      e.time = w.clock.Now();
      REQUIRE(w.campaigns.Trigger(kTenant, e).ok());
    }
  }
  w.clock.Advance(absl::Hours(1));
  const int sent = w.SendDue();
  auto r = w.campaigns.Results(kTenant, c->id);
  REQUIRE(r.ok());
  int64_t held = 0;
  for (const auto& v : r->variants) {
    if (v.variant_id.empty()) held = v.suppressed.count("holdout") ? v.suppressed.at("holdout") : 0;
  }
  CHECK(held > 0);
  CHECK(sent > 0);
  CHECK(sent + held == 20);  // once per customer: re-entry "once"
}
