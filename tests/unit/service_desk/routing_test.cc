// Routing rules: their checks, the first match in order, what a rule fills
// (only what the creator left open), the audit row naming it, mail routed
// by its mailbox, the rules' etag and tenants.
#include "services/service_desk/domain/routing.h"

#include <catch2/catch.hpp>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "libs/common/errors.h"
#include "libs/common/id.h"
#include "services/service_desk/app/classifiers.h"
#include "services/service_desk/app/inbound.h"
#include "services/service_desk/app/routing.h"
#include "services/service_desk/app/tickets.h"
#include "tests/support/fakes/common_fakes.h"
#include "tests/support/fakes/service_desk/fake_ticket_repository.h"
#include "tests/support/fakes/service_desk/intent_examples.h"

namespace {

namespace sd = crm::service_desk;
using sd::domain::Priority;
using sd::domain::RoutingCondition;
using sd::domain::RoutingRule;
using sd::domain::RoutingRules;

constexpr char kTenant[] = "11111111-1111-4111-8111-111111111111";
constexpr char kOther[] = "22222222-2222-4222-8222-222222222222";

RoutingRules Sample() {
  RoutingRules r;
  RoutingRule billing;
  billing.name = "Billing by words";
  billing.conditions = {{"subject", "contains", {"invoice", "refund"}},
                        {"requester_domain", "not_in", {"partner.example"}}};
  billing.action.queue = "billing";
  billing.action.priority = Priority::kHigh;
  billing.action.add_tags = {"Money"};
  RoutingRule vip;
  vip.name = "VIP mail";
  vip.conditions = {{"channel", "in", {"EMAIL"}}, {"mailbox", "in", {"vip@desk.example"}}};
  vip.action.queue = "vip";
  vip.action.priority = Priority::kUrgent;
  RoutingRule rest;
  rest.name = "Everything else";
  rest.action.queue = "general";
  r.rules = {billing, vip, rest};
  return r;
}

TEST_CASE("Routing rules are checked with the field named", "[routing]") {
  RoutingRules ok = Sample();
  REQUIRE(sd::domain::NormalizeAndValidate(ok).ok());
  CHECK(ok.rules[0].action.add_tags == std::vector<std::string>{"money"});
  auto field_of = [](RoutingRules r) {
    return crm::common::FieldOf(sd::domain::NormalizeAndValidate(r));
  };
  RoutingRules r = Sample();
  r.rules[1].name = " ";
  CHECK(field_of(r) == "rules[1].name");
  r = Sample();
  r.rules[0].conditions[1].field = "planet";
  CHECK(field_of(r) == "rules[0].conditions[1].field");
  r = Sample();
  r.rules[0].conditions[0].op = "like";
  CHECK(field_of(r) == "rules[0].conditions[0].match");
  r = Sample();
  r.rules[0].conditions[0].values = {};
  CHECK(field_of(r) == "rules[0].conditions[0].values");
  r = Sample();
  r.rules[1].conditions[0].values = {"pigeon"};
  CHECK(field_of(r) == "rules[1].conditions[0].values[0]");
  r = Sample();
  r.rules[2].action.add_tags = {"ok", "not ok"};
  CHECK(field_of(r) == "rules[2].action.add_tags[1]");
  r = Sample();
  r.rules.resize(sd::domain::kMaxRoutingRules + 1, r.rules[2]);
  CHECK(field_of(r) == "rules");
}

TEST_CASE("The first rule that holds routes and it fills only what was left open", "[routing]") {
  RoutingRules r = Sample();
  REQUIRE(sd::domain::NormalizeAndValidate(r).ok());
  sd::domain::Ticket t;
  t.subject = "Wrong INVOICE amount";
  t.channel = sd::domain::Channel::kEmail;
  t.requester_email = "ada@example.com";
  CHECK(sd::domain::MatchRouting(r, {&t, "", "vip@desk.example"}) == 0u);  // first wins
  t.requester_email = "bob@partner.example";
  CHECK(sd::domain::MatchRouting(r, {&t, "", "vip@desk.example"}) == 1u);  // not_in fails
  CHECK(sd::domain::MatchRouting(r, {&t, "", "support@desk.example"}) == 2u);
  r.rules.pop_back();
  CHECK_FALSE(sd::domain::MatchRouting(r, {&t, "", ""}).has_value());

  t.queue = "mine";
  sd::domain::ApplyRouting(r.rules[0], /*priority_given=*/true, t);
  CHECK(t.queue == "mine");
  CHECK(t.priority == Priority::kNormal);
  CHECK(t.tags == std::vector<std::string>{"money"});
  t.queue.clear();
  sd::domain::ApplyRouting(r.rules[0], /*priority_given=*/false, t);
  CHECK(t.queue == "billing");
  CHECK(t.priority == Priority::kHigh);
}

struct World {
  crm::testing::FakeTicketRepository repo;
  crm::testing::FakeRequesterDirectory directory;
  crm::testing::FixedClock clock;
  crm::common::RandomIdGenerator ids;
  sd::app::Tickets tickets{repo, directory, clock, ids};
  sd::app::Routing routing{repo, clock};
  sd::app::Inbound inbound{repo, tickets, clock, ids};

