// Journeys on PostgreSQL (PgJourneyRepository and the ledger as the app
// role, RLS on) driven by app::Journeys with a clock the test moves: an
// enrolment's walk through send, wait, condition, attribute and exit; each
// step's effect once even when a runner stopped before writing its
// position; triggers, waits for an event and goals from events; re-entry;
// pause, archive; the checks of a definition; tenant isolation. The peers
// (segmentation's condition, customer-store's attribute) are the in-memory
// fakes; the e2e suite runs the real ones.
#include "services/delivery/app/journeys.h"

#include <catch2/catch.hpp>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "libs/common/errors.h"
#include "libs/common/id.h"
#include "libs/pg/pool.h"
#include "services/delivery/storage/pg_delivery_repository.h"
#include "services/delivery/storage/pg_journey_repository.h"
#include "tests/support/fakes/common_fakes.h"
#include "tests/support/fakes/delivery/fake_delivery.h"
#include "tests/support/pg_test_db.h"

namespace crm::delivery::itest {
namespace {

namespace ts = crm::test_support;
using common::FieldOf;
using common::ReasonOf;
using domain::Enrollment;
using domain::EnrollmentState;
using domain::Journey;
using domain::JourneyAction;
using domain::JourneyStep;
using domain::StepKind;
using domain::TriggerKind;

struct Env {
  std::unique_ptr<crm::pg::Pool> pool;
  std::unique_ptr<storage::PgDeliveryRepository> ledger;
  std::unique_ptr<storage::PgJourneyRepository> journeys;
};

Env& TheEnv() {
  static Env* env = [] {
    auto* e = new Env;
    e->pool = ts::FreshSchemaPool(
        "delivery", "delivery", 8,
        {storage::PgDeliveryRepository::Queries(), storage::PgJourneyRepository::Queries()});
    e->ledger = std::make_unique<storage::PgDeliveryRepository>(
        *e->pool, "integration-context-key-0123456789abcdef");
    e->journeys = std::make_unique<storage::PgJourneyRepository>(*e->pool);
    return e;
  }();
  return *env;
}

JourneyStep Step(const std::string& id, StepKind kind) {
  JourneyStep s;
  s.id = id;
  s.kind = kind;
  if (kind == StepKind::kSend || kind == StepKind::kOffer) s.template_id = "welcome";
  if (kind == StepKind::kOffer) s.offer_count = 1;
  return s;
}

struct World {
  testing::FixedClock clock{absl::Now()};
  common::RandomIdGenerator ids;
  testing::FakeWorkQueue queue;
  testing::FakeRenderer renderer;
  testing::FakeSegmentDirectory segments;
  testing::FakeCustomerDirectory customers;
  app::Journeys journeys{*TheEnv().journeys,
                         *TheEnv().ledger,
                         queue,
                         renderer,
                         segments,
                         customers,
                         {3, 3, absl::Seconds(60), 200},
                         clock,
                         ids};
  std::string tenant = common::NewUuid();
  World() {
    renderer.channels[tenant + "/welcome"] = "email";
    segments.members[tenant + "/vip"] = {};
    segments.members[tenant + "/gold"] = {};
  }
  outbox::WriteMeta Meta(const std::string& method) {
    return outbox::WriteMeta{tenant, "itest", "", method, common::NewUuid(), ""};
  }
  std::string Customer() {
    const std::string id = common::NewUuid();
    customers.contacts[tenant + "/" + id].emails = {id + "@example.test"};
    return id;
  }
  Journey Active(Journey j) {
    absl::StatusOr<Journey> made = journeys.Create(Meta("CreateJourney"), std::move(j));
    if (!made.ok()) throw std::runtime_error(made.status().ToString());
    absl::StatusOr<Journey> on =
        journeys.Act(Meta("ActivateJourney"), made->id, JourneyAction::kActivate);
    if (!on.ok()) throw std::runtime_error(on.status().ToString());
    return *on;
  }
  Enrollment Enroll(const Journey& j, const std::string& customer) {
    absl::StatusOr<Enrollment> e = journeys.Enroll(Meta("EnrollCustomer"), j.id, customer);
    if (!e.ok()) throw std::runtime_error(e.status().ToString());
    return *e;
  }
  app::EnrollmentView Only(const Journey& j, const std::string& customer) {
    absl::StatusOr<std::vector<app::EnrollmentView>> all =
        journeys.Enrollments(tenant, j.id, customer, 0);
    if (!all.ok() || all->size() != 1) throw std::runtime_error("not one enrolment");
    return all->front();
  }
  // The journey's ledger rows of the customer, by key.
  std::vector<domain::Message> Messages(const std::string& customer) {
    absl::StatusOr<app::MessagePage> p =
        TheEnv().ledger->ListCustomerMessages(tenant, customer, app::Page{100, ""});
    if (!p.ok()) throw std::runtime_error(p.status().ToString());
    return p->messages;
  }
  int Tick() {
    absl::StatusOr<int> n = journeys.Tick();
    if (!n.ok()) throw std::runtime_error(n.status().ToString());
    return *n;
  }
};

// welcome → wait 1 h → gold? → offer → exit; not gold → tag (attribute) → end.
Journey Onboarding() {
  Journey j;
  j.name = "Onboarding";
  JourneyStep wait = Step("hour", StepKind::kWait);
  wait.duration = absl::Hours(1);
  JourneyStep gold = Step("gold", StepKind::kCondition);
  gold.expression = "attr.plan = \"gold\"";
  gold.on_false = "tag";
  JourneyStep tag = Step("tag", StepKind::kUpdateAttribute);
  tag.attribute = "tier";
  tag.value.string_value = "silver";
  j.steps = {Step("welcome", StepKind::kSend), wait, gold, Step("offer", StepKind::kOffer),
             Step("bye", StepKind::kExit),     tag};
  return j;
}

}  // namespace

TEST_CASE("An enrolment walks send, wait, condition, offer or attribute, exit, each once") {
  World w;
  const Journey j = w.Active(Onboarding());
  const std::string gold = w.Customer();
  const std::string silver = w.Customer();
  w.segments.matching[w.tenant + "/attr.plan = \"gold\""] = {gold};
  w.Enroll(j, gold);
  w.Enroll(j, silver);

  CHECK(w.Tick() == 2);  // both sent the welcome, now waiting an hour
  for (const std::string& c : {gold, silver}) {
    std::vector<domain::Message> sent = w.Messages(c);
    REQUIRE(sent.size() == 1);
    CHECK(sent[0].template_id == "welcome");
    CHECK(sent[0].campaign_id.empty());
    CHECK(sent[0].state == domain::State::kQueued);
    const app::EnrollmentView v = w.Only(j, c);
    CHECK(v.enrollment.step_id == "hour");
    CHECK(v.enrollment.due_time > w.clock.Now());
  }
  CHECK(w.queue.queued.size() == 2);
  CHECK(w.Tick() == 0);  // nobody is due before the hour is over

  w.clock.Advance(absl::Hours(1) + absl::Seconds(1));
  CHECK(w.Tick() == 2);
  const app::EnrollmentView g = w.Only(j, gold);
  CHECK(g.enrollment.state == EnrollmentState::kCompleted);
  CHECK(g.enrollment.exit_reason == "exit_step");
  std::vector<std::string> path;
  for (const app::StepVisit& v : g.visits) path.push_back(v.step_id);
  CHECK(path == std::vector<std::string>{"welcome", "hour", "gold", "offer", "bye"});
  std::vector<domain::Message> gold_sent = w.Messages(gold);
  REQUIRE(gold_sent.size() == 2);  // the welcome and the offer
  CHECK((gold_sent[0].offer_count == 1 || gold_sent[1].offer_count == 1));

  const app::EnrollmentView s = w.Only(j, silver);
  CHECK(s.enrollment.state == EnrollmentState::kCompleted);
  CHECK(s.enrollment.exit_reason == "completed");  // past its last step
  CHECK(w.Messages(silver).size() == 1);
  CHECK(w.customers.attributes[w.tenant + "/" + silver + "/tier"] ==
        std::vector<std::string>{"silver"});
  CHECK(w.customers.attributes.count(w.tenant + "/" + gold + "/tier") == 0);

  CHECK(w.Tick() == 0);  // ended enrolments never move again
  absl::StatusOr<app::JourneyResults> r = w.journeys.Results(w.tenant, j.id);
  REQUIRE(r.ok());
  CHECK(r->counts.by_state["completed"] == 2);
  CHECK(r->counts.by_exit_reason["exit_step"] == 1);
  CHECK(r->counts.by_exit_reason["completed"] == 1);
  CHECK(r->counts.entered["welcome"] == 2);
  CHECK(r->counts.entered["offer"] == 1);
  CHECK(r->counts.entered["tag"] == 1);
  CHECK(r->counts.messages["welcome"]["queued"] == 2);
  CHECK(r->counts.messages["offer"]["queued"] == 1);
  CHECK(r->counts.waiting.empty());
}

TEST_CASE("A step taken again after a runner stopped before saving has no second effect") {
  World w;
  Journey def = Onboarding();
  def.steps.erase(def.steps.begin() + 1);  // no wait: welcome → gold → tag
  const Journey j = w.Active(def);
  const std::string c = w.Customer();
  w.Enroll(j, c);
  CHECK(w.Tick() == 1);
  REQUIRE(w.Messages(c).size() == 1);
  REQUIRE(w.customers.attributes[w.tenant + "/" + c + "/tier"].size() == 1);

  // As if the runner had stopped after the welcome's and the attribute's
  // effects but before writing where the customer is: back at the start.
  Enrollment e = w.Only(j, c).enrollment;
  const int64_t version = e.version;
  e.state = EnrollmentState::kActive;
  e.exit_reason.clear();
  e.end_time.reset();
  e.step_id = "welcome";
  e.seq = 1;
  e.due_time = w.clock.Now();
  REQUIRE(*TheEnv().journeys->SaveEnrollment(w.tenant, e, version, false, false));
  // A stale version writes nothing.
  CHECK_FALSE(*TheEnv().journeys->SaveEnrollment(w.tenant, e, version, false, false));

  CHECK(w.Tick() == 1);
  CHECK(w.Only(j, c).enrollment.state == EnrollmentState::kCompleted);
  CHECK(w.Messages(c).size() == 1);  // the same ledger key: no second welcome
  // customer-store's idempotency key: the attribute was set once
  CHECK(w.customers.attribute_requests.size() == 1);
}

TEST_CASE("Events enrol once per event, move waits for them and end enrolments at the goal") {
  World w;
  Journey def;
  def.name = "VIP welcome";
  def.trigger = {TriggerKind::kSegmentEntered, "vip"};
  def.goal = {TriggerKind::kOrderPlaced, ""};
  JourneyStep wait = Step("wait-gold", StepKind::kWaitForEvent);
  wait.event = {TriggerKind::kSegmentEntered, "gold"};
  wait.duration = absl::Hours(24);
  wait.on_event = "thanks";
  def.steps = {wait, Step("nudge", StepKind::kSend), Step("stop", StepKind::kExit),
               Step("thanks", StepKind::kSend)};
  const Journey j = w.Active(def);
  const std::string a = w.Customer();
  const std::string b = w.Customer();
  const std::string c = w.Customer();

  auto event = [&](TriggerKind kind, const std::string& segment, const std::string& customer,
                   const std::string& id) {
    absl::StatusOr<int> n =
        w.journeys.OnEvent(w.tenant, app::TriggerEvent{kind, segment, customer, id, w.clock.Now()});
    if (!n.ok()) throw std::runtime_error(n.status().ToString());
    return *n;
  };
  CHECK(event(TriggerKind::kSegmentEntered, "vip", a, "ev-1") == 1);
  CHECK(event(TriggerKind::kSegmentEntered, "vip", a, "ev-1") == 0);  // redelivered
  CHECK(event(TriggerKind::kSegmentEntered, "vip", a, "ev-2") == 0);  // re-entry once
  CHECK(event(TriggerKind::kSegmentEntered, "other", b, "ev-3") == 0);
  CHECK(event(TriggerKind::kSegmentEntered, "vip", b, "ev-4") == 1);
  CHECK(event(TriggerKind::kSegmentEntered, "vip", c, "ev-5") == 1);
  CHECK(w.Tick() == 0);  // all three wait for "gold" (a day at most)
  CHECK(w.Only(j, a).enrollment.waiting_for_event);

  // a enters gold: on to thanks at once; b orders: its goal.
  CHECK(event(TriggerKind::kSegmentEntered, "gold", a, "ev-6") == 1);
  CHECK(event(TriggerKind::kOrderPlaced, "", b, "ev-7") == 1);
  CHECK(w.Only(j, b).enrollment.state == EnrollmentState::kGoalReached);
  CHECK(w.Only(j, b).enrollment.exit_reason == "goal");
  CHECK(w.Tick() == 1);
  const app::EnrollmentView av = w.Only(j, a);
  CHECK(av.enrollment.state == EnrollmentState::kCompleted);
  REQUIRE(w.Messages(a).size() == 1);
  CHECK(av.visits.back().step_id == "thanks");

  // c's wait times out: the nudge, then the exit.
  w.clock.Advance(absl::Hours(24) + absl::Seconds(1));
  CHECK(w.Tick() == 1);
  const app::EnrollmentView cv = w.Only(j, c);
  CHECK(cv.enrollment.exit_reason == "exit_step");
  CHECK(cv.visits[1].step_id == "nudge");
  CHECK(w.Messages(c).size() == 1);
  CHECK(w.Messages(b).empty());
}

TEST_CASE("Re-entry after exit lets a customer in again only once the last enrolment ended") {
  World w;
  Journey def;
  def.name = "Again";
  def.reentry = domain::JourneyReentry::kAfterExit;
  JourneyStep wait = Step("pause", StepKind::kWait);
  wait.duration = absl::Minutes(5);
  def.steps = {Step("hello", StepKind::kSend), wait};
  const Journey j = w.Active(def);
  const std::string c = w.Customer();
  CHECK(w.Enroll(j, c).entry == 0);
  absl::StatusOr<Enrollment> again = w.journeys.Enroll(w.Meta("EnrollCustomer"), j.id, c);
  REQUIRE_FALSE(again.ok());
  CHECK(again.status().code() == absl::StatusCode::kAlreadyExists);
  CHECK(ReasonOf(again.status()) == "JOURNEY_ENROLLMENT_EXISTS");
  w.Tick();
  w.clock.Advance(absl::Minutes(6));
  w.Tick();  // past its last step: completed
  CHECK(w.Enroll(j, c).entry == 1);
  w.Tick();
  CHECK(w.Messages(c).size() == 2);  // one hello per entry

  // An unknown customer, a journey not active, a bad id.
  absl::StatusOr<Enrollment> nobody =
      w.journeys.Enroll(w.Meta("EnrollCustomer"), j.id, common::NewUuid());
  CHECK(ReasonOf(nobody.status()) == "CUSTOMER_NOT_FOUND");
  CHECK(FieldOf(w.journeys.Enroll(w.Meta("EnrollCustomer"), j.id, "x").status()) == "customer_id");
}

TEST_CASE("A paused journey's enrolments wait, an archived one's exit") {
  World w;
  Journey def = Onboarding();
  const Journey j = w.Active(def);
  const std::string c = w.Customer();
  w.Enroll(j, c);
  REQUIRE(w.journeys.Act(w.Meta("PauseJourney"), j.id, JourneyAction::kPause).ok());
  CHECK(w.Tick() == 0);
  CHECK(w.Messages(c).empty());
  absl::StatusOr<Enrollment> refused = w.journeys.Enroll(w.Meta("EnrollCustomer"), j.id, c);
  CHECK(ReasonOf(refused.status()) == "JOURNEY_STATE_INVALID");
  REQUIRE(w.journeys.Act(w.Meta("ResumeJourney"), j.id, JourneyAction::kResume).ok());
  CHECK(w.Tick() == 1);
  CHECK(w.Messages(c).size() == 1);
  absl::StatusOr<Journey> archived =
      w.journeys.Act(w.Meta("ArchiveJourney"), j.id, JourneyAction::kArchive);
  REQUIRE(archived.ok());
  CHECK(archived->archived_time.has_value());
  const app::EnrollmentView v = w.Only(j, c);
  CHECK(v.enrollment.state == EnrollmentState::kExited);
  CHECK(v.enrollment.exit_reason == "archived");
  w.clock.Advance(absl::Hours(2));
  CHECK(w.Tick() == 0);
  CHECK(w.Messages(c).size() == 1);
}

TEST_CASE("A journey's definition is checked against templates, segments and the language") {
  World w;
  Journey def = Onboarding();
  def.steps[0].template_id = "missing";
  absl::Status s = w.journeys.Create(w.Meta("CreateJourney"), def).status();
  CHECK(ReasonOf(s) == "TEMPLATE_NOT_FOUND");
  CHECK(FieldOf(s) == "steps.send.template_id");

  def = Onboarding();
  def.trigger = {TriggerKind::kSegmentEntered, "nope"};
  s = w.journeys.Create(w.Meta("CreateJourney"), def).status();
  CHECK(ReasonOf(s) == "SEGMENT_NOT_FOUND");
  CHECK(FieldOf(s) == "trigger.segment_id");

  def = Onboarding();
  def.steps[2].expression = "attr.plan = = gold";
  s = w.journeys.Create(w.Meta("CreateJourney"), def).status();
  CHECK(s.code() == absl::StatusCode::kInvalidArgument);
  CHECK(FieldOf(s) == "steps.condition.expression");

  // A draft is edited under its etag; an active journey is not.
  absl::StatusOr<Journey> draft = w.journeys.Create(w.Meta("CreateJourney"), Onboarding());
  REQUIRE(draft.ok());
  Journey renamed = Onboarding();
  renamed.name = "Renamed";
  CHECK(ReasonOf(w.journeys.Update(w.Meta("UpdateJourney"), draft->id, renamed, "99").status()) ==
        "ETAG_MISMATCH");
  absl::StatusOr<Journey> updated =
      w.journeys.Update(w.Meta("UpdateJourney"), draft->id, renamed, "1");
  REQUIRE(updated.ok());
  CHECK(updated->name == "Renamed");
  CHECK(updated->version == 2);
  REQUIRE(w.journeys.Act(w.Meta("ActivateJourney"), draft->id, JourneyAction::kActivate).ok());
  s = w.journeys.Update(w.Meta("UpdateJourney"), draft->id, renamed, "3").status();
  CHECK(ReasonOf(s) == "JOURNEY_STATE_INVALID");
  // Read back whole: the definition survives its JSON.
  absl::StatusOr<Journey> back = w.journeys.Get(w.tenant, draft->id);
  REQUIRE(back.ok());
  REQUIRE(back->steps.size() == 6);
  CHECK(back->steps[1].duration == absl::Hours(1));
  CHECK(back->steps[2].on_false == "tag");
  CHECK(back->steps[3].kind == StepKind::kOffer);
  CHECK(back->steps[5].value.string_value == "silver");
}

TEST_CASE("Another tenant's journey reads as not found") {
  World w;
  World other;
  const Journey j = w.Active(Onboarding());
  const std::string c = w.Customer();
  w.Enroll(j, c);
  CHECK(ReasonOf(other.journeys.Get(other.tenant, j.id).status()) == "JOURNEY_NOT_FOUND");
  CHECK(ReasonOf(other.journeys.Results(other.tenant, j.id).status()) == "JOURNEY_NOT_FOUND");
  CHECK(ReasonOf(other.journeys.Enrollments(other.tenant, j.id, "", 0).status()) ==
        "JOURNEY_NOT_FOUND");
  CHECK(ReasonOf(
            other.journeys.Act(other.Meta("PauseJourney"), j.id, JourneyAction::kPause).status()) ==
        "JOURNEY_NOT_FOUND");
  CHECK(other.journeys.List(other.tenant)->empty());
  // An event of the other tenant for the same customer id moves nothing.
  CHECK(*other.journeys.OnEvent(other.tenant, app::TriggerEvent{TriggerKind::kOrderPlaced, "", c,
                                                                "ev", other.clock.Now()}) == 0);
}

}  // namespace crm::delivery::itest