  static sd::app::Actor Meta(const std::string& key, const std::string& method,
                             const std::string& tenant = kTenant) {
    return sd::app::Actor{tenant, "admin", "req", method, key, "fp-" + key};
  }
};

TEST_CASE("New tickets are routed, the audit names the rule, mail by its mailbox", "[routing]") {
  World w;
  absl::StatusOr<RoutingRules> saved = w.routing.Update(World::Meta("r1", "Update"), Sample(), "0");
  REQUIRE(saved.ok());
  CHECK(saved->version == 1);
  CHECK(crm::common::ReasonOf(
            w.routing.Update(World::Meta("r2", "Update"), Sample(), "0").status()) ==
        "ETAG_MISMATCH");
  CHECK(w.routing.Get(kOther)->rules.empty());  // another tenant has none

  sd::app::NewTicket n;
  n.ticket.subject = "Refund please";
  n.requester.email = "ada@example.com";
  n.description = "Charged twice.";
  absl::StatusOr<sd::domain::Ticket> t = w.tickets.Create(World::Meta("t1", "CreateTicket"), n);
  REQUIRE(t.ok());
  CHECK(t->queue == "billing");
  CHECK(t->priority == Priority::kHigh);
  CHECK(t->tags == std::vector<std::string>{"money"});
  auto changes = w.tickets.Changes(kTenant, t->id);
  REQUIRE(changes.ok());
  REQUIRE(changes->size() == 1);
  CHECK((*changes)[0].field == "routing_rule");
  CHECK((*changes)[0].new_value == "Billing by words");
  CHECK((*changes)[0].actor == "routing");

  // The creator's own priority and queue stay.
  n.ticket.priority = Priority::kLow;
  n.ticket.queue = "front";
  n.priority_given = true;
  t = w.tickets.Create(World::Meta("t2", "CreateTicket"), n);
  REQUIRE(t.ok());
  CHECK(t->queue == "front");
  CHECK(t->priority == Priority::kLow);

  // Mail to the VIP mailbox.
  sd::app::Mailbox vip;
  vip.id = "33333333-3333-4333-8333-333333333333";
  vip.address = "vip@desk.example";
  w.repo.AddMailbox(vip);
  sd::domain::InboundMail m;
  m.message_id = "vip-1@example.com";
  m.from = {"", "ceo@bigco.example"};
  m.subject = "Call me";
  m.text = "Now.";
  absl::StatusOr<sd::app::MailReceived> got = w.inbound.Receive(kTenant, "smtp", vip, m);
  REQUIRE(got.ok());
  CHECK(got->ticket.queue == "vip");
  CHECK(got->ticket.priority == Priority::kUrgent);

  // Another tenant's tickets are not routed by these rules.
  t = w.tickets.Create(World::Meta("t3", "CreateTicket", kOther), n);
  REQUIRE(t.ok());
  CHECK(t->queue == "front");
  n.ticket.queue.clear();
  t = w.tickets.Create(World::Meta("t4", "CreateTicket", kOther), n);
  REQUIRE(t.ok());
  CHECK(t->queue.empty());
}

using crm::testing::IntentExamples;

TEST_CASE("Classifiers predict for new tickets, fill a field in mode auto and route by intent",
          "[routing][classifier]") {
  World w;
  sd::app::Classifiers classifiers{w.repo, w.clock};
  sd::app::TrainRequest train{"intent", "", 0.5, IntentExamples()};
  absl::StatusOr<sd::domain::Classifier> intent =
      classifiers.Train(World::Meta("c1", "TrainClassifier"), train);
  REQUIRE(intent.ok());
  CHECK(intent->source == "examples");
  CHECK(intent->version == 1);
  CHECK(intent->report.examples == 36);
  train.target = "queue";
  train.mode = "auto";
  REQUIRE(classifiers.Train(World::Meta("c2", "TrainClassifier"), train).ok());
  CHECK(classifiers.List(kTenant)->size() == 2);
  CHECK(classifiers.List(kOther)->empty());
  CHECK(crm::common::ReasonOf(classifiers.Get(kOther, "intent").status()) ==
        "CLASSIFIER_NOT_FOUND");
  CHECK(crm::common::FieldOf(classifiers.Get(kTenant, "planet").status()) == "target");
  train.target = "intent";
  train.examples_ndjson.clear();  // an intent has no ticket field to learn from
  CHECK(crm::common::FieldOf(
            classifiers.Train(World::Meta("c3", "TrainClassifier"), train).status()) == "examples");
  train.examples_ndjson = IntentExamples();
  train.mode = "sometimes";
  CHECK(crm::common::FieldOf(
            classifiers.Train(World::Meta("c4", "TrainClassifier"), train).status()) == "mode");
  train.mode = "";
  train.precision_target = 1.5;
  CHECK(crm::common::FieldOf(
            classifiers.Train(World::Meta("c4", "TrainClassifier"), train).status()) ==
        "precision_target");

  // A rule on the intent.
  RoutingRules rules;
  RoutingRule lost;
  lost.name = "Lost cards are urgent";
  lost.conditions = {{"intent", "in", {"lost_card"}}};
  lost.action.priority = Priority::kUrgent;
  rules.rules = {lost};
  REQUIRE(w.routing.Update(World::Meta("r1", "Update"), rules, "0").ok());

  sd::app::NewTicket n;
  n.ticket.subject = "Help";
  n.requester.email = "ada@example.com";
  n.description = "I lost my card yesterday";
  absl::StatusOr<sd::domain::Ticket> t = w.tickets.Create(World::Meta("t1", "CreateTicket"), n);
  REQUIRE(t.ok());
  REQUIRE(t->predictions.size() == 2);
  CHECK(t->predictions[0].target == sd::domain::ClassifierTarget::kQueue);
  CHECK(t->predictions[0].label == "lost_card");
  CHECK(t->predictions[0].answered);
  CHECK(t->predictions[0].applied);
  CHECK(t->queue == "lost_card");  // mode auto filled the empty queue
  CHECK(t->predictions[1].target == sd::domain::ClassifierTarget::kIntent);
  CHECK_FALSE(t->predictions[1].applied);   // suggest; and an intent has no field
  CHECK(t->priority == Priority::kUrgent);  // routed by the intent
  auto read = w.tickets.Get(kTenant, t->id);
  REQUIRE(read.ok());
  CHECK(read->predictions.size() == 2);
  auto changes = w.tickets.Changes(kTenant, t->id);
  REQUIRE(changes.ok());
  bool audited = false;
  for (const auto& c : *changes) {
    if (c.field == "queue" && c.actor == "classifier/queue" && c.new_value == "lost_card") {
      audited = true;
    }
  }
  CHECK(audited);

  // Suggest only: the queue stays empty; a refund is not urgent.
  REQUIRE(classifiers.SetMode(World::Meta("c5", "UpdateClassifier"), "queue", "suggest").ok());
  n.description = "please refund my order";
  t = w.tickets.Create(World::Meta("t2", "CreateTicket"), n);
  REQUIRE(t.ok());
  CHECK(t->queue.empty());
  CHECK(t->predictions[0].label == "refund");
  CHECK(t->priority == Priority::kNormal);

  // Deleted: no prediction; another tenant's tickets never had any.
  REQUIRE(classifiers.Delete(World::Meta("c6", "DeleteClassifier"), "queue").ok());
  CHECK(crm::common::ReasonOf(classifiers.Delete(World::Meta("c7", "DeleteClassifier"), "queue")) ==
        "CLASSIFIER_NOT_FOUND");
  t = w.tickets.Create(World::Meta("t3", "CreateTicket"), n);
  REQUIRE(t.ok());
  CHECK(t->predictions.size() == 1);
  t = w.tickets.Create(World::Meta("t4", "CreateTicket", kOther), n);
  REQUIRE(t.ok());
  CHECK(t->predictions.empty());
}

TEST_CASE("The drift alarm: filled fields corrected, against the held-out precision",
          "[routing][classifier]") {
  sd::domain::ClassifierReport report;
  report.threshold = {0.6, 0.95, 0.8, true};
  CHECK(sd::domain::DriftOf(0, 0, report).live_precision == 0);
  CHECK_FALSE(sd::domain::DriftOf(0, 0, report).alarm);
  sd::domain::ClassifierDrift d = sd::domain::DriftOf(100, 30, report);
  CHECK(d.live_precision == Approx(0.7));
  CHECK(d.upper_bound == Approx(0.7811).epsilon(0.001));  // Wilson 95 %
  CHECK(d.alarm);
  CHECK_FALSE(sd::domain::DriftOf(100, 2, report).alarm);  // as good as measured
  CHECK_FALSE(sd::domain::DriftOf(29, 29, report).alarm);  // too few answers yet
  CHECK(sd::domain::DriftOf(1000, 80, report).alarm);      // 92 %: below 95 % for sure
  CHECK_FALSE(sd::domain::DriftOf(50, 3, report).alarm);   // 94 %: not surely below
  report.threshold.reached = false;                        // it never answers
  CHECK_FALSE(sd::domain::DriftOf(100, 90, report).alarm);

  World w;
  sd::app::Classifiers classifiers{w.repo, w.clock};
  REQUIRE(classifiers
              .Train(World::Meta("c1", "TrainClassifier"), {"queue", "auto", 0.5, IntentExamples()})
              .ok());
  REQUIRE(
      classifiers.Train(World::Meta("c2", "TrainClassifier"), {"intent", "", 0.5, IntentExamples()})
          .ok());
  std::vector<std::string> ids;
  for (int i = 0; i < 3; ++i) {
    sd::app::NewTicket n;
    n.ticket.subject = "Help";
    n.requester.email = "ada@example.com";
    n.description = "I lost my card yesterday";
    auto t = w.tickets.Create(World::Meta("t" + std::to_string(i), "CreateTicket"), n);
    REQUIRE(t.ok());
    REQUIRE(t->predictions[0].applied);
    ids.push_back(t->id);
  }
  auto read = classifiers.Get(kTenant, "queue");
  REQUIRE(read.ok());
  CHECK(read->drift.applied == 3);
  CHECK(read->drift.corrected == 0);
  // An agent moves one to another queue later: a correction.
  w.clock.Advance(absl::Minutes(10));
  sd::domain::Ticket patch;
  patch.queue = "fraud";
  REQUIRE(w.tickets.Update(World::Meta("u1", "UpdateTicket"), ids[0], patch, {"queue"}, "").ok());
  read = classifiers.Get(kTenant, "queue");
  REQUIRE(read.ok());
  CHECK(read->drift.corrected == 1);
  CHECK(read->drift.live_precision == Approx(2.0 / 3));
  CHECK_FALSE(read->drift.alarm);
  auto all = classifiers.List(kTenant);
  REQUIRE(all.ok());
  for (const sd::domain::Classifier& c : *all) {
    CHECK(c.drift.applied == (c.target == sd::domain::ClassifierTarget::kQueue ? 3 : 0));
  }
  // A new training starts the count again.
  REQUIRE(classifiers
              .Train(World::Meta("c3", "TrainClassifier"), {"queue", "auto", 0.5, IntentExamples()})
              .ok());
  CHECK(classifiers.Get(kTenant, "queue")->drift.applied == 0);
}

}  // namespace

namespace {

// customer-store's answers for routing, as a test sets them: by customer
// id, or an error for every customer. Counts the calls.
class RecordingFacts final : public sd::app::CustomerFactsSource {
 public:
  absl::StatusOr<sd::domain::CustomerFacts> Facts(const std::string&,
                                                  const std::string& customer_id) override {
    ++calls;
    if (!failure.ok()) return failure;
    auto it = by_customer.find(customer_id);
    return it == by_customer.end() ? sd::domain::CustomerFacts() : it->second;
  }
  std::map<std::string, sd::domain::CustomerFacts> by_customer;
  absl::Status failure;
  int calls = 0;
};

}  // namespace

TEST_CASE("Numeric conditions: the customer's CLV and churn risk, the classifiers' confidence",
          "[routing]") {
  auto check = [](std::vector<RoutingCondition> c) {
    return crm::common::FieldOf(
        sd::domain::NormalizeAndValidateConditions(c, "c", sd::domain::ConditionScope::kRouting));
  };
  CHECK(check({{"customer_clv", "gte", {"1000"}}}).empty());
  CHECK(check({{"intent_confidence", "LT", {"0.5"}}}).empty());
  CHECK(check({{"customer_clv", "in", {"1000"}}}) == "c[0].match");
  CHECK(check({{"customer_clv", "gte", {"lots"}}}) == "c[0].values");
  CHECK(check({{"customer_clv", "gte", {"1", "2"}}}) == "c[0].values");
  CHECK(check({{"customer_clv", "gte", {"nan"}}}) == "c[0].values");
  CHECK(check({{"subject", "gte", {"1"}}}) == "c[0].match");
  CHECK(check({{"customer_segment", "in", {"VIP"}}}).empty());
  // Routing's only: not in triggers or SLA policies.
  std::vector<RoutingCondition> trigger = {{"customer_clv", "gte", {"1"}}};
  CHECK(crm::common::FieldOf(sd::domain::NormalizeAndValidateConditions(
            trigger, "t", sd::domain::ConditionScope::kTrigger)) == "t[0].field");

  sd::domain::Ticket t;
  t.subject = "Where is my card";
  std::vector<sd::domain::TicketPrediction> predictions(1);
  predictions[0].target = sd::domain::ClassifierTarget::kIntent;
  predictions[0].label = "card_arrival";
  predictions[0].confidence = 0.42;  // under its threshold: no label, a number still
  sd::domain::RoutingInput in{&t, "", ""};
  in.predictions = &predictions;
  auto holds = [&](RoutingCondition c) { return sd::domain::ConditionsHold({std::move(c)}, in); };
  CHECK(holds({"intent_confidence", "lt", {"0.5"}}));
  CHECK_FALSE(holds({"intent_confidence", "gte", {"0.5"}}));
  CHECK_FALSE(holds({"predicted_queue_confidence", "lt", {"2"}}));  // no such classifier
  CHECK_FALSE(holds({"customer_clv", "lt", {"1e9"}}));              // facts unknown
  sd::domain::CustomerFacts facts;
  facts.segments = {"vip", "VIP customers"};
  facts.rfm_segment = "Champions";
  facts.clv = 1500.5;
  in.customer = &facts;
  CHECK(holds({"customer_clv", "gte", {"1000"}}));
  CHECK_FALSE(holds({"customer_clv", "lt", {"1000"}}));
  CHECK_FALSE(holds({"customer_churn_risk", "lt", {"1"}}));  // no model: unknown
  CHECK(holds({"customer_segment", "in", {"vip customers"}}));
  CHECK(holds({"customer_rfm_segment", "in", {"champions"}}));
  CHECK(holds({"customer_segment", "not_in", {"churned"}}));

  RoutingRules rules = Sample();
  CHECK_FALSE(sd::domain::NeedsCustomerFacts(rules));
  rules.rules[0].conditions.push_back({"customer_segment", "in", {"vip"}});
  CHECK(sd::domain::NeedsCustomerFacts(rules));
}

TEST_CASE("New tickets are routed by the requester's segments and CLV from customer-store",
          "[routing]") {
  crm::testing::FakeTicketRepository repo;
  crm::testing::FakeRequesterDirectory directory;
  crm::testing::FixedClock clock;
  crm::common::RandomIdGenerator ids;
  RecordingFacts facts;
  sd::app::Tickets tickets{repo, directory, clock, ids, &facts};
  sd::app::Routing routing{repo, clock};

  sd::app::NewTicket n;
  n.ticket.subject = "Question";
  n.requester.email = "vip@example.com";
  n.description = "Hello";
  // No rule reads the customer: customer-store is not asked.
  REQUIRE(tickets.Create(World::Meta("t0", "CreateTicket"), n).ok());
  CHECK(facts.calls == 0);

  RoutingRules rules;
  RoutingRule vip;
  vip.name = "VIPs";
  vip.conditions = {{"customer_segment", "in", {"VIP customers"}}};
  vip.action.queue = "vip";
  vip.action.priority = Priority::kHigh;
  RoutingRule valuable;
  valuable.name = "Valuable";
  valuable.conditions = {{"customer_clv", "gte", {"1000"}}};
  valuable.action.queue = "retention";
  rules.rules = {vip, valuable};
  REQUIRE(routing.Update(World::Meta("r1", "Update"), rules, "0").ok());

  auto t = tickets.Create(World::Meta("t1", "CreateTicket"), n);
  REQUIRE(t.ok());
  CHECK(facts.calls == 1);
  CHECK(t->queue.empty());  // nothing known of the customer yet
  sd::domain::CustomerFacts known;
  known.segments = {"vip", "VIP customers"};
  facts.by_customer[t->customer_id] = known;
  t = tickets.Create(World::Meta("t2", "CreateTicket"), n);
  REQUIRE(t.ok());
  CHECK(t->queue == "vip");
  CHECK(t->priority == Priority::kHigh);
  known.segments.clear();
  known.clv = 2500;
  facts.by_customer[t->customer_id] = known;
  t = tickets.Create(World::Meta("t3", "CreateTicket"), n);
  REQUIRE(t.ok());
  CHECK(t->queue == "retention");

  // customer-store down: the conditions do not hold, the ticket is created
  // and its audit says why it was not routed by them.
  facts.failure = absl::UnavailableError("customer-store down");
  t = tickets.Create(World::Meta("t4", "CreateTicket"), n);
  REQUIRE(t.ok());
  CHECK(t->queue.empty());
  auto changes = tickets.Changes(kTenant, t->id);
  REQUIRE(changes.ok());
  REQUIRE(changes->size() == 1);
  CHECK((*changes)[0].field == "routing_customer_facts");
  CHECK((*changes)[0].new_value == "unavailable");
  // A retry answered from its key asks nothing.
  const int before = facts.calls;
  REQUIRE(tickets.Create(World::Meta("t4", "CreateTicket"), n).ok());
  CHECK(facts.calls == before);
}
