// Tickets on PostgreSQL (PgTicketRepository as the app role, RLS on) driven
// by app::Tickets: a ticket and its thread read back as written; numbers per
// tenant; lists with filters and pages; updates under the etag with their
// audit rows; a write retried with its key answers the first answer and
// writes nothing; outbox events; another tenant's ticket is NOT_FOUND
// everywhere; stored SLA instants and the sweeper (notices once, a ticket a
// write holds is skipped, a policy change re-evaluates every ticket). The requester directory is
// the in-memory fake (the e2e suite runs customer-store).
#include "services/service_desk/app/tickets.h"

#include <atomic>
#include <catch2/catch.hpp>
#include <future>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "libs/common/errors.h"
#include "libs/common/id.h"
#include "libs/common/tracking_token.h"
#include "libs/pg/pool.h"
#include "services/service_desk/app/agents.h"
#include "services/service_desk/app/automations.h"
#include "services/service_desk/app/classifiers.h"
#include "services/service_desk/app/inbound.h"
#include "services/service_desk/app/knowledge.h"
#include "services/service_desk/app/macros.h"
#include "services/service_desk/app/mailboxes.h"
#include "services/service_desk/app/routing.h"
#include "services/service_desk/app/slas.h"
#include "services/service_desk/app/surveys.h"
#include "services/service_desk/app/triggers.h"
#include "services/service_desk/mail/mime.h"
#include "services/service_desk/storage/pg_ticket_repository.h"
#include "tests/support/fakes/common_fakes.h"
#include "tests/support/fakes/service_desk/fake_ticket_repository.h"
#include "tests/support/fakes/service_desk/intent_examples.h"
#include "tests/support/pg_test_db.h"

namespace crm::service_desk::itest {
namespace {

namespace ts = crm::test_support;
using common::FieldOf;
using common::ReasonOf;
using domain::MessageKind;
using domain::Ticket;
using domain::TicketStatus;

struct Env {
  std::unique_ptr<crm::pg::Pool> pool;
  std::unique_ptr<storage::PgTicketRepository> repo;
};

Env& TheEnv() {
  static Env* env = [] {
    auto* e = new Env;
    e->pool = ts::FreshSchemaPool("service_desk", "service_desk", 4,
                                  {storage::PgTicketRepository::Queries()});
    e->repo = std::make_unique<storage::PgTicketRepository>(*e->pool);
    return e;
  }();
  return *env;
}

struct World {
  testing::FixedClock clock{absl::FromUnixMicros(1780000000123456)};
  common::RandomIdGenerator ids;
  testing::FakeRequesterDirectory directory;
  app::Tickets tickets{*TheEnv().repo, directory, clock, ids};
  std::string tenant = common::NewUuid();

  app::Actor Meta(const std::string& method, const std::string& key = common::NewUuid(),
                  const std::string& fingerprint = "fp") {
    return app::Actor{tenant, "agent-ann", "req", method, key, fingerprint};
  }
  absl::StatusOr<Ticket> Create(const std::string& subject, const std::string& email,
                                const std::string& key = common::NewUuid()) {
    app::NewTicket n;
    n.ticket.subject = subject;
    n.ticket.channel = domain::Channel::kWebForm;
    n.ticket.priority = domain::Priority::kHigh;
    n.ticket.type = "incident";
    n.ticket.tags = {"card", "billing"};
    n.ticket.queue = "payments";
    n.ticket.custom_fields = {{"order_ref", "A-17"}, {"region", "서울"}};
    n.requester.email = email;
    n.description = "Charged twice for order A-17.";
    return tickets.Create(Meta("CreateTicket", key), n);
  }
  // The first column of the one row `sql` reads in the tenant, as text.
  std::string Text(const std::string& sql) {
    std::string out;
    absl::Status s = TheEnv().pool->WithTenantTx(tenant, [&](pqxx::work& tx) {
      out = tx.exec1(sql)[0].as<std::string>();
      return absl::OkStatus();
    });
    REQUIRE(s.ok());
    return out;
  }
  int64_t Count(const std::string& sql) {
    int64_t n = -1;
    absl::Status s = TheEnv().pool->WithTenantTx(tenant, [&](pqxx::work& tx) {
      n = tx.exec1(sql)[0].as<int64_t>();
      return absl::OkStatus();
    });
    REQUIRE(s.ok());
    return n;
  }
};

TEST_CASE("a ticket and its first message read back as written", "[service_desk][pg]") {
  World w;
  auto t = w.Create("Charged twice", "ada@example.com");
  REQUIRE(t.ok());
  auto got = w.tickets.Get(w.tenant, t->id);
  REQUIRE(got.ok());
  CHECK(got->number == 1);
  CHECK(got->subject == "Charged twice");
  CHECK(got->channel == domain::Channel::kWebForm);
  CHECK(got->status == TicketStatus::kNew);
  CHECK(got->priority == domain::Priority::kHigh);
  CHECK(got->type == "incident");
  CHECK(got->tags == std::vector<std::string>{"billing", "card"});
  CHECK(got->queue == "payments");
  CHECK(got->custom_fields.at("region") == "서울");
  CHECK(got->customer_id == t->customer_id);
  CHECK(got->requester_email == "ada@example.com");
  CHECK(got->create_time == w.clock.Now());
  CHECK(got->solve_time == absl::InfinitePast());
  CHECK(got->message_count == 1);
  CHECK(got->version == 1);

  auto messages = w.tickets.Messages(w.tenant, t->id, "", 100);
  REQUIRE(messages.ok());
  REQUIRE(messages->items.size() == 1);
  CHECK(messages->items[0].body == "Charged twice for order A-17.");
  CHECK(messages->items[0].kind == MessageKind::kCustomer);
  CHECK(w.Count("SELECT count(*) FROM service_desk.outbox WHERE event_type = 'ticket.created'") ==
        1);
  CHECK(w.Count("SELECT count(*) FROM service_desk.audit_log") == 1);

  auto second = w.Create("Another", "bob@example.com");
  REQUIRE(second.ok());
  CHECK(second->number == 2);
}

TEST_CASE("a create retried with its key answers the first ticket and writes nothing",
          "[service_desk][pg]") {
  World w;
  auto first = w.Create("Lost parcel", "cy@example.com", "key-1");
  REQUIRE(first.ok());
  const int calls = w.directory.calls;
  auto again = w.Create("Lost parcel", "cy@example.com", "key-1");
  REQUIRE(again.ok());
  CHECK(again->id == first->id);
  CHECK(again->number == first->number);
  CHECK(again->custom_fields == first->custom_fields);
  CHECK(w.directory.calls == calls);  // the requester is not resolved again
  CHECK(w.Count("SELECT count(*) FROM service_desk.tickets") == 1);
  CHECK(w.Count("SELECT count(*) FROM service_desk.ticket_messages") == 1);

  app::NewTicket other;
  other.ticket.subject = "Other";
  other.requester.email = "cy@example.com";
  other.description = "x";
  auto reused = w.tickets.Create(w.Meta("CreateTicket", "key-1", "another body"), other);
  CHECK(ReasonOf(reused.status()) == "IDEMPOTENCY_KEY_REUSED");
}

TEST_CASE("updates change fields under the etag and write one audit row per field",
          "[service_desk][pg]") {
  World w;
  auto t = w.Create("Refund", "dee@example.com");
  REQUIRE(t.ok());
  w.clock.Advance(absl::Minutes(3));
  Ticket patch;
  patch.status = TicketStatus::kPendingCustomer;
  patch.assignee = "agent-bob";
  patch.tags = {"refund"};
  auto u =
      w.tickets.Update(w.Meta("UpdateTicket"), t->id, patch, {"status", "assignee", "tags"}, "1");
  REQUIRE(u.ok());
  CHECK(u->version == 2);
  auto got = w.tickets.Get(w.tenant, t->id);
  REQUIRE(got.ok());
  CHECK(got->status == TicketStatus::kPendingCustomer);
  CHECK(got->assignee == "agent-bob");
  CHECK(got->tags == std::vector<std::string>{"refund"});
  CHECK(got->update_time == w.clock.Now());
  CHECK(ReasonOf(
            w.tickets.Update(w.Meta("UpdateTicket"), t->id, patch, {"assignee"}, "1").status()) ==
        "ETAG_MISMATCH");

  // The customer answers: the ticket is open again; then solved.
  auto reply = w.tickets.AddMessage(w.Meta("AddTicketMessage"), t->id, MessageKind::kCustomer,
                                    "Here is the receipt.");
  REQUIRE(reply.ok());
  CHECK(reply->ticket.status == TicketStatus::kOpen);
  Ticket solve;
  solve.status = TicketStatus::kSolved;
  w.clock.Advance(absl::Minutes(1));
  auto solved = w.tickets.Update(w.Meta("UpdateTicket"), t->id, solve, {"status"}, "");
  REQUIRE(solved.ok());
  auto after = w.tickets.Get(w.tenant, t->id);
  REQUIRE(after.ok());
  CHECK(after->solve_time == w.clock.Now());
  CHECK(after->message_count == 2);

  auto changes = w.tickets.Changes(w.tenant, t->id);
  REQUIRE(changes.ok());
  std::vector<std::string> rows;
  for (const auto& c : *changes) {
    rows.push_back(
        absl::StrCat(c.seq, " ", c.field, " ", c.old_value, ">", c.new_value, " ", c.actor));
  }
  CHECK(rows == std::vector<std::string>{
                    "1 status new>pending_customer agent-ann", "2 assignee >agent-bob agent-ann",
                    "3 tags billing,card>refund agent-ann",
                    "4 status pending_customer>open customer", "5 status open>solved agent-ann"});
  CHECK(w.Count("SELECT count(*) FROM service_desk.outbox WHERE event_type = "
                "'ticket.message_added'") == 1);
}

TEST_CASE("lists filter and page newest first", "[service_desk][pg]") {
  World w;
  std::vector<std::string> ids;
  for (int i = 0; i < 7; ++i) {
    w.clock.Advance(absl::Seconds(1));
    auto t = w.Create(absl::StrCat("T", i), i % 2 == 0 ? "even@example.com" : "odd@example.com");
    REQUIRE(t.ok());
    ids.push_back(t->id);
  }
  Ticket patch;
  patch.assignee = "agent-bob";
  REQUIRE(w.tickets.Update(w.Meta("UpdateTicket"), ids[3], patch, {"assignee"}, "").ok());

  std::vector<std::string> seen;
  app::TicketQuery q;
  q.limit = 3;
  for (int page = 0; page < 5; ++page) {
    auto p = w.tickets.List(w.tenant, q);
    REQUIRE(p.ok());
    for (const Ticket& t : p->items) seen.push_back(t.id);
    if (p->next_cursor.empty()) break;
    q.before_cursor = p->next_cursor;
  }
  CHECK(seen == std::vector<std::string>{ids[6], ids[5], ids[4], ids[3], ids[2], ids[1], ids[0]});

  app::TicketQuery by_assignee;
  by_assignee.assignee = "agent-bob";
  auto bob = w.tickets.List(w.tenant, by_assignee);
  REQUIRE(bob.ok());
  REQUIRE(bob->items.size() == 1);
  CHECK(bob->items[0].id == ids[3]);
  auto first = w.tickets.Get(w.tenant, ids[0]);
  REQUIRE(first.ok());
  app::TicketQuery by_customer;
  by_customer.customer_id = first->customer_id;
  auto evens = w.tickets.List(w.tenant, by_customer);
  REQUIRE(evens.ok());
  CHECK(evens->items.size() == 4);
  app::TicketQuery by_status;
  by_status.status = TicketStatus::kSolved;
  auto none = w.tickets.List(w.tenant, by_status);
  REQUIRE(none.ok());
  CHECK(none->items.empty());
  app::TicketQuery forged;
  forged.before_cursor = "12|not-an-id";
  CHECK(FieldOf(w.tickets.List(w.tenant, forged).status()) == "page_token");
}

TEST_CASE("a thread pages oldest first", "[service_desk][pg]") {
  World w;
  auto t = w.Create("Thread", "eve@example.com");
  REQUIRE(t.ok());
  for (int i = 0; i < 4; ++i) {
    w.clock.Advance(absl::Seconds(1));
    REQUIRE(w.tickets
                .AddMessage(w.Meta("AddTicketMessage"), t->id,
                            i % 2 ? MessageKind::kInternalNote : MessageKind::kPublicReply,
                            absl::StrCat("m", i))
                .ok());
  }
  std::vector<std::string> bodies;
  std::string cursor;
  for (int page = 0; page < 5; ++page) {
    auto p = w.tickets.Messages(w.tenant, t->id, cursor, 2);
    REQUIRE(p.ok());
    for (const auto& m : p->items) bodies.push_back(m.body);
    if (p->next_cursor.empty()) break;
    cursor = p->next_cursor;
  }
  CHECK(bodies ==
        std::vector<std::string>{"Charged twice for order A-17.", "m0", "m1", "m2", "m3"});
}

TEST_CASE("another tenant's ticket is not found on every route", "[service_desk][pg]") {
  World w;
  auto t = w.Create("Private", "fay@example.com");
  REQUIRE(t.ok());
  World other;
  CHECK(ReasonOf(other.tickets.Get(other.tenant, t->id).status()) == "TICKET_NOT_FOUND");
  CHECK(ReasonOf(other.tickets.Messages(other.tenant, t->id, "", 10).status()) ==
        "TICKET_NOT_FOUND");
  CHECK(ReasonOf(other.tickets.Changes(other.tenant, t->id).status()) == "TICKET_NOT_FOUND");
  CHECK(ReasonOf(other.tickets
                     .AddMessage(other.Meta("AddTicketMessage"), t->id, MessageKind::kCustomer, "x")
                     .status()) == "TICKET_NOT_FOUND");
  Ticket patch;
  patch.priority = domain::Priority::kUrgent;
  CHECK(ReasonOf(other.tickets.Update(other.Meta("UpdateTicket"), t->id, patch, {"priority"}, "")
                     .status()) == "TICKET_NOT_FOUND");
  auto list = other.tickets.List(other.tenant, {});
  REQUIRE(list.ok());
  CHECK(list->items.empty());
  // Row-level security: the other tenant's transaction sees no row at all.
  CHECK(other.Count("SELECT count(*) FROM service_desk.tickets") == 0);
  CHECK(other.Count("SELECT count(*) FROM service_desk.ticket_messages") == 0);
  auto mine = w.tickets.Get(w.tenant, t->id);
  REQUIRE(mine.ok());
  CHECK(mine->priority == domain::Priority::kHigh);
}

TEST_CASE("the SLA policy round-trips and a ticket's SLA reads its history", "[service_desk][pg]") {
  World w;
  app::Slas slas(*TheEnv().repo, w.clock);
  domain::SlaPolicySpec spec;
  spec.hours.time_zone = "Asia/Seoul";
  spec.hours.week[0] = {{9 * 60, 12 * 60}, {13 * 60, 18 * 60}};
  spec.hours.week[4] = {{9 * 60, 18 * 60}};
  spec.hours.holidays = {absl::CivilDay(2026, 12, 25)};
  spec.targets_by_priority["high"] = {absl::Hours(1), absl::Hours(4), std::nullopt,
                                      absl::Hours(24)};
  spec.paused_statuses = {"pending_customer", "on_hold"};
  spec.warn_before = absl::Minutes(10);
  spec.escalations = {absl::Hours(1), absl::Hours(4)};
  CHECK(ReasonOf(slas.GetPolicy(w.tenant).status()) == "SLA_POLICY_NOT_FOUND");
  auto written = slas.UpdatePolicy(w.Meta("UpdateSlaPolicy", "sla-1"), spec, "0");
  REQUIRE(written.ok());
  auto got = slas.GetPolicy(w.tenant);
  REQUIRE(got.ok());
  CHECK(got->version == 1);
  CHECK(got->hours.time_zone == "Asia/Seoul");
  REQUIRE(got->hours.week[0].size() == 2);
  CHECK(got->hours.week[0][1].start_minute == 13 * 60);
  CHECK(got->hours.week[1].empty());
  CHECK(got->hours.holidays == std::vector<absl::CivilDay>{absl::CivilDay(2026, 12, 25)});
  CHECK(got->targets_by_priority.at("high").next_reply == absl::Hours(4));
  CHECK_FALSE(got->targets_by_priority.at("high").periodic_update.has_value());
  CHECK(got->paused_statuses == spec.paused_statuses);
  CHECK(got->warn_before == absl::Minutes(10));
  CHECK(got->escalations == spec.escalations);
  CHECK(got->update_time == w.clock.Now());
  // The retried write answers the first one; a stale etag is refused.
  auto again = slas.UpdatePolicy(w.Meta("UpdateSlaPolicy", "sla-1"), spec, "0");
  REQUIRE(again.ok());
  CHECK(again->version == 1);
  CHECK(ReasonOf(slas.UpdatePolicy(w.Meta("UpdateSlaPolicy"), spec, "0").status()) ==
        "ETAG_MISMATCH");
  World other;
  CHECK(ReasonOf(app::Slas(*TheEnv().repo, other.clock).GetPolicy(other.tenant).status()) ==
        "SLA_POLICY_NOT_FOUND");

  // High priority (the ticket's; first reply 1 h, warned 10 min before) in
  // Seoul's hours: a ticket of Monday 2026-06-01 11:30 KST is due after the
  // lunch break, at 13:30, warned at 13:20.
  absl::TimeZone seoul;
  REQUIRE(absl::LoadTimeZone("Asia/Seoul", &seoul));
  const auto kst = [&](int d, int h, int m) {
    return absl::FromCivil(absl::CivilMinute(2026, 6, d, h, m), seoul);
  };
  w.clock.Set(kst(1, 11, 30));
  auto t = w.Create("Cannot log in", "gil@example.com");
  REQUIRE(t.ok());
  w.clock.Set(kst(1, 11, 45));
  auto sla = slas.ForTicket(w.tenant, t->id);
  REQUIRE(sla.ok());
  CHECK(sla->policy_version == 1);
  REQUIRE(sla->metrics.size() == 3);  // first reply, next reply, resolution
  CHECK(sla->metrics[0].metric == domain::SlaMetric::kFirstReply);
  CHECK(sla->metrics[0].deadline == kst(1, 13, 30));
  CHECK(sla->metrics[0].warn_at == kst(1, 13, 20));
  CHECK(sla->metrics[0].elapsed == absl::Minutes(15));
  CHECK(sla->next_due == kst(1, 13, 20));
  // Replied at 13:40: breached at 13:30, fulfilled late; the reply stops
  // the cycle before its first escalation (an hour after the breach).
  w.clock.Set(kst(1, 13, 40));
  REQUIRE(w.tickets
              .AddMessage(w.Meta("AddTicketMessage"), t->id, MessageKind::kPublicReply,
                          "Reset link sent.")
              .ok());
  sla = slas.ForTicket(w.tenant, t->id);
  REQUIRE(sla.ok());
  CHECK(sla->metrics[0].fulfilled_at == kst(1, 13, 40));
  CHECK(sla->metrics[0].breached_at == kst(1, 13, 30));
  CHECK(sla->metrics[0].escalation_level == 0);
  CHECK(sla->metrics[0].elapsed == absl::Minutes(70));  // 11:30-12:00 and 13:00-13:40
  CHECK_FALSE(sla->metrics[0].deadline.has_value());
  CHECK(sla->metrics[2].metric == domain::SlaMetric::kResolution);
  CHECK(sla->metrics[2].elapsed == absl::Minutes(70));
  CHECK(sla->metrics[2].deadline.has_value());
  CHECK(ReasonOf(slas.ForTicket(other.tenant, t->id).status()) == "TICKET_NOT_FOUND");
}

TEST_CASE("conditional SLA policies round-trip, and a ticket's moves between them are audited",
          "[service_desk][pg][sla_choice]") {
  World w;
  app::Slas slas(*TheEnv().repo, w.clock);
  domain::SlaPolicySpec always;
  always.hours.always_open = true;
  always.targets_by_priority["high"] = {absl::Hours(4), std::nullopt, std::nullopt, std::nullopt};
  REQUIRE(slas.UpdatePolicy(w.Meta("UpdateSlaPolicy"), always, "0").ok());
  domain::ConditionalSlaPolicy partners;
  partners.id = "partners";
  partners.name = "Partners";
  partners.conditions = {{"requester_domain", "in", {"partner.example"}}};
  partners.policy = always;
  partners.policy.targets_by_priority["high"].first_reply = absl::Minutes(30);
  auto written = slas.UpdatePolicies(w.Meta("UpdateSlaPolicies", "slap-1"), {partners}, "1");
  REQUIRE(written.ok());
  CHECK(written->version == 2);
  // The retried write answers the first; the default keeps its place.
  auto again = slas.UpdatePolicies(w.Meta("UpdateSlaPolicies", "slap-1"), {partners}, "1");
  REQUIRE(again.ok());
  CHECK(again->version == 2);
  REQUIRE(again->fallback.has_value());
  auto got = slas.GetPolicies(w.tenant);
  REQUIRE(got.ok());
  REQUIRE(got->conditional.size() == 1);
  CHECK(got->conditional[0].name == "Partners");
  CHECK(got->conditional[0].conditions[0].values == std::vector<std::string>{"partner.example"});
  CHECK(got->conditional[0].policy.targets_by_priority.at("high").first_reply == absl::Minutes(30));
  auto fallback = slas.GetPolicy(w.tenant);
  REQUIRE(fallback.ok());
  CHECK(fallback->version == 2);  // one etag for both
  World other;
  auto theirs = app::Slas(*TheEnv().repo, other.clock).GetPolicies(other.tenant);
  REQUIRE(theirs.ok());
  CHECK(theirs->version == 0);
  CHECK(theirs->conditional.empty());

  const absl::Time t0 = w.clock.Now();
  auto t = w.Create("Invoice question", "eve@partner.example");
  REQUIRE(t.ok());
  CHECK(t->sla_due == t0 + absl::Minutes(30));
  CHECK(w.Count(absl::StrCat("SELECT count(*) FROM service_desk.ticket_slas WHERE ticket_id = '",
                             t->id, "' AND policy = 'partners'")) == 1);
  auto sla = slas.ForTicket(w.tenant, t->id);
  REQUIRE(sla.ok());
  CHECK(sla->policy == "partners");
  CHECK(ReasonOf(slas.ForTicket(other.tenant, t->id).status()) == "TICKET_NOT_FOUND");

  // The list emptied: the re-evaluation moves the ticket to the default,
  // an audit row of its own.
  w.clock.Set(t0 + absl::Minutes(10));
  REQUIRE(slas.UpdatePolicies(w.Meta("UpdateSlaPolicies"), {}, "2").ok());
  for (int i = 0; i < 5; ++i) slas.Sweep(100);
  auto changes = TheEnv().repo->ListChanges(w.tenant, t->id);
  REQUIRE(changes.ok());
  REQUIRE(changes->size() == 1);
  CHECK(changes->at(0).field == "sla_policy");
  CHECK(changes->at(0).old_value == "partners");
  CHECK(changes->at(0).new_value == "default");
  CHECK(changes->at(0).actor == "sla");
  sla = slas.ForTicket(w.tenant, t->id);
  REQUIRE(sla.ok());
  CHECK(sla->policy == "default");
  CHECK(sla->metrics[0].deadline == t0 + absl::Hours(4));
  CHECK(w.Count(absl::StrCat("SELECT (extract(epoch from next_due_at) * 1000000)::int8 FROM "
                             "service_desk.ticket_slas WHERE ticket_id = '",
                             t->id, "'")) == absl::ToUnixMicros(t0 + absl::Hours(4)));
}

TEST_CASE("agents round-trip and new tickets are assigned within capacity on PostgreSQL",
          "[service_desk][pg][assignment]") {
  World w;
  app::Agents agents{*TheEnv().repo, w.tickets, w.clock};
  app::Routing routing{*TheEnv().repo, w.clock};
  const auto agent = [](const std::string& id, const std::string& queue) {
    domain::Agent a;
    a.id = id;
    a.name = "Agent " + id;
    a.queues = {queue};
    a.skills = {"german", "refunds"};
    a.capacity = 3;
    a.available = true;
    return a;
  };
  const std::string key = common::NewUuid();
  auto ann = agents.Put(w.Meta("PutAgent", key), agent("ann@desk.example", "payments"), "0");
  REQUIRE(ann.ok());
  CHECK(agents.Put(w.Meta("PutAgent", key), agent("ann@desk.example", "payments"), "0")
            ->agent.version == 1);  // the retry answers the first
  REQUIRE(agents.Put(w.Meta("PutAgent"), agent("bob", "payments"), "0").ok());
  REQUIRE(agents.Put(w.Meta("PutAgent"), agent("cat", "returns"), "0").ok());
  auto read = agents.Get(w.tenant, "ann@desk.example");
  REQUIRE(read.ok());
  CHECK(read->agent.queues == std::vector<std::string>{"payments"});
  CHECK(read->agent.skills == std::vector<std::string>{"german", "refunds"});
  CHECK(read->agent.capacity == 3);
  CHECK(read->agent.available);
  CHECK(read->agent.version == 1);
  CHECK(read->agent.last_assigned == absl::InfinitePast());
  CHECK(read->open_tickets == 0);

  domain::RoutingRules rules;
  domain::RoutingRule r;
  r.name = "Payments round robin";
  r.conditions = {{"subject", "contains", {"charged"}}};
  r.action.assign = domain::AssignMode::kRoundRobin;
  r.action.skills = {"german"};
  rules.rules = {r};
  REQUIRE(routing.Update(w.Meta("UpdateRoutingRules"), rules, "0").ok());
  auto stored = routing.Get(w.tenant);
  REQUIRE(stored.ok());
  CHECK(stored->rules[0].action.assign == domain::AssignMode::kRoundRobin);
  CHECK(stored->rules[0].action.skills == std::vector<std::string>{"german"});

  // Twelve creations at once for two agents of capacity 3: three each, six
  // left unassigned, never a fourth (each agent's load is counted again
  // under its own lock).
  std::vector<std::thread> threads;
  std::vector<absl::StatusOr<Ticket>> got(12, absl::UnknownError("not run"));
  for (size_t i = 0; i < got.size(); ++i) {
    threads.emplace_back([&, i] { got[i] = w.Create("Charged twice", "eve@example.com"); });
  }
  for (std::thread& t : threads) t.join();
  int unassigned = 0;
  for (const auto& t : got) {
    REQUIRE(t.ok());
    if (t->assignee.empty()) ++unassigned;
  }
  CHECK(unassigned == 6);
  CHECK(w.Count("SELECT count(*) FROM service_desk.tickets WHERE assignee = 'ann@desk.example'") ==
        3);
  CHECK(w.Count("SELECT count(*) FROM service_desk.tickets WHERE assignee = 'bob'") == 3);
  CHECK(w.Count("SELECT count(*) FROM service_desk.ticket_changes WHERE field = 'assignee' AND "
                "actor = 'assignment'") == 6);
  auto all = agents.List(w.tenant);
  REQUIRE(all.ok());
  REQUIRE(all->size() == 3);
  CHECK(all->at(0).agent.id == "ann@desk.example");
  CHECK(all->at(0).open_tickets == 3);
  CHECK(all->at(0).agent.last_assigned == w.clock.Now());
  CHECK(all->at(2).open_tickets == 0);  // cat: another queue

  auto off = agents.SetAvailability(w.Meta("SetAgentAvailability"), "cat", false);
  REQUIRE(off.ok());
  CHECK(off->agent.version == 2);
  CHECK_FALSE(agents.Get(w.tenant, "cat")->agent.available);
  World other;
  app::Agents theirs{*TheEnv().repo, other.tickets, other.clock};
  CHECK(ReasonOf(theirs.Get(other.tenant, "cat").status()) == "AGENT_NOT_FOUND");
  CHECK(
      ReasonOf(theirs.SetAvailability(other.Meta("SetAgentAvailability"), "cat", true).status()) ==
      "AGENT_NOT_FOUND");
  CHECK(theirs.List(other.tenant)->empty());
  CHECK(other.Count("SELECT count(*) FROM service_desk.agents") == 0);
}

// Reassignment on PostgreSQL: an agent going off shift with `reassign`
// hands their new and open tickets to the others of the queue with room,
// each move audited; the rest go to nobody; another tenant's agent of the
// same name is untouched.
TEST_CASE("an agent off shift hands new and open tickets over on PostgreSQL",
          "[service_desk][pg][assignment]") {
  World w;
  app::Agents agents{*TheEnv().repo, w.tickets, w.clock};
  World other;
  app::Agents theirs{*TheEnv().repo, other.tickets, other.clock};
  for (const auto& [id, capacity] :
       std::vector<std::pair<std::string, int>>{{"ann", 10}, {"bob", 2}}) {
    domain::Agent a;
    a.id = id;
    a.queues = {"payments"};
    a.capacity = capacity;
    a.available = true;
    REQUIRE(agents.Put(w.Meta("PutAgent"), a, "0").ok());
    REQUIRE(theirs.Put(other.Meta("PutAgent"), a, "0").ok());
  }
  std::vector<std::string> ids;
  for (int i = 0; i < 3; ++i) {
    w.clock.Advance(absl::Seconds(1));
    app::NewTicket n;
    n.ticket.subject = absl::StrCat("Refund ", i);
    n.ticket.queue = "payments";
    n.ticket.assignee = "ann";
    n.requester.email = "eve@example.com";
    n.description = "Please refund.";
    auto t = w.tickets.Create(w.Meta("CreateTicket"), n);
    REQUIRE(t.ok());
    ids.push_back(t->id);
  }
  auto theirs_ticket = other.Create("Refund", "eve@example.com");
  REQUIRE(theirs_ticket.ok());
  auto off = agents.SetAvailability(w.Meta("SetAgentAvailability"), "ann", false,
                                    domain::AssignMode::kRoundRobin);
  REQUIRE(off.ok());
  CHECK(off->reassigned == 2);  // bob's capacity
  CHECK(off->released == 1);
  CHECK(off->open_tickets == 0);
  CHECK(w.tickets.Get(w.tenant, ids[0])->assignee == "bob");
  CHECK(w.tickets.Get(w.tenant, ids[1])->assignee == "bob");
  CHECK(w.tickets.Get(w.tenant, ids[2])->assignee.empty());
  CHECK(w.Count("SELECT count(*) FROM service_desk.ticket_changes WHERE field = 'assignee' AND "
                "actor = 'reassignment'") == 3);
  CHECK(theirs.Get(other.tenant, "ann")->agent.available);
  CHECK(other.Count("SELECT count(*) FROM service_desk.ticket_changes WHERE actor = "
                    "'reassignment'") == 0);
}

TEST_CASE("a claim skips an agent another write holds, waits when told, and gives its lock back",
          "[service_desk][pg][assignment]") {
  World w;
  app::Agents agents{*TheEnv().repo, w.tickets, w.clock};
  for (const char* id : {"ann", "bob"}) {
    domain::Agent a;
    a.id = id;
    a.available = true;
    REQUIRE(agents.Put(w.Meta("PutAgent"), a, "0").ok());
  }
  app::TicketRepository& repo = *TheEnv().repo;
  const auto probe = [](app::TicketTx&) -> absl::StatusOr<app::AgentState> {
    return app::AgentState{};
  };
  // The first write claims ann and keeps her until told to end.
  std::promise<void> claimed, finish;
  std::shared_future<void> finish_f = finish.get_future().share();
  std::atomic<bool> first_ok{false};
  std::thread first([&] {
    first_ok =
        repo.Run<app::AgentState>(w.Meta("Claim"), "claim/1",
                                  [&](app::TicketTx& tx) -> absl::StatusOr<app::AgentState> {
                                    CRM_ASSIGN_OR_RETURN(auto c, tx.ClaimAgent("ann", false));
                                    if (!c) return absl::InternalError("ann not claimed");
                                    tx.RecordAssignment("ann", w.clock.Now());
                                    claimed.set_value();
                                    finish_f.wait();
                                    return probe(tx);
                                  })
            .ok();
  });
  claimed.get_future().wait();
  // Another write skips her, claims bob, gives him back and claims him again.
  std::string seen;
  auto second = repo.Run<app::AgentState>(
      w.Meta("Claim"), "claim/2", [&](app::TicketTx& tx) -> absl::StatusOr<app::AgentState> {
        seen.clear();
        CRM_ASSIGN_OR_RETURN(auto ann, tx.ClaimAgent("ann", false));
        seen += ann ? "ann " : "-ann ";
        CRM_ASSIGN_OR_RETURN(auto bob, tx.ClaimAgent("bob", false));
        seen += bob ? "bob " : "-bob ";
        tx.ReleaseClaim();
        CRM_ASSIGN_OR_RETURN(auto gone, tx.ClaimAgent("nobody", false));
        seen += gone ? "nobody " : "-nobody ";
        CRM_ASSIGN_OR_RETURN(auto again, tx.ClaimAgent("bob", false));
        seen += again ? "bob" : "-bob";
        tx.ReleaseClaim();
        return probe(tx);
      });
  REQUIRE(second.ok());
  CHECK(seen == "-ann bob -nobody bob");
  // A waiting claim of ann returns only once the first write has ended.
  std::atomic<bool> waited{false};
  std::thread third([&] {
    auto r = repo.Run<app::AgentState>(
        w.Meta("Claim"), "claim/3", [&](app::TicketTx& tx) -> absl::StatusOr<app::AgentState> {
          CRM_ASSIGN_OR_RETURN(auto c, tx.ClaimAgent("ann", true));
          waited = c.has_value() && c->first.last_assigned == w.clock.Now();
          tx.ReleaseClaim();
          return probe(tx);
        });
    if (!r.ok()) waited = false;
  });
  absl::SleepFor(absl::Milliseconds(300));
  CHECK_FALSE(waited.load());  // still held
  finish.set_value();
  first.join();
  third.join();
  CHECK(first_ok.load());
  CHECK(waited.load());  // then claimed, reading the first write's assignment
  CHECK(agents.Get(w.tenant, "bob")->agent.last_assigned == absl::InfinitePast());
}

TEST_CASE("triggers round-trip and run inside ticket writes on PostgreSQL",
          "[service_desk][pg][trigger]") {
  World w;
  app::TriggerRules triggers{*TheEnv().repo, w.clock};
  domain::Triggers in;
  domain::Trigger t;
  t.id = "urgent-card";
  t.name = "Urgent card trouble";
  t.events = {domain::TriggerEvent::kCreated, domain::TriggerEvent::kUpdated};
  t.conditions = {{"tags", "in", {"card"}}, {"priority", "changed_to", {"high"}}};
  t.action.priority = domain::Priority::kUrgent;
  t.action.queue = "escalations";
  t.action.add_tags = {"escalated"};
  t.action.remove_tags = {"billing"};
  t.note = "Escalated #{{ticket.number}} ({{agent}})";
  domain::Trigger off;
  off.id = "off";
  off.name = "Switched off";
  off.active = false;
  off.events = {domain::TriggerEvent::kAgentMessage};
  off.action.status = domain::TicketStatus::kOnHold;
  in.triggers = {t, off};
  auto stored = triggers.Update(w.Meta("UpdateTriggers"), in, "0");
  REQUIRE(stored.ok());
  auto read = triggers.Get(w.tenant);
  REQUIRE(read.ok());
  CHECK(read->version == 1);
  REQUIRE(read->triggers.size() == 2);
  CHECK(read->triggers[0].events == t.events);
  CHECK(read->triggers[0].conditions[1].op == "changed_to");
  CHECK(read->triggers[0].action.priority == domain::Priority::kUrgent);
  CHECK(read->triggers[0].action.remove_tags == std::vector<std::string>{"billing"});
  CHECK(read->triggers[0].note == t.note);
  CHECK_FALSE(read->triggers[1].active);
  CHECK(read->triggers[1].action.status == domain::TicketStatus::kOnHold);

  // World::Create makes a high-priority card ticket: the trigger fires.
  auto ticket = w.Create("Charged twice", "eve@example.com");
  REQUIRE(ticket.ok());
  CHECK(ticket->priority == domain::Priority::kUrgent);
  CHECK(ticket->queue == "escalations");
  CHECK(ticket->tags == std::vector<std::string>{"card", "escalated"});
  auto got = w.tickets.Get(w.tenant, ticket->id);
  REQUIRE(got.ok());
  CHECK(got->priority == domain::Priority::kUrgent);
  CHECK(got->message_count == 2);
  auto messages = w.tickets.Messages(w.tenant, ticket->id, "", 10);
  REQUIRE(messages.ok());
  REQUIRE(messages->items.size() == 2);
  CHECK(messages->items[1].author == "trigger/urgent-card");
  CHECK(messages->items[1].body ==
        "Escalated #" + std::to_string(ticket->number) + " (Urgent card trouble)");
  CHECK(w.Count("SELECT count(*) FROM service_desk.ticket_changes WHERE actor = "
                "'trigger/urgent-card'") == 3);  // priority, queue, tags
  // The dry run reads the stored triggers and writes nothing.
  auto dry = triggers.DryRun(w.tenant, std::nullopt, {ticket->id}, domain::TriggerEvent::kCreated);
  REQUIRE(dry.ok());
  CHECK(dry->at(0).run.fired.empty());  // already urgent: priority did not change to high
  CHECK(w.tickets.Get(w.tenant, ticket->id)->version == got->version);

  World other;
  app::TriggerRules theirs{*TheEnv().repo, other.clock};
  CHECK(theirs.Get(other.tenant)->triggers.empty());
  CHECK(ReasonOf(
            theirs.DryRun(other.tenant, std::nullopt, {ticket->id}, domain::TriggerEvent::kCreated)
                .status()) == "TICKET_NOT_FOUND");
  auto plain = other.Create("Charged twice", "eve@example.com");
  REQUIRE(plain.ok());
  CHECK(plain->priority == domain::Priority::kHigh);  // our triggers are not theirs
  CHECK(other.Count("SELECT count(*) FROM service_desk.triggers") == 0);
}

TEST_CASE("automations round-trip and the sweep fires them once on PostgreSQL",
          "[service_desk][pg][automation]") {
  World w;
  app::AutomationRules automations{*TheEnv().repo, w.tickets, w.clock};
  domain::Automation close;
  close.id = "close-waiting";
  close.name = "Close after two days waiting";
  close.since = domain::AutomationClock::kStatusChanged;
  close.hours = 48;
  close.conditions = {{"status", "in", {"pending_customer"}}};
  close.action.status = domain::TicketStatus::kSolved;
  domain::Automation remind;
  remind.id = "remind";
  remind.name = "Remind the team";
  remind.since = domain::AutomationClock::kCreated;
  remind.hours = 1;
  remind.conditions = {{"priority", "in", {"high"}}};
  remind.note = "#{{ticket.number}} is an hour old ({{agent}})";
  auto stored = automations.Update(w.Meta("UpdateAutomations"),
                                   {{close, remind}, 0, absl::InfinitePast()}, "0");
  REQUIRE(stored.ok());
  auto read = automations.Get(w.tenant);
  REQUIRE(read.ok());
  CHECK(read->version == 1);
  REQUIRE(read->automations.size() == 2);
  CHECK(read->automations[0].since == domain::AutomationClock::kStatusChanged);
  CHECK(read->automations[0].hours == 48);
  CHECK(read->automations[0].action.status == domain::TicketStatus::kSolved);
  CHECK(read->automations[1].note == remind.note);

  auto t = w.Create("Charged twice", "eve@example.com");  // high priority
  REQUIRE(t.ok());
  w.clock.Advance(absl::Minutes(1));
  domain::Ticket patch;
  patch.status = domain::TicketStatus::kPendingCustomer;
  auto pending = w.tickets.Update(w.Meta("UpdateTicket"), t->id, patch, {"status"}, "");
  REQUIRE(pending.ok());
  CHECK(pending->status_time == w.clock.Now());
  CHECK(w.tickets.Get(w.tenant, t->id)->status_time == pending->status_time);

  w.clock.Advance(absl::Hours(2));
  app::AutomationRound first = automations.Sweep(100);
  REQUIRE(first.failure.ok());
  CHECK(first.fired == 1);  // the reminder; not yet the close
  auto messages = w.tickets.Messages(w.tenant, t->id, "", 10);
  REQUIRE(messages.ok());
  REQUIRE(messages->items.size() == 2);
  CHECK(messages->items[1].author == "automation/remind");
  CHECK(messages->items[1].body ==
        "#" + std::to_string(t->number) + " is an hour old (Remind the team)");
  w.clock.Advance(absl::Hours(47));
  CHECK(automations.Sweep(100).fired == 1);  // the close
  auto solved = w.tickets.Get(w.tenant, t->id);
  REQUIRE(solved.ok());
  CHECK(solved->status == domain::TicketStatus::kSolved);
  CHECK(w.Count("SELECT count(*) FROM service_desk.ticket_changes WHERE actor = "
                "'automation/close-waiting' AND field = 'status'") == 1);
  CHECK(w.Count("SELECT count(*) FROM service_desk.automation_firings") == 2);
  CHECK(automations.Sweep(100).fired == 0);  // each once

  World other;
  app::AutomationRules theirs{*TheEnv().repo, other.tickets, other.clock};
  CHECK(theirs.Get(other.tenant)->automations.empty());
  CHECK(other.Count("SELECT count(*) FROM service_desk.automations") == 0);
  CHECK(other.Count("SELECT count(*) FROM service_desk.automation_firings") == 0);
}

TEST_CASE("articles keep their versions and search ranks articles and tickets on PostgreSQL",
          "[service_desk][pg][knowledge]") {
  World w;
  app::KnowledgeBase kb{*TheEnv().repo, w.clock, w.ids};
  domain::Article refunds;
  refunds.title = "How refunds work";
  refunds.body = "Refunds reach your card in 5 to 10 days. A refund of a double charge is sent "
                 "at once.";
  refunds.category = "billing";
  refunds.state = domain::ArticleState::kPublic;
  auto a = kb.Create(w.Meta("CreateArticle"), refunds);
  REQUIRE(a.ok());
  domain::Article shipping;
  shipping.title = "Shipping times";
  shipping.body = "Parcels ship in two days; tracking numbers come by mail.";
  shipping.state = domain::ArticleState::kInternal;
  REQUIRE(kb.Create(w.Meta("CreateArticle"), shipping).ok());
  domain::Article korean;
  korean.title = "카드 결제 취소";
  korean.body = "카드가 두 번 결제되었으면 환불됩니다.";
  korean.locale = "ko";
  korean.state = domain::ArticleState::kPublic;
  REQUIRE(kb.Create(w.Meta("CreateArticle"), korean).ok());
  w.clock.Advance(absl::Seconds(1));
  domain::Article edit = refunds;
  edit.body += " Ask your bank if it takes longer.";
  auto edited = kb.Update(w.Meta("UpdateArticle"), a->id, edit, "1");
  REQUIRE(edited.ok());
  auto versions = kb.Versions(w.tenant, a->id);
  REQUIRE(versions.ok());
  REQUIRE(versions->size() == 2);
  CHECK(versions->at(0).version == 2);
  CHECK(versions->at(1).body == refunds.body);
  auto read = kb.Get(w.tenant, a->id);
  REQUIRE(read.ok());
  CHECK(read->body == edit.body);
  CHECK(read->author == "agent-ann");

  // Tickets: World::Create's subject and first message, and a reply.
  auto t = w.Create("Charged twice", "eve@example.com");  // "Charged twice for order A-17."
  REQUIRE(t.ok());
  auto reply = w.tickets.AddMessage(w.Meta("AddTicketMessage"), t->id,
                                    domain::MessageKind::kPublicReply,
                                    "We sent the refund to your card today.");
  REQUIRE(reply.ok());
  auto other_ticket = w.Create("Where is my parcel", "bob@example.com");
  REQUIRE(other_ticket.ok());

  // Stemmed and by prefix, at once after the writes (no index lag).
  domain::SearchQuery q;
  q.text = "refunded cards";
  auto found = kb.Search(w.tenant, q);
  REQUIRE(found.ok());
  REQUIRE(found->articles.size() == 1);
  CHECK(found->articles[0].article.id == a->id);
  CHECK(found->articles[0].article.body.empty());
  CHECK(found->articles[0].score > 0);
  CHECK(found->articles[0].snippet.find("<b>") != std::string::npos);
  REQUIRE(found->tickets.size() == 1);
  CHECK(found->tickets[0].ticket_id == t->id);
  CHECK(found->tickets[0].number == t->number);
  CHECK(found->tickets[0].snippet.find("<b>refund</b>") != std::string::npos);
  q.text = "charg";  // a prefix: both first messages, and one subject, which weighs more
  found = kb.Search(w.tenant, q);
  REQUIRE(found.ok());
  REQUIRE(found->tickets.size() == 2);
  CHECK(found->tickets[0].subject == "Charged twice");
  CHECK(found->tickets[0].score > found->tickets[1].score);
  CHECK(found->articles.size() == 1);  // "charge"
  q.text = "카드";  // Korean: a word's prefix ("카드가")
  q.scope = domain::SearchScope::kArticles;
  found = kb.Search(w.tenant, q);
  REQUIRE(found.ok());
  REQUIRE(found->articles.size() == 1);
  CHECK(found->articles[0].article.locale == "ko");
  CHECK(found->tickets.empty());  // not searched
  q.text = "parcels";
  q.scope = domain::SearchScope::kAll;
  q.state = "public";
  found = kb.Search(w.tenant, q);
  REQUIRE(found.ok());
  CHECK(found->articles.empty());  // the shipping article is internal
  REQUIRE(found->tickets.size() == 1);
  CHECK(found->tickets[0].ticket_id == other_ticket->id);
  q.text = "the";  // a stop word only: nothing, no error
  q.state.clear();
  CHECK(kb.Search(w.tenant, q)->tickets.empty());
  q.text = "o'reilly & (x | y) :* !";  // operators in the text are words or nothing
  CHECK(kb.Search(w.tenant, q).ok());

  // Lists page by id.
  app::ArticleQuery page;
  page.limit = 2;
  auto first = kb.List(w.tenant, page);
  REQUIRE(first.ok());
  REQUIRE(first->items.size() == 2);
  page.after_id = first->next_after;
  CHECK(kb.List(w.tenant, page)->items.size() == 1);

  // Another tenant finds none of it.
  World other;
  app::KnowledgeBase theirs{*TheEnv().repo, other.clock, other.ids};
  q.text = "refund";
  auto none = theirs.Search(other.tenant, q);
  REQUIRE(none.ok());
  CHECK(none->articles.empty());
  CHECK(none->tickets.empty());
  CHECK(ReasonOf(theirs.Get(other.tenant, a->id).status()) == "ARTICLE_NOT_FOUND");
  CHECK(other.Count("SELECT count(*) FROM service_desk.article_versions") == 0);
  REQUIRE(kb.Delete(w.Meta("DeleteArticle"), a->id, "2").ok());
  CHECK(w.Count("SELECT count(*) FROM service_desk.article_versions WHERE article_id = '" +
                a->id + "'") == 0);
}

// service_desk.search_candidates (migration 014) answers the newest `lim`
// matches by (instant, id) whichever way it takes: the sample alone, the
// walk on, the GIN index, or the walk and then the index; compared with a
// plain query over every row for each kind, word and size, with groups of
// rows written in one instant. No tenant set or another tenant: no rows.
TEST_CASE("search candidates are the newest matches whichever way they are found",
          "[service_desk][pg][knowledge]") {
  World w;
  app::KnowledgeBase kb{*TheEnv().repo, w.clock, w.ids};
  constexpr int kRows = 40;
  // Oldest first; i = kRows - 1 is the newest. Words: every row, every
  // third, every tenth, one old row, and the 3 newest plus one old row.
  const auto text_of = [](int i) {
    std::string t = "alpha";
    if (i % 3 == 0) t += " beta";
    if (i % 10 == 0) t += " gamma";
    if (i == 2) t += " delta";
    if (i >= kRows - 3 || i == 5) t += " omega";
    return t;
  };
  for (int i = 0; i < kRows; ++i) {
    if (i % 4 == 0) w.clock.Advance(absl::Seconds(1));  // four rows an instant
    app::NewTicket n;
    n.ticket.subject = text_of(i);
    n.ticket.channel = domain::Channel::kWebForm;
    n.requester.email = absl::StrCat("c", i, "@example.com");
    n.description = text_of(i);
    REQUIRE(w.tickets.Create(w.Meta("CreateTicket"), n).ok());
    if (i % 2 == 0) {
      domain::Article a;
      a.title = text_of(i);
      a.body = "body";
      a.state = i % 4 == 0 ? domain::ArticleState::kPublic : domain::ArticleState::kDraft;
      REQUIRE(kb.Create(w.Meta("CreateArticle"), a).ok());
    }
  }
  struct Kind {
    std::string name, table, id, doc, at, filter;
  };
  const std::vector<Kind> kinds = {
      {"messages", "ticket_messages", "message_id", "search", "created_at", ""},
      {"subjects", "tickets", "ticket_id", "subject_search", "created_at", ""},
      {"articles", "articles", "article_id", "search", "updated_at", " AND state = 'public'"}};
  const auto ids = [&](const std::string& sql) {
    std::vector<std::string> out;
    REQUIRE(TheEnv()
                .pool
                ->WithTenantTx(w.tenant,
                               [&](pqxx::work& tx) {
                                 for (const auto& r : tx.exec(sql)) {
                                   out.push_back(r[0].as<std::string>());
                                 }
                                 return absl::OkStatus();
                               })
                .ok());
    return out;
  };
  int checked = 0;
  for (const Kind& k : kinds) {
    const std::string state = k.filter.empty() ? "" : "public";
    for (const std::string word : {"alpha", "beta", "gamma", "delta", "omega", "nothing"}) {
      for (const auto& [lim, sample, walk] :
           std::vector<std::tuple<int, int, int>>{{1, 1, 1},
                                                  {3, 3, 10},
                                                  {5, 3, 40},
                                                  {5, 4, 1000},
                                                  {10, 2, 5},
                                                  {10, 8, 30},
                                                  {50, 5, 20},
                                                  {50, 100, 100}}) {
        const std::string expected_sql = absl::StrCat(
            "SELECT ", k.id, "::text FROM service_desk.", k.table, " WHERE tenant_id = '", w.tenant,
            "'", k.filter, " AND ", k.doc, " @@ to_tsquery('english', '", word, "') ORDER BY ",
            k.at, " DESC, ", k.id, " DESC LIMIT ", lim);
        const std::string got_sql = absl::StrCat(
            "SELECT row_id::text FROM service_desk.search_candidates('", k.name,
            "', to_tsquery('english', '", word, "'), ", lim, ", ", sample, ", ", walk, ", '", state,
            "', '') c JOIN service_desk.", k.table, " x ON x.tenant_id = '", w.tenant, "' AND x.",
            k.id, " = c.row_id ORDER BY x.", k.at, " DESC, x.", k.id, " DESC");
        INFO(k.name << " " << word << " lim " << lim << " sample " << sample << " walk " << walk);
        CHECK(ids(got_sql) == ids(expected_sql));
        ++checked;
      }
    }
  }
  CHECK(checked == 3 * 6 * 8);
  CHECK(ids("SELECT count(*)::text FROM service_desk.search_candidates('subjects', "
            "to_tsquery('english', 'alpha'), 100, 10, 100, '', '')") ==
        std::vector<std::string>{"40"});

  // Another tenant, and no tenant at all, get nothing.
  World other;
  REQUIRE(TheEnv()
              .pool
              ->WithTenantTx(other.tenant,
                             [&](pqxx::work& tx) {
                               CHECK(tx.exec1("SELECT count(*) FROM "
                                              "service_desk.search_candidates('subjects', "
                                              "to_tsquery('english', 'alpha'), 100, 10, 100, "
                                              "'', '')")[0]
                                         .as<int64_t>() == 0);
                               tx.exec("SELECT set_config('app.tenant_id', '', true)");
                               CHECK(tx.exec1("SELECT count(*) FROM "
                                              "service_desk.search_candidates('messages', "
                                              "to_tsquery('english', 'alpha'), 100, 10, 100, "
                                              "'', '')")[0]
                                         .as<int64_t>() == 0);
                               return absl::OkStatus();
                             })
              .ok());
}

// Classifiers on PostgreSQL: trained from the tenant's solved tickets and
// from NDJSON examples, the model stored as bytes and loaded back for a
// new ticket, whose predictions are kept with it; the mode's change, the
// deletion, and another tenant seeing none of it.
TEST_CASE("classifiers train, predict for new tickets and keep their predictions on PostgreSQL",
          "[service_desk][pg][classifier]") {
  World w;
  app::Classifiers classifiers{*TheEnv().repo, w.clock};
  const std::vector<std::pair<std::string, std::vector<std::string>>> by_queue = {
      {"cards",
       {"my card has not arrived", "card delivery is late", "new card never came",
        "where is my card", "card still not here", "waiting for my card"}},
      {"refunds",
       {"I want a refund", "refund my order", "money back please", "the refund has not arrived",
        "return and refund", "give my money back"}}};
  // Solved tickets with a queue: what a classifier of the queue learns from.
  for (const auto& [queue, texts] : by_queue) {
    for (const std::string& text : texts) {
      app::NewTicket n;
      n.ticket.subject = text;
      n.ticket.queue = queue;
      n.ticket.channel = domain::Channel::kWebForm;
      n.requester.email = "eve@example.com";
      n.description = text + " since last week";
      auto t = w.tickets.Create(w.Meta("CreateTicket"), n);
      REQUIRE(t.ok());
      Ticket solve;
      solve.status = TicketStatus::kSolved;
      REQUIRE(w.tickets.Update(w.Meta("UpdateTicket"), t->id, solve, {"status"}, "").ok());
    }
  }
  app::TrainRequest train{"queue", "auto", 0.5, ""};
  auto queue = classifiers.Train(w.Meta("TrainClassifier"), train);
  REQUIRE(queue.ok());
  CHECK(queue->source == "tickets");
  CHECK(queue->report.examples == 12);
  CHECK(queue->report.labels == 2);
  CHECK(queue->version == 1);
  CHECK(queue->trained_by == "agent-ann");
  // Trained again: the next version.
  queue = classifiers.Train(w.Meta("TrainClassifier"), train);
  REQUIRE(queue.ok());
  CHECK(queue->version == 2);
  std::string ndjson;
  for (int round = 0; round < 2; ++round) {
    for (const auto& [label, texts] : by_queue) {
      for (const std::string& text : texts) {
        ndjson += absl::StrCat("{\"text\": \"", text, " ", round, "\", \"label\": \"",
                               label == "cards" ? "card_arrival" : "refund_request", "\"}\n");
      }
    }
  }
  auto intent = classifiers.Train(w.Meta("TrainClassifier"), {"intent", "", 0.5, ndjson});
  REQUIRE(intent.ok());
  CHECK(intent->source == "examples");
  CHECK(intent->report.examples == 24);
  auto read = classifiers.Get(w.tenant, "queue");
  REQUIRE(read.ok());
  CHECK(read->mode == domain::ClassifierMode::kAuto);
  CHECK(read->report.classes.size() == queue->report.classes.size());
  CHECK(read->report.threshold.threshold == queue->report.threshold.threshold);
  CHECK(read->train_time == queue->train_time);

  app::NewTicket n;
  n.ticket.subject = "Card";
  n.ticket.channel = domain::Channel::kWebForm;
  n.requester.email = "ada@example.com";
  n.description = "my new card has not arrived";
  auto t = w.tickets.Create(w.Meta("CreateTicket"), n);
  REQUIRE(t.ok());
  REQUIRE(t->predictions.size() == 2);
  CHECK(t->predictions[0].target == domain::ClassifierTarget::kIntent);  // by target name
  CHECK(t->predictions[0].label == "card_arrival");
  CHECK(t->predictions[1].label == "cards");
  CHECK(t->predictions[1].version == 2);
  CHECK(t->predictions[1].applied == t->predictions[1].answered);
  if (t->predictions[1].applied) CHECK(t->queue == "cards");
  auto got = w.tickets.Get(w.tenant, t->id);
  REQUIRE(got.ok());
  REQUIRE(got->predictions.size() == 2);
  CHECK(got->predictions[1].label == "cards");
  CHECK(got->predictions[1].confidence == t->predictions[1].confidence);
  CHECK(w.Count("SELECT count(*) FROM service_desk.ticket_predictions") == 2);
  // The drift alarm's counts: an agent moves the filled ticket later.
  const int64_t filled = t->predictions[1].applied ? 1 : 0;
  CHECK(classifiers.Get(w.tenant, "queue")->drift.applied == filled);
  w.clock.Advance(absl::Minutes(5));
  Ticket move;
  move.queue = "fraud";
  REQUIRE(w.tickets.Update(w.Meta("UpdateTicket"), t->id, move, {"queue"}, "").ok());
  auto drift = classifiers.Get(w.tenant, "queue");
  REQUIRE(drift.ok());
  CHECK(drift->drift.applied == filled);
  CHECK(drift->drift.corrected == filled);
  CHECK_FALSE(drift->drift.alarm);  // one answer is no evidence
  CHECK(classifiers.Get(w.tenant, "intent")->drift.applied == 0);

  auto suggest = classifiers.SetMode(w.Meta("UpdateClassifier"), "queue", "suggest");
  REQUIRE(suggest.ok());
  CHECK(suggest->version == 3);
  t = w.tickets.Create(w.Meta("CreateTicket"), n);
  REQUIRE(t.ok());
  CHECK(t->queue.empty());
  CHECK(t->predictions[1].version == 3);

  // Another tenant: none of it.
  World other;
  app::Classifiers theirs{*TheEnv().repo, other.clock};
  CHECK(theirs.List(other.tenant)->empty());
  CHECK(ReasonOf(theirs.Get(other.tenant, "queue").status()) == "CLASSIFIER_NOT_FOUND");
  CHECK(ReasonOf(theirs.Delete(other.Meta("DeleteClassifier"), "queue")) == "CLASSIFIER_NOT_FOUND");
  CHECK(ReasonOf(theirs.SetMode(other.Meta("UpdateClassifier"), "queue", "auto").status()) ==
        "CLASSIFIER_NOT_FOUND");
  CHECK(other.Count("SELECT count(*) FROM service_desk.ticket_predictions") == 0);
  auto theirs_ticket = other.Create("my card has not arrived", "bob@example.com");
  REQUIRE(theirs_ticket.ok());
  CHECK(theirs_ticket->predictions.empty());
  CHECK(ReasonOf(other.tickets.Get(other.tenant, t->id).status()) == "TICKET_NOT_FOUND");

  REQUIRE(classifiers.Delete(w.Meta("DeleteClassifier"), "queue").ok());
  CHECK(classifiers.List(w.tenant)->size() == 1);
  t = w.tickets.Create(w.Meta("CreateTicket"), n);
  REQUIRE(t.ok());
  CHECK(t->predictions.size() == 1);
}

// Auto-suggest on PostgreSQL: for a pasted question, the articles, macros
// and past answers (the last public reply of a ticket like it) any of its
// words match, best first; a ticket nobody answered gives no answer;
// another tenant gets nothing.
TEST_CASE("suggestions for a pasted question come from articles, macros and past answers",
          "[service_desk][pg][knowledge]") {
  World w;
  app::KnowledgeBase kb{*TheEnv().repo, w.clock, w.ids};
  app::Macros macros{*TheEnv().repo, w.tickets, w.clock, w.ids};
  domain::Article refunds;
  refunds.title = "When refunds arrive";
  refunds.body = "A refund reaches your card in 5 to 10 days.";
  refunds.state = domain::ArticleState::kInternal;
  auto article = kb.Create(w.Meta("CreateArticle"), refunds);
  REQUIRE(article.ok());
  domain::Article shipping;
  shipping.title = "Shipping";
  shipping.body = "Parcels ship in two days.";
  REQUIRE(kb.Create(w.Meta("CreateArticle"), shipping).ok());
  domain::Macro m;
  m.name = "Refund on its way";
  m.reply = "Your refund is on its way to your card.";
  auto macro = macros.Create(w.Meta("CreateMacro"), m);
  REQUIRE(macro.ok());
  domain::Macro other_macro;
  other_macro.name = "Parcel lost";
  other_macro.reply = "We are looking for your parcel.";
  REQUIRE(macros.Create(w.Meta("CreateMacro"), other_macro).ok());
  auto answered = w.Create("Refund late", "eve@example.com");  // "Charged twice for order A-17."
  REQUIRE(answered.ok());
  REQUIRE(w.tickets
              .AddMessage(w.Meta("AddTicketMessage"), answered->id,
                          domain::MessageKind::kPublicReply,
                          "Refunds take 5 days to reach your card; yours left today.")
              .ok());
  auto unanswered = w.Create("Refund missing", "bob@example.com");
  REQUIRE(unanswered.ok());

  domain::SuggestQuery q;
  q.text = "Hello, when will my refund arrive on my card? It has been a week.";
  auto got = kb.Suggest(w.tenant, q);
  REQUIRE(got.ok());
  REQUIRE(got->articles.size() == 1);
  CHECK(got->articles[0].article.id == article->id);  // internal: agents read it
  CHECK(got->articles[0].snippet.find("<b>") != std::string::npos);
  REQUIRE_FALSE(got->macros.empty());
  CHECK(got->macros[0].macro_id == macro->id);
  CHECK(got->macros[0].snippet.find("<b>") != std::string::npos);
  REQUIRE(got->answers.size() == 1);  // the unanswered ticket has no reply to offer
  CHECK(got->answers[0].ticket_id == answered->id);
  CHECK(got->answers[0].number == answered->number);
  CHECK(got->answers[0].answer == "Refunds take 5 days to reach your card; yours left today.");
  CHECK(got->answers[0].snippet.find("<b>") != std::string::npos);
  q.limit = 1;
  q.text = "parcel refund";
  got = kb.Suggest(w.tenant, q);
  REQUIRE(got.ok());
  CHECK(got->articles.size() == 1);
  CHECK(got->macros.size() == 1);
  q.text = "the";  // stop words only: nothing, no error
  got = kb.Suggest(w.tenant, q);
  REQUIRE(got.ok());
  CHECK(got->articles.empty());
  CHECK(got->answers.empty());

  World other;
  app::KnowledgeBase theirs{*TheEnv().repo, other.clock, other.ids};
  q.text = "refund card parcel";
  q.limit = 10;
  auto none = theirs.Suggest(other.tenant, q);
  REQUIRE(none.ok());
  CHECK(none->articles.empty());
  CHECK(none->macros.empty());
  CHECK(none->answers.empty());
}

TEST_CASE("macros round-trip and apply in one write on PostgreSQL", "[service_desk][pg][macro]") {
  World w;
  app::Macros macros{*TheEnv().repo, w.tickets, w.clock, w.ids};
  domain::Macro m;
  m.name = "Refund sent";
  m.reply = "Refund for #{{ticket.number}} sent to {{requester.email}}.";
  m.status = domain::TicketStatus::kSolved;
  m.priority = domain::Priority::kLow;
  m.queue = "refunds";
  m.add_tags = {"refunded"};
  m.remove_tags = {"card"};
  auto created = macros.Create(w.Meta("CreateMacro"), m);
  REQUIRE(created.ok());
  auto read = macros.Get(w.tenant, created->id);
  REQUIRE(read.ok());
  CHECK(read->name == "Refund sent");
  CHECK(read->status == domain::TicketStatus::kSolved);
  CHECK(read->priority == domain::Priority::kLow);
  CHECK(read->remove_tags == std::vector<std::string>{"card"});
  CHECK(read->create_time == w.clock.Now());

  auto t = w.Create("Charged twice", "ada@example.com");
  REQUIRE(t.ok());
  auto dry = macros.Apply(w.Meta("ApplyMacro"), t->id, created->id, true, "");
  REQUIRE(dry.ok());
  CHECK(dry->result.message.body ==
        absl::StrCat("Refund for #", t->number, " sent to ada@example.com."));
  CHECK(w.Count("SELECT count(*) FROM service_desk.ticket_messages") == 1);  // nothing written

  const std::string key = common::NewUuid();
  auto applied = macros.Apply(w.Meta("ApplyMacro", key), t->id, created->id, false, "1");
  REQUIRE(applied.ok());
  CHECK(applied->result.ticket.status == domain::TicketStatus::kSolved);
  CHECK(applied->result.ticket.queue == "refunds");
  CHECK(applied->result.ticket.tags == std::vector<std::string>{"billing", "refunded"});
  auto again = macros.Apply(w.Meta("ApplyMacro", key), t->id, created->id, false, "1");
  REQUIRE(again.ok());  // the retry answers the first; nothing twice
  CHECK(again->result.message.id == applied->result.message.id);
  CHECK(w.Count("SELECT count(*) FROM service_desk.ticket_messages") == 2);
  CHECK(w.Count("SELECT count(*) FROM service_desk.ticket_changes WHERE field = 'macro' AND "
                "new_value = 'Refund sent' AND actor = 'agent-ann'") == 1);
  auto back = w.tickets.Get(w.tenant, t->id);
  REQUIRE(back.ok());
  CHECK(back->status == domain::TicketStatus::kSolved);
  CHECK(back->priority == domain::Priority::kLow);

  World other;
  app::Macros theirs{*TheEnv().repo, other.tickets, other.clock, other.ids};
  CHECK(ReasonOf(theirs.Get(other.tenant, created->id).status()) == "MACRO_NOT_FOUND");
  CHECK(theirs.List(other.tenant)->empty());
  CHECK(other.Count("SELECT count(*) FROM service_desk.macros") == 0);
  REQUIRE(macros.Delete(w.Meta("DeleteMacro"), created->id, "1").ok());
  CHECK(macros.List(w.tenant)->empty());
}

TEST_CASE("the SLA report counts and ranks in one statement on PostgreSQL",
          "[service_desk][pg][sla_report]") {
  World w;
  app::Slas slas(*TheEnv().repo, w.clock);
  domain::SlaPolicySpec spec;
  spec.hours.always_open = true;
  spec.targets_by_priority["high"] = {absl::Hours(1), std::nullopt, std::nullopt, absl::Hours(4)};
  REQUIRE(slas.UpdatePolicy(w.Meta("UpdateSlaPolicy"), spec, "").ok());
  const absl::Time t0 = w.clock.Now();
  std::vector<std::string> ids;
  for (int i = 0; i < 4; ++i) {
    auto t = w.Create("Card declined " + std::to_string(i), "ada@example.com");
    REQUIRE(t.ok());
    ids.push_back(t->id);
  }
  // Replies after 10, 20, 30 minutes and 2 hours (a breach the reply tells).
  for (int i = 0; i < 4; ++i) {
    w.clock.Set(t0 + (i < 3 ? absl::Minutes(10 * (i + 1)) : absl::Hours(2)));
    REQUIRE(w.tickets
                .AddMessage(w.Meta("AddTicketMessage"), ids[static_cast<size_t>(i)],
                            MessageKind::kPublicReply, "Looking into it.")
                .ok());
  }
  Ticket solved;
  solved.status = domain::TicketStatus::kSolved;
  REQUIRE(w.tickets.Update(w.Meta("UpdateTicket"), ids[0], solved, {"status"}, "").ok());
  auto r = slas.Report(w.tenant, {t0 - absl::Minutes(1), t0 + absl::Minutes(1), ""});
  REQUIRE(r.ok());
  CHECK(r->tickets == 4);
  CHECK(r->under_sla == 4);
  CHECK(r->first_reply.done == 4);
  CHECK(r->first_reply.met == 3);
  CHECK(r->first_reply.breached == 1);
  CHECK(r->first_reply.met_percent == 75.0);
  CHECK(r->first_reply.p50 == absl::Minutes(20));  // nearest rank: the 2nd of 4
  CHECK(r->first_reply.p90 == absl::Hours(2));
  CHECK(r->resolution.done == 1);
  CHECK(r->resolution.p50 == absl::Hours(2));
  CHECK(slas.Report(w.tenant, {t0 - absl::Minutes(1), t0 + absl::Minutes(1), "other"})->tickets ==
        0);
  World other;
  CHECK(app::Slas(*TheEnv().repo, other.clock)
            .Report(other.tenant, {t0 - absl::Minutes(1), t0 + absl::Minutes(1), ""})
            ->tickets == 0);
}

int64_t DueMicros(World& w, const std::string& id) {
  return w.Count(
      absl::StrCat("SELECT coalesce((extract(epoch from next_due_at) * 1000000)::int8, "
                   "-1) FROM service_desk.ticket_slas WHERE ticket_id = '",
                   id, "'"));
}
int64_t Told(World& w, const std::string& type, const std::string& id) {
  return w.Count(absl::StrCat("SELECT count(*) FROM service_desk.outbox WHERE event_type = '", type,
                              "' AND payload->>'ticketId' = '", id, "'"));
}

TEST_CASE("stored SLA instants: the sweeper tells each notice once and skips held tickets",
          "[service_desk][pg][sla_sweep]") {
  World w;
  app::Slas slas(*TheEnv().repo, w.clock);
  domain::SlaPolicySpec spec;
  spec.hours.always_open = true;  // 24/7
  spec.targets_by_priority["high"] = {absl::Hours(1), std::nullopt, std::nullopt, std::nullopt};
  spec.warn_before = absl::Minutes(10);
  spec.escalations = {absl::Minutes(30)};
  REQUIRE(slas.UpdatePolicy(w.Meta("UpdateSlaPolicy"), spec, "").ok());
  const absl::Time t0 = w.clock.Now();
  auto a = w.Create("Card declined", "ada@example.com");
  auto b = w.Create("Refund missing", "bob@example.com");
  REQUIRE(a.ok());
  REQUIRE(b.ok());
  // Stored with the write: the warning instant (50 min).
  CHECK(DueMicros(w, a->id) == absl::ToUnixMicros(t0 + absl::Minutes(50)));
  CHECK(w.Count("SELECT count(*) FROM service_desk.ticket_slas WHERE policy_version = 1") == 2);
  CHECK(a->sla_due == t0 + absl::Minutes(50));
  // The work list: earliest SLA instant first, a page at a time; a ticket
  // with nothing due (another tenant's here) is not in it.
  app::TicketQuery q;
  q.by_sla_due = true;
  q.limit = 1;
  auto page = w.tickets.List(w.tenant, q);
  REQUIRE(page.ok());
  REQUIRE(page->items.size() == 1);
  CHECK(page->items[0].sla_due == t0 + absl::Minutes(50));
  q.before_cursor = page->next_cursor;
  auto second = w.tickets.List(w.tenant, q);
  REQUIRE(second.ok());
  REQUIRE(second->items.size() == 1);
  CHECK(second->items[0].id != page->items[0].id);
  CHECK(second->next_cursor.empty());

  // Ticket b is held by a write in flight while the sweeper runs: skipped,
  // then taken once it is free.
  w.clock.Set(t0 + absl::Minutes(50));
  absl::Notification locked, release;
  std::thread writer([&] {
    absl::Status s = TheEnv().pool->WithTenantTx(w.tenant, [&](pqxx::work& tx) {
      tx.exec_params(
          "SELECT 1 FROM service_desk.tickets WHERE tenant_id = $1 AND ticket_id = "
          "$2::uuid FOR UPDATE",
          w.tenant, b->id);
      locked.Notify();
      release.WaitForNotification();
      return absl::OkStatus();
    });
    CHECK(s.ok());
  });
  locked.WaitForNotification();
  const app::SweepRound first = slas.Sweep(500);
  release.Notify();
  writer.join();
  CHECK(first.failure.ok());
  CHECK(Told(w, "ticket.sla_warning", a->id) == 1);
  CHECK(Told(w, "ticket.sla_warning", b->id) == 0);
  CHECK(DueMicros(w, a->id) == absl::ToUnixMicros(t0 + absl::Hours(1)));
  CHECK(DueMicros(w, b->id) == absl::ToUnixMicros(t0 + absl::Minutes(50)));
  slas.Sweep(500);
  CHECK(Told(w, "ticket.sla_warning", b->id) == 1);

  // Two hours on: breached at 1 h, escalated at 1 h 30; told once each,
  // the breach with its own instant (not the sweep's).
  w.clock.Set(t0 + absl::Hours(2));
  slas.Sweep(500);
  slas.Sweep(500);
  CHECK(Told(w, "ticket.sla_breached", a->id) == 1);
  CHECK(Told(w, "ticket.sla_escalated", a->id) == 1);
  CHECK(Told(w, "ticket.sla_warning", a->id) == 1);
  CHECK(w.Count(absl::StrCat(
            "SELECT count(*) FROM service_desk.outbox WHERE event_type = 'ticket.sla_breached' "
            "AND payload->>'ticketId' = '",
            a->id,
            "' AND payload->>'metric' = 'first_reply' AND (payload->>'dueTime')::timestamptz = ",
            "'epoch'::timestamptz + ", absl::ToUnixMicros(t0 + absl::Hours(1)),
            " * interval '1 microsecond'")) == 1);
  CHECK(DueMicros(w, a->id) == -1);  // nothing more is due

  // A policy change (first reply 4 h): every ticket is evaluated again.
  spec.targets_by_priority["high"].first_reply = absl::Hours(4);
  REQUIRE(slas.UpdatePolicy(w.Meta("UpdateSlaPolicy"), spec, "").ok());
  for (int i = 0; i < 3; ++i) slas.Sweep(500);
  CHECK(w.Count("SELECT count(*) FROM service_desk.ticket_slas WHERE policy_version = 2") == 2);
  CHECK(w.Count("SELECT count(*) FROM service_desk.sla_rebases") == 0);
  CHECK(DueMicros(w, a->id) == absl::ToUnixMicros(t0 + absl::Minutes(230)));  // warned at 3 h 50
  CHECK(Told(w, "ticket.sla_breached", a->id) == 1);                          // told stays told

  // A ticket without a record (written before migration 003, or by a
  // replica of the previous version): the next pass gives it one.
  w.Count(absl::StrCat("WITH d AS (DELETE FROM service_desk.ticket_slas WHERE ticket_id = '", b->id,
                       "' RETURNING 1) SELECT count(*) FROM d"));
  REQUIRE(slas.UpdatePolicy(w.Meta("UpdateSlaPolicy"), spec, "").ok());
  for (int i = 0; i < 3; ++i) slas.Sweep(500);
  CHECK(w.Count("SELECT count(*) FROM service_desk.ticket_slas WHERE policy_version = 3") == 2);
  CHECK(DueMicros(w, b->id) == absl::ToUnixMicros(t0 + absl::Minutes(230)));
  CHECK(Told(w, "ticket.sla_breached", b->id) == 1);

  // Another tenant's tickets are not its to see.
  World other;
  other.clock.Set(w.clock.Now());
  CHECK(other.Count("SELECT count(*) FROM service_desk.ticket_slas") == 0);
}

TEST_CASE("routing rules round-trip and route new tickets on PostgreSQL",
          "[service_desk][pg][routing]") {
  World w;
  app::Routing routing{*TheEnv().repo, w.clock};
  CHECK(routing.Get(w.tenant)->version == 0);
  domain::RoutingRules rules;
  domain::RoutingRule billing;
  billing.name = "Billing";
  billing.conditions = {{"subject", "contains", {"charged", "refund"}},
                        {"requester_domain", "in", {"example.com"}}};
  billing.action.queue = "billing";
  billing.action.type = "incident";
  billing.action.priority = domain::Priority::kUrgent;
  billing.action.add_tags = {"money"};
  rules.rules = {billing};
  absl::StatusOr<domain::RoutingRules> saved =
      routing.Update(w.Meta("UpdateRoutingRules"), rules, "0");
  REQUIRE(saved.ok());
  absl::StatusOr<domain::RoutingRules> read = routing.Get(w.tenant);
  REQUIRE(read.ok());
  CHECK(read->version == 1);
  REQUIRE(read->rules.size() == 1);
  CHECK(read->rules[0].conditions[1].values == std::vector<std::string>{"example.com"});
  CHECK(read->rules[0].action.priority == domain::Priority::kUrgent);
  CHECK(read->update_time == saved->update_time);
  // A retry answers the first answer; a stale etag is refused.
  const std::string key = common::NewUuid();
  REQUIRE(routing.Update(w.Meta("UpdateRoutingRules", key), rules, "1").ok());
  CHECK(routing.Update(w.Meta("UpdateRoutingRules", key), rules, "1")->version == 2);
  CHECK(ReasonOf(routing.Update(w.Meta("UpdateRoutingRules"), rules, "1").status()) ==
        "ETAG_MISMATCH");

  // World::Create sets the queue and type itself (they stay) and a
  // priority without priority_given (as a request without one): the
  // rule's priority applies, its tag is added.
  absl::StatusOr<Ticket> t = w.Create("Charged twice", "ada@example.com");
  REQUIRE(t.ok());
  CHECK(t->queue == "payments");
  CHECK(t->type == "incident");
  CHECK(t->priority == domain::Priority::kUrgent);
  CHECK(t->tags == std::vector<std::string>{"billing", "card", "money"});
  absl::StatusOr<Ticket> back = w.tickets.Get(w.tenant, t->id);
  REQUIRE(back.ok());
  CHECK(back->priority == domain::Priority::kUrgent);
  CHECK(w.Count("SELECT count(*) FROM service_desk.ticket_changes WHERE field = 'routing_rule' "
                "AND new_value = 'Billing' AND actor = 'routing'") == 1);
  // Another tenant reads no rules and is not routed.
  World other;
  CHECK(app::Routing(*TheEnv().repo, other.clock).Get(other.tenant)->rules.empty());
  CHECK(other.Create("Charged twice", "ada@example.com")->priority == domain::Priority::kHigh);
}

// Inbound mail on PostgreSQL: raw mails parsed (GMime) and received.
struct MailWorld : World {
  app::Inbound inbound{*TheEnv().repo, tickets, clock, ids};
  app::Mailbox mailbox;

  app::Mailboxes mailboxes{*TheEnv().repo, clock, ids};

  MailWorld() {
    app::Mailbox m;
    m.address = absl::StrCat("Support-", common::NewUuid().substr(0, 8), "@Desk.Example");
    m.own.domains = {"desk.example"};
    absl::StatusOr<app::Mailbox> made = mailboxes.Create(Meta("CreateMailbox"), m);
    REQUIRE(made.ok());
    mailbox = *made;
  }
  absl::StatusOr<app::MailReceived> Receive(const std::string& raw) {
    absl::StatusOr<domain::InboundMail> m = mail::ParseMail(raw);
    if (!m.ok()) return m.status();
    return inbound.Receive(tenant, "mailbox:test", mailbox, *m);
  }
  std::string Raw(const std::string& id, const std::string& from, const std::string& subject,
                  const std::string& extra_headers, const std::string& body) {
    return absl::StrCat("From: ", from, "\r\nTo: ", mailbox.address, "\r\nSubject: ", subject,
                        "\r\n", id.empty() ? "" : absl::StrCat("Message-ID: <", id, ">\r\n"),
                        extra_headers, "Content-Type: text/plain; charset=utf-8\r\n\r\n", body,
                        "\r\n");
  }
};

TEST_CASE("inbound mail threads, dedups and stays in its tenant on PostgreSQL",
          "[service_desk][pg][inbound]") {
  MailWorld w;
  const std::string first = w.Raw("q1@example.com", "Ada <ada@example.com>", "Card charged twice",
                                  "Cc: Bob <bob@example.com>\r\n", "I see two charges.");
  absl::StatusOr<app::MailReceived> a = w.Receive(first);
  REQUIRE(a.ok());
  CHECK(a->created);
  CHECK(a->ticket.channel == domain::Channel::kEmail);
  CHECK(a->message.mail_id == "q1@example.com");
  const std::string ticket = a->ticket.id;
  absl::StatusOr<app::MailReceived> again = w.Receive(first);
  REQUIRE(again.ok());
  CHECK(again->duplicate);
  CHECK(again->ticket.id == ticket);
  CHECK(w.Count("SELECT count(*) FROM service_desk.tickets") == 1);
  CHECK(w.Count("SELECT count(*) FROM service_desk.ticket_messages") == 1);
  CHECK(w.Count("SELECT count(*) FROM service_desk.ticket_mails") == 1);
  CHECK(w.Count("SELECT count(*) FROM service_desk.ticket_participants") == 2);
  // A copy after the key expired (deleted as the purge does): answered from
  // the mailbox's record of the mail; nothing written.
  REQUIRE(TheEnv()
              .pool
              ->WithTenantTx(w.tenant,
                             [](pqxx::work& tx) {
                               tx.exec("DELETE FROM service_desk.idempotency_keys");
                               return absl::OkStatus();
                             })
              .ok());
  absl::StatusOr<app::MailReceived> late = w.Receive(first);
  REQUIRE(late.ok());
  CHECK(late->duplicate);
  CHECK(late->ticket.id == ticket);
  CHECK(late->message.id == a->message.id);
  CHECK(late->message.body == "I see two charges.");
  CHECK(w.Count("SELECT count(*) FROM service_desk.ticket_messages") == 1);

  // Copies arriving at once: one ticket.
  const std::string burst = w.Raw("b1@example.com", "cy@example.com", "Burst", "", "Once");
  std::vector<std::thread> threads;
  std::vector<absl::StatusOr<app::MailReceived>> got(4, absl::UnknownError("not run"));
  for (size_t i = 0; i < got.size(); ++i) {
    threads.emplace_back([&, i] { got[i] = w.Receive(burst); });
  }
  for (std::thread& t : threads) t.join();
  std::set<std::string> burst_tickets;
  for (const auto& r : got) {
    REQUIRE(r.ok());
    burst_tickets.insert(r->ticket.id);
  }
  CHECK(burst_tickets.size() == 1);
  CHECK(w.Count("SELECT count(*) FROM service_desk.tickets") == 2);

  // Our reply gets a Message-ID; a reply to it threads.
  absl::StatusOr<app::MessageAdded> reply =
      w.tickets.AddMessage(w.Meta("AddTicketMessage"), ticket, MessageKind::kPublicReply, "On it");
  REQUIRE(reply.ok());
  CHECK(reply->message.mail_id == reply->message.id + "@desk.example");
  absl::StatusOr<app::MailReceived> r =
      w.Receive(w.Raw("q2@example.com", "ada@example.com", "Re: Card charged twice",
                      absl::StrCat("In-Reply-To: <", reply->message.mail_id, ">\r\n"), "Thanks"));
  REQUIRE(r.ok());
  CHECK(r->ticket.id == ticket);
  CHECK(r->rule == "in_reply_to");
  absl::StatusOr<app::MessagePage> thread = w.tickets.Messages(w.tenant, ticket, "", 10);
  REQUIRE(thread.ok());
  std::set<std::string> mail_ids;
  for (const domain::TicketMessage& m : thread->items) mail_ids.insert(m.mail_id);
  CHECK(mail_ids ==
        std::set<std::string>{"q1@example.com", reply->message.mail_id, "q2@example.com"});

  // The subject's number: from a participant (the Cc), not from a stranger.
  const std::string numbered = domain::SubjectWithNumber("Card", a->ticket.number);
  r = w.Receive(w.Raw("q3@example.com", "bob@example.com", numbered, "", "Me too"));
  REQUIRE(r.ok());
  CHECK(r->rule == "subject_number");
  CHECK(r->ticket.id == ticket);
  r = w.Receive(w.Raw("q4@example.com", "eve@example.net", numbered, "", "Let me in"));
  REQUIRE(r.ok());
  CHECK(r->created);

  // An out-of-office: a note, the status kept.
  r = w.Receive(w.Raw("oof@example.com", "ada@example.com", "Automatic reply",
                      absl::StrCat("Auto-Submitted: auto-replied\r\nIn-Reply-To: <",
                                   reply->message.mail_id, ">\r\n"),
                      "Out until Monday"));
  REQUIRE(r.ok());
  CHECK(r->ticket.id == ticket);
  CHECK(r->machine == "auto_submitted");
  CHECK(r->message.kind == MessageKind::kInternalNote);

  // Another tenant: our mailbox is not found, its address not to be had,
  // the same mail is its own, and nothing of ours threads.
  MailWorld other;
  CHECK(ReasonOf(other.mailboxes.Get(other.tenant, w.mailbox.id).status()) == "MAILBOX_NOT_FOUND");
  CHECK(other.mailboxes.List(other.tenant)->size() == 1);
  app::Mailbox copy;
  copy.address = w.mailbox.address;
  CHECK(ReasonOf(other.mailboxes.Create(other.Meta("CreateMailbox"), copy).status()) ==
        "MAILBOX_ADDRESS_TAKEN");
  app::Mailbox patch;
  patch.same_subject_window = absl::Minutes(30);
  CHECK(other.mailboxes
            .Update(other.Meta("UpdateMailbox"), w.mailbox.id, patch,
                    {"same_subject_window_seconds"}, "")
            .status()
            .code() == absl::StatusCode::kNotFound);
  absl::StatusOr<app::Mailbox> changed = w.mailboxes.Update(
      w.Meta("UpdateMailbox"), w.mailbox.id, patch, {"same_subject_window_seconds"}, "1");
  REQUIRE(changed.ok());
  CHECK(changed->version == 2);
  CHECK(w.mailboxes.Get(w.tenant, w.mailbox.id)->same_subject_window == absl::Minutes(30));
  CHECK(w.mailboxes.Get(w.tenant, w.mailbox.id)->address == w.mailbox.address);
  absl::StatusOr<app::MailReceived> theirs =
      other.Receive(w.Raw("q1@example.com", "ada@example.com", numbered,
                          absl::StrCat("In-Reply-To: <", reply->message.mail_id, ">\r\n"),
                          absl::StrCat("> ", domain::TicketReference(ticket))));
  REQUIRE(theirs.ok());
  CHECK(theirs->created);
  CHECK_FALSE(theirs->duplicate);
  CHECK(theirs->ticket.id != ticket);
  CHECK(other.Count("SELECT count(*) FROM service_desk.tickets") == 1);
}

TEST_CASE("outbound mail: auto-replies once a day, replies threaded, bursts quarantined",
          "[service_desk][pg][outbound]") {
  MailWorld w;
  app::Mailbox on;
  on.name = "Example Support";
  on.auto_reply = true;
  on.auto_reply_body = "Hi {{requester.name}}: #{{ticket.number}}";
  absl::StatusOr<app::Mailbox> changed =
      w.mailboxes.Update(w.Meta("UpdateMailbox"), w.mailbox.id, on, {"name", "auto_reply"}, "1");
  REQUIRE(changed.ok());
  CHECK(changed->name == "Example Support");
  CHECK(changed->auto_reply);
  w.mailbox = *changed;
  CHECK(w.mailboxes.Get(w.tenant, w.mailbox.id)->auto_reply_body == on.auto_reply_body);

  absl::StatusOr<app::MailReceived> a = w.Receive(w.Raw(
      "o1@example.com", "Ada <ada@example.com>", "Parcel",
      "Reply-To: Ada Home <ada@home.example>\r\nReferences: <o0@example.com>\r\n", "Where is it?"));
  REQUIRE(a.ok());
  CHECK(a->auto_reply == "sent");
  CHECK(w.Count("SELECT count(*) FROM service_desk.outbound_mails WHERE kind = 'auto_reply'") == 1);
  CHECK(w.Count(absl::StrCat("SELECT count(*) FROM service_desk.outbox WHERE event_type = "
                             "'ticket.mail_queued' AND tenant_id = '",
                             w.tenant, "'")) == 1);
  const std::string auto_id = w.Text(
      "SELECT mail_id::text FROM "
      "service_desk.outbound_mails");
  absl::StatusOr<domain::OutboundMail> sent =
      TheEnv().repo->GetOutboundMail(w.tenant, a->ticket.id, auto_id);
  REQUIRE(sent.ok());
  CHECK(sent->kind == domain::OutboundKind::kAutoReply);
  CHECK(sent->to_addr == "ada@home.example");  // the Reply-To
  CHECK(sent->from_addr == w.mailbox.address);
  CHECK(sent->from_name == "Example Support");
  CHECK(sent->body.rfind(absl::StrCat("Hi Ada: #", a->ticket.number), 0) == 0);
  CHECK(sent->in_reply_to == "o1@example.com");
  CHECK(sent->references == std::vector<std::string>{"o0@example.com", "o1@example.com"});
  // Another tenant, or another ticket, does not read it.
  MailWorld other;
  CHECK(ReasonOf(TheEnv().repo->GetOutboundMail(other.tenant, a->ticket.id, auto_id).status()) ==
        "OUTBOUND_MAIL_NOT_FOUND");
  CHECK(TheEnv().repo->GetOutboundMail(w.tenant, common::NewUuid(), auto_id).status().code() ==
        absl::StatusCode::kNotFound);

  // The same sender again the same day: a ticket, no answer.
  absl::StatusOr<app::MailReceived> b =
      w.Receive(w.Raw("o2@example.com", "ada@home.example", "Other matter", "", "And this?"));
  REQUIRE(b.ok());
  CHECK(b->created);
  CHECK(b->auto_reply == "answered_recently");

  // An agent's public reply: to the last person's Reply-To, threaded.
  absl::StatusOr<app::MessageAdded> reply = w.tickets.AddMessage(
      w.Meta("AddTicketMessage"), a->ticket.id, MessageKind::kPublicReply, "Found it.");
  REQUIRE(reply.ok());
  std::string reply_id;
  REQUIRE(TheEnv()
              .pool
              ->WithTenantTx(w.tenant,
                             [&](pqxx::work& tx) {
                               reply_id = tx.exec1(
                                                "SELECT mail_id::text FROM "
                                                "service_desk.outbound_mails WHERE kind = "
                                                "'reply'")[0]
                                              .as<std::string>();
                               return absl::OkStatus();
                             })
              .ok());
  absl::StatusOr<domain::OutboundMail> r =
      TheEnv().repo->GetOutboundMail(w.tenant, a->ticket.id, reply_id);
  REQUIRE(r.ok());
  CHECK(r->ticket_message_id == reply->message.id);
  CHECK(r->message_id == reply->message.mail_id);
  CHECK(r->to_addr == "ada@home.example");
  CHECK(r->in_reply_to == "o1@example.com");
  // The thread: the received mail and our auto-reply, oldest first.
  REQUIRE(r->references.size() == 2);
  CHECK(r->references[0] == "o1@example.com");
  CHECK(r->references[1] == sent->message_id);
  CHECK(r->subject == absl::StrCat("Re: Parcel [#", a->ticket.number, "]"));

  // A burst: the 16th mail with one subject in a minute quarantines.
  std::string last_ticket;
  for (int i = 0; i < 16; ++i) {
    w.clock.Advance(absl::Milliseconds(10));  // one after the other, within the minute
    absl::StatusOr<app::MailReceived> m = w.Receive(
        w.Raw(absl::StrCat("burst", i, "@loop.example"), "bot@loop.example", "Loop", "", "x"));
    REQUIRE(m.ok());
    CHECK(m->quarantined == (i == 15));
    last_ticket = m->ticket.id;
  }
  absl::StatusOr<app::MailReceived> q =
      w.Receive(w.Raw("after@loop.example", "bot@loop.example", "Something else", "", "y"));
  REQUIRE(q.ok());
  CHECK(q->quarantined);
  CHECK_FALSE(q->created);
  CHECK(q->rule == "quarantine");
  CHECK(q->ticket.id == last_ticket);
  CHECK(q->message.kind == MessageKind::kInternalNote);
  CHECK(w.Count("SELECT count(*) FROM service_desk.mail_quarantine") == 1);
  CHECK(other.Count("SELECT count(*) FROM service_desk.mail_quarantine") == 0);
  // One auto-reply to the bot (its first mail), none after.
  CHECK(w.Count("SELECT count(*) FROM service_desk.outbound_mails WHERE to_addr = "
                "'bot@loop.example'") == 1);
}

TEST_CASE("auto-response: a label is one macro's, a question answered by it, the report",
          "[service_desk][pg][auto_response]") {
  MailWorld w;
  app::Classifiers classifiers{*TheEnv().repo, w.clock};
  app::Macros macros{*TheEnv().repo, w.tickets, w.clock, w.ids};
  REQUIRE(
      classifiers.Train(w.Meta("TrainClassifier"), {"intent", "", 0.5, testing::IntentExamples()})
          .ok());
  domain::Macro m;
  m.name = "Lost card";
  m.reply = "We have blocked the card ({{ticket.number}}).";
  m.status = TicketStatus::kSolved;
  m.intents = {"lost_card", "stolen_card"};
  m.auto_respond = true;
  absl::StatusOr<domain::Macro> bound = macros.Create(w.Meta("CreateMacro"), m);
  REQUIRE(bound.ok());
  CHECK(w.Count("SELECT count(*) FROM service_desk.macro_intents") == 2);
  // Two writes binding one label at once: one of them binds it.
  domain::Macro rival;
  rival.name = "Refunds";
  rival.reply = "Refunds take five days.";
  rival.intents = {"refund"};
  std::vector<std::future<absl::StatusOr<domain::Macro>>> racing;
  for (int i = 0; i < 2; ++i) {
    racing.push_back(std::async(std::launch::async, [&, i] {
      domain::Macro x = rival;
      x.name = absl::StrCat("Refunds ", i);
      return macros.Create(w.Meta("CreateMacro"), x);
    }));
  }
  int won = 0;
  for (auto& f : racing) {
    absl::StatusOr<domain::Macro> r = f.get();
    if (r.ok()) {
      ++won;
    } else {
      CHECK(ReasonOf(r.status()) == "INTENT_BOUND");
    }
  }
  CHECK(won == 1);
  CHECK(w.Count("SELECT count(*) FROM service_desk.macro_intents WHERE label = 'refund'") == 1);
  // Read back with its intents; an update rebinds; another tenant binds its own.
  absl::StatusOr<domain::Macro> read = macros.Get(w.tenant, bound->id);
  REQUIRE(read.ok());
  CHECK(read->intents == m.intents);
  CHECK(read->auto_respond);
  m.intents = {"lost_card"};
  REQUIRE(macros.Update(w.Meta("UpdateMacro"), bound->id, m, "1").ok());
  CHECK(w.Count("SELECT count(*) FROM service_desk.macro_intents WHERE label = 'stolen_card'") ==
        0);
  World other;
  app::Macros other_macros{*TheEnv().repo, other.tickets, other.clock, other.ids};
  CHECK(other_macros.Create(other.Meta("CreateMacro"), m).ok());

  absl::StatusOr<app::MailReceived> q = w.Receive(
      w.Raw("ar1@example.com", "Ada <ada@example.com>", "Card", "", "I lost my card yesterday"));
  REQUIRE(q.ok());
  CHECK(q->auto_response == "sent");
  CHECK(q->auto_reply == "auto_response");
  CHECK(q->ticket.status == TicketStatus::kSolved);
  CHECK(w.Count("SELECT count(*) FROM service_desk.outbound_mails WHERE kind = "
                "'auto_response'") == 1);
  CHECK(w.Count("SELECT count(*) FROM service_desk.ticket_messages WHERE kind = 'public_reply' "
                "AND author = 'auto-response'") == 1);
  // Its copy answers the same, from the stored answer.
  absl::StatusOr<app::MailReceived> copy = w.Receive(
      w.Raw("ar1@example.com", "Ada <ada@example.com>", "Card", "", "I lost my card yesterday"));
  REQUIRE(copy.ok());
  CHECK(copy->duplicate);
  CHECK(copy->auto_response == "sent");
  const std::string mail_id = w.Text(
      "SELECT mail_id::text FROM "
      "service_desk.outbound_mails");
  absl::StatusOr<domain::OutboundMail> sent =
      TheEnv().repo->GetOutboundMail(w.tenant, q->ticket.id, mail_id);
  REQUIRE(sent.ok());
  CHECK(sent->kind == domain::OutboundKind::kAutoResponse);
  CHECK(sent->in_reply_to == "ar1@example.com");
  // The customer writes again later; a question of an unbound label.
  w.clock.Advance(absl::Minutes(3));
  absl::StatusOr<app::MailReceived> again = w.Receive(
      w.Raw("ar2@example.com", "Ada <ada@example.com>", "Re: Card",
            absl::StrCat("In-Reply-To: <", sent->message_id, ">\r\n"), "Thanks, but why?"));
  REQUIRE(again.ok());
  CHECK(again->ticket.id == q->ticket.id);
  absl::StatusOr<app::MailReceived> refund =
      w.Receive(w.Raw("ar3@example.com", "Bob <bob@example.com>", "Money", "", "refund my order"));
  REQUIRE(refund.ok());
  CHECK(refund->auto_response == "no_macro");  // its macro does not auto-respond

  w.clock.Advance(absl::Minutes(1));
  absl::StatusOr<domain::AutoResponseReport> report = classifiers.AutoResponseReport(w.tenant, 1);
  REQUIRE(report.ok());
  CHECK(report->total.questions == 2);
  CHECK(report->total.auto_responded == 1);
  CHECK(report->total.wrote_again == 1);
  CHECK(report->coverage == Approx(0.5));
  REQUIRE(report->labels.size() == 2);
  CHECK(report->held_out_coverage > 0);
  for (const domain::AutoResponseCounts& c : report->labels) {
    CHECK(c.auto_responded == (c.label == "lost_card" ? 1 : 0));
  }
  // Another tenant counts none of it.
  absl::StatusOr<domain::AutoResponseReport> none =
      classifiers.AutoResponseReport(other.tenant, 30);
  REQUIRE(none.ok());
  CHECK(none->total.questions == 0);

  // The survey report puts the auto-answered ticket's rating apart from
  // the agents' (the two surveys written as the sweeper and a link would).
  REQUIRE(TheEnv()
              .pool
              ->WithTenantTx(w.tenant,
                             [&](pqxx::work& tx) {
                               for (const auto& [ticket, rating] :
                                    {std::pair{q->ticket, 5}, std::pair{refund->ticket, 2}}) {
                                 tx.exec_params(
                                     "INSERT INTO service_desk.surveys (tenant_id, survey_id, "
                                     "ticket_id, customer_id, kind, state, due_at, sent_at, "
                                     "answered_at, rating) VALUES ($1, gen_random_uuid(), $2, $3, "
                                     "'csat', 'answered', now(), now(), now(), $4)",
                                     w.tenant, ticket.id, ticket.customer_id, rating);
                               }
                               return absl::OkStatus();
                             })
              .ok());
  const std::string key = common::TrackingKey("test-context-key-0123456789abcdef0123456789");
  app::Surveys surveys{*TheEnv().repo, w.tickets, w.clock, w.ids, key, "https://crm.example.com"};
  w.clock.Set(absl::Now() + absl::Minutes(1));  // the rows were sent now
  absl::StatusOr<domain::SurveyReport> rated = surveys.Report(w.tenant, 1);
  REQUIRE(rated.ok());
  REQUIRE(rated->by_answered_by.size() == 2);
  for (const domain::SurveyFigures& f : rated->by_answered_by) {
    INFO(f.counts.value);
    CHECK(f.average == Approx(f.counts.value == "auto_response" ? 5.0 : 2.0));
  }
}

// Satisfaction surveys on PostgreSQL: settings under their etag; a solve
// schedules (once per ticket); the sweeper, reading every tenant's due
// surveys, sends one with its signed link from the tenant's mailbox; the
// link answers once; the report's grouping sets; another tenant's survey
// and settings are not this one's.
TEST_CASE("surveys: scheduled at the solve, sent when due, answered once, reported",
          "[service_desk][pg][survey]") {
  MailWorld w;  // the tenant has a mailbox
  const std::string key = common::TrackingKey("test-context-key-0123456789abcdef0123456789");
  app::Surveys surveys{*TheEnv().repo, w.tickets, w.clock, w.ids, key, "https://crm.example.com"};
  domain::SurveySettings settings;
  settings.csat_enabled = true;
  settings.csat_delay = absl::Minutes(10);
  settings.cooldown_days = 7;
  auto saved = surveys.UpdateSettings(w.Meta("UpdateSurveySettings"), settings, "0");
  REQUIRE(saved.ok());
  CHECK(saved->version == 1);
  CHECK(ReasonOf(surveys.UpdateSettings(w.Meta("UpdateSurveySettings"), settings, "0").status()) ==
        "ETAG_MISMATCH");
  auto read = surveys.GetSettings(w.tenant);
  REQUIRE(read.ok());
  CHECK(read->csat_delay == absl::Minutes(10));
  CHECK(read->cooldown_days == 7);

  auto t = w.Create("Parcel missing", "ada@example.com");
  REQUIRE(t.ok());
  Ticket solve;
  solve.status = TicketStatus::kSolved;
  REQUIRE(w.tickets.Update(w.Meta("UpdateTicket"), t->id, solve, {"status"}, "").ok());
  CHECK(w.Count("SELECT count(*) FROM service_desk.surveys WHERE state = 'scheduled'") == 1);
  // Reopened and solved again later: still one survey, due from the new solve.
  Ticket open;
  open.status = TicketStatus::kOpen;
  w.clock.Advance(absl::Minutes(5));
  REQUIRE(w.tickets.Update(w.Meta("UpdateTicket"), t->id, open, {"status"}, "").ok());
  REQUIRE(w.tickets.Update(w.Meta("UpdateTicket"), t->id, solve, {"status"}, "").ok());
  CHECK(w.Count("SELECT count(*) FROM service_desk.surveys") == 1);
  w.clock.Advance(absl::Minutes(6));
  CHECK(surveys.Sweep(100).sent == 0);  // due 10 minutes after the second solve
  w.clock.Advance(absl::Minutes(5));
  app::SurveyRound round = surveys.Sweep(100);
  REQUIRE(round.failure.ok());
  CHECK(round.sent == 1);
  CHECK(surveys.Sweep(100).sent == 0);
  CHECK(w.Count("SELECT count(*) FROM service_desk.outbound_mails WHERE kind = 'survey'") == 1);
  CHECK(w.Count("SELECT count(*) FROM service_desk.surveys WHERE state = 'sent' AND expires_at > "
                "sent_at AND agent = '' AND channel = 'web_form'") == 1);
  const std::string body = w.Text(
      "SELECT body FROM service_desk.outbound_mails "
      "WHERE kind = 'survey'");
  const size_t at = body.find("https://crm.example.com/t/v/");
  REQUIRE(at != std::string::npos);
  const size_t start = at + std::string("https://crm.example.com/t/v/").size();
  const std::string token = body.substr(start, body.find_first_of(" \n", start) - start);

  MailWorld other;
  CHECK(ReasonOf(surveys.Answer(other.tenant, token, 5, "", "").status()) ==
        "TRACKING_LINK_INVALID");
  auto answered = surveys.Answer(w.tenant, token, 2, "slow", "Took long");
  REQUIRE(answered.ok());
  CHECK(surveys.Answer(w.tenant, token, 2, "slow", "Took long").ok());
  CHECK(ReasonOf(surveys.Answer(w.tenant, token, 5, "", "").status()) == "SURVEY_ANSWERED");
  CHECK(w.Count("SELECT count(*) FROM service_desk.surveys WHERE rating = 2 AND reason = 'slow' "
                "AND answered_at IS NOT NULL") == 1);
  CHECK(w.Count(absl::StrCat("SELECT count(*) FROM service_desk.outbox WHERE event_type = "
                             "'ticket.survey_answered' AND tenant_id = '",
                             w.tenant, "'")) == 1);
  // The same customer's next solve falls in the cooldown: cancelled when due.
  auto second = w.Create("Invoice", "ada@example.com");
  REQUIRE(second.ok());
  REQUIRE(w.tickets.Update(w.Meta("UpdateTicket"), second->id, solve, {"status"}, "").ok());
  w.clock.Advance(absl::Minutes(11));
  round = surveys.Sweep(100);
  CHECK(round.cancelled == 1);
  CHECK(w.Count("SELECT count(*) FROM service_desk.surveys WHERE cancel_reason = 'cooldown'") == 1);

  auto report = surveys.Report(w.tenant, 1);
  REQUIRE(report.ok());
  CHECK(report->total.counts.sent == 1);
  CHECK(report->total.counts.answered == 1);
  CHECK(report->total.counts.satisfied == 0);
  CHECK(report->total.average == Approx(2.0));
  REQUIRE(report->by_channel.size() == 1);
  CHECK(report->by_channel[0].counts.value == "web_form");
  REQUIRE(report->by_agent.size() == 1);
  CHECK(report->by_agent[0].counts.value.empty());
  REQUIRE(report->by_intent.size() == 1);  // no intent classifier: ""
  REQUIRE(report->by_answered_by.size() == 1);
  CHECK(report->by_answered_by[0].counts.value == "agent");
  CHECK(surveys.Report(other.tenant, 1)->total.counts.sent == 0);
  CHECK_FALSE(surveys.GetSettings(other.tenant)->csat_enabled);
}

TEST_CASE("attachments: stored once by hash, put on a message, read only in the tenant",
          "[service_desk][pg][attachments]") {
  MailWorld w;
  absl::StatusOr<Ticket> t = w.Create("Broken screen", "ada@example.com");
  REQUIRE(t.ok());
  absl::StatusOr<Ticket> t2 = w.Create("Another", "ada@example.com");
  REQUIRE(t2.ok());
  const std::string photo = std::string("\x89PNG\r\n\x1a\n", 8) + std::string(4096, '\0') + "end";
  domain::Attachment a;
  a.filename = "screen.png";
  a.content_type = "image/png";
  auto up = w.tickets.Upload(w.Meta("UploadAttachment", ""), t->id, a, photo);
  INFO(up.status().ToString());
  REQUIRE(up.ok());
  CHECK(up->size == static_cast<int64_t>(photo.size()));
  CHECK(up->message_id.empty());
  // The same bytes and name again: the same upload; on another ticket: a
  // row of its own, the bytes kept once.
  auto again = w.tickets.Upload(w.Meta("UploadAttachment", ""), t->id, a, photo);
  REQUIRE(again.ok());
  CHECK(again->id == up->id);
  auto other_ticket = w.tickets.Upload(w.Meta("UploadAttachment", ""), t2->id, a, photo);
  REQUIRE(other_ticket.ok());
  CHECK(w.Count("SELECT count(*) FROM service_desk.attachment_contents") == 1);
  CHECK(w.Count("SELECT count(*) FROM service_desk.attachments") == 2);

  // On a note; not twice; not another ticket's.
  auto added = w.tickets.AddMessage(w.Meta("AddTicketMessage"), t->id,
                                    domain::MessageKind::kInternalNote, "Photo attached", {up->id});
  INFO(added.status().ToString());
  REQUIRE(added.ok());
  REQUIRE(added->message.attachments.size() == 1);
  CHECK(added->message.attachments[0].message_id == added->message.id);
  auto twice = w.tickets.AddMessage(w.Meta("AddTicketMessage"), t->id,
                                    domain::MessageKind::kInternalNote, "Again", {up->id});
  CHECK(common::ReasonOf(twice.status()) == "ATTACHMENT_NOT_FOUND");
  auto foreign = w.tickets.AddMessage(w.Meta("AddTicketMessage"), t->id,
                                      domain::MessageKind::kInternalNote, "x", {other_ticket->id});
  CHECK(common::ReasonOf(foreign.status()) == "ATTACHMENT_NOT_FOUND");
  CHECK(w.Count(absl::StrCat("SELECT count(*) FROM service_desk.ticket_messages WHERE ticket_id "
                             "= '",
                             t->id, "'")) == 2);  // the refused ones wrote nothing
  auto page = w.tickets.Messages(w.tenant, t->id, "", 10);
  REQUIRE(page.ok());
  REQUIRE(page->items.size() == 2);
  // (The clock stands still: the two messages share their instant.)
  for (const domain::TicketMessage& m : page->items) {
    INFO(m.id);
    if (m.id != added->message.id) {
      CHECK(m.attachments.empty());
      continue;
    }
    REQUIRE(m.attachments.size() == 1);
    CHECK(m.attachments[0].filename == "screen.png");
  }
  auto content = w.tickets.AttachmentContent(w.tenant, t->id, up->id);
  REQUIRE(content.ok());
  CHECK(content->second == photo);
  CHECK(content->first.content_type == "image/png");
  // Only through its ticket, only in its tenant.
  CHECK(common::ReasonOf(w.tickets.AttachmentContent(w.tenant, t2->id, up->id).status()) ==
        "ATTACHMENT_NOT_FOUND");
  World stranger;
  CHECK(common::ReasonOf(
            stranger.tickets.AttachmentContent(stranger.tenant, t->id, up->id).status()) ==
        "ATTACHMENT_NOT_FOUND");
  CHECK(stranger.Count("SELECT count(*) FROM service_desk.attachment_contents") == 0);

  // A mail's parts are kept with its message.
  const std::string mail = absl::StrCat(
      "From: Bob <bob@example.com>\r\nTo: ", w.mailbox.address,
      "\r\nSubject: Invoice\r\nMessage-ID: <att-1@example.com>\r\nMIME-Version: 1.0\r\n"
      "Content-Type: multipart/mixed; boundary=\"b1\"\r\n\r\n--b1\r\nContent-Type: "
      "text/plain\r\n\r\n"
      "See the invoice.\r\n--b1\r\nContent-Type: application/pdf; name=\"in/voice.pdf\"\r\n"
      "Content-Disposition: attachment; filename=\"in/voice.pdf\"\r\n"
      "Content-Transfer-Encoding: base64\r\n\r\nJVBERi0xLjQK\r\n--b1--\r\n");
  auto received = w.Receive(mail);
  INFO(received.status().ToString());
  REQUIRE(received.ok());
  REQUIRE(received->message.attachments.size() == 1);
  const domain::Attachment& pdf = received->message.attachments[0];
  CHECK(pdf.filename == "in_voice.pdf");
  CHECK(pdf.content_type == "application/pdf");
  CHECK(pdf.uploaded_by == "mail");
  auto pdf_bytes = w.tickets.AttachmentContent(w.tenant, received->ticket.id, pdf.id);
  REQUIRE(pdf_bytes.ok());
  CHECK(pdf_bytes->second == "%PDF-1.4\n");
}

TEST_CASE("merge and split move threads, files and mail on PostgreSQL",
          "[service_desk][pg][merge]") {
  MailWorld w;
  absl::StatusOr<app::MailReceived> mail =
      w.Receive(w.Raw("m1@example.com", "Ada <ada@example.com>", "Card charged twice",
                      "Cc: Bob <bob@example.com>\r\n", "I see two charges."));
  REQUIRE(mail.ok());
  const Ticket source = mail->ticket;
  absl::StatusOr<Ticket> target = w.Create("Charged twice (phone)", "ada@example.com");
  REQUIRE(target.ok());
  w.clock.Advance(absl::Seconds(1));
  absl::StatusOr<app::MessageAdded> reply = w.tickets.AddMessage(
      w.Meta("AddTicketMessage"), source.id, MessageKind::kPublicReply, "On it");
  REQUIRE(reply.ok());
  domain::Attachment a;
  a.filename = "receipt.pdf";
  auto up = w.tickets.Upload(w.Meta("UploadAttachment", ""), source.id, a, "%PDF-1.4\n");
  REQUIRE(up.ok());
  w.clock.Advance(absl::Seconds(1));

  const auto of = [&](const std::string& table, const std::string& ticket) {
    return w.Count(absl::StrCat("SELECT count(*) FROM service_desk.", table, " WHERE ticket_id = '",
                                ticket, "'"));
  };
  absl::StatusOr<Ticket> merged = w.tickets.Merge(w.Meta("MergeTicket"), source.id, target->id);
  INFO(merged.status().ToString());
  REQUIRE(merged.ok());
  CHECK(merged->message_count == 1 + 2 + 1);
  CHECK(of("ticket_messages", source.id) == 1);  // its note
  CHECK(of("ticket_messages", target->id) == 4);
  CHECK(of("attachments", target->id) == 1);
  CHECK(of("ticket_mails", source.id) == 0);
  CHECK(of("ticket_mails", target->id) == 2);  // Ada's mail and our reply
  CHECK(*TheEnv().repo->IsParticipant(w.tenant, target->id, "bob@example.com"));
  absl::StatusOr<Ticket> closed = w.tickets.Get(w.tenant, source.id);
  REQUIRE(closed.ok());
  CHECK(closed->status == TicketStatus::kClosed);
  CHECK(closed->merged_into == target->id);
  CHECK(closed->message_count == 1);
  CHECK(closed->sla_due == std::nullopt);
  CHECK(w.Text(absl::StrCat("SELECT string_agg(field, ',' ORDER BY seq) FROM "
                            "service_desk.ticket_changes WHERE ticket_id = '",
                            source.id, "'")) ==
        "status,status,merged_into");  // the reply opened it
  CHECK(w.Count(absl::StrCat("SELECT count(*) FROM service_desk.outbox WHERE event_type = "
                             "'ticket.status_changed' AND payload->>'ticketId' = '",
                             source.id, "' AND payload->>'status' = 'closed'")) == 1);
  CHECK(w.tickets.AttachmentContent(w.tenant, target->id, up->id)->second == "%PDF-1.4\n");

  // The merged ticket's mail threads into the target: a reply to our
  // reply, a participant naming its number, its hidden reference.
  absl::StatusOr<app::MailReceived> r =
      w.Receive(w.Raw("m2@example.com", "ada@example.com", "Re: Card charged twice",
                      absl::StrCat("In-Reply-To: <", reply->message.mail_id, ">\r\n"), "Thanks"));
  REQUIRE(r.ok());
  CHECK(r->ticket.id == target->id);
  CHECK(r->rule == "in_reply_to");
  r = w.Receive(w.Raw("m3@example.com", "bob@example.com",
                      domain::SubjectWithNumber("Card", source.number), "", "Me too"));
  REQUIRE(r.ok());
  CHECK(r->ticket.id == target->id);
  CHECK(r->rule == "subject_number");
  r = w.Receive(w.Raw("m4@example.com", "carl@example.com", "Forwarded", "",
                      absl::StrCat("> ", domain::TicketReference(source.id))));
  REQUIRE(r.ok());
  CHECK(r->ticket.id == target->id);
  CHECK_FALSE(r->created);
  // The target came by phone; with the mails it answers by mail now.
  absl::StatusOr<app::MessageAdded> answer = w.tickets.AddMessage(
      w.Meta("AddTicketMessage"), target->id, MessageKind::kPublicReply, "Refunded");
  REQUIRE(answer.ok());
  CHECK_FALSE(answer->message.mail_id.empty());

  // A split takes Carl's forward (and its mail) to a ticket of its own.
  w.clock.Advance(absl::Seconds(1));
  const std::string forward = r->message.id;  // Carl's, as received
  absl::StatusOr<Ticket> split =
      w.tickets.Split(w.Meta("SplitTicket"), target->id, {forward}, "Carl's forward");
  INFO(split.status().ToString());
  REQUIRE(split.ok());
  CHECK(split->customer_id == target->customer_id);
  CHECK(split->subject == "Carl's forward");
  CHECK(of("ticket_messages", split->id) == 2);  // the message and the note
  CHECK(of("ticket_mails", split->id) == 1);
  r = w.Receive(w.Raw("m5@example.com", "carl@example.com", "Re: Forwarded",
                      "In-Reply-To: <m4@example.com>\r\n", "Any news?"));
  REQUIRE(r.ok());
  CHECK(r->ticket.id == split->id);
  CHECK(w.Text(absl::StrCat("SELECT string_agg(field, ',' ORDER BY seq) FROM "
                            "service_desk.ticket_changes WHERE ticket_id = '",
                            split->id, "'")) == "split_from");
  // Another tenant's merge and split find nothing; nothing moved.
  World stranger;
  CHECK(ReasonOf(
            stranger.tickets.Merge(stranger.Meta("MergeTicket"), target->id, split->id).status()) ==
        "TICKET_NOT_FOUND");
  CHECK(ReasonOf(stranger.tickets.Split(stranger.Meta("SplitTicket"), target->id, {forward}, "")
                     .status()) == "TICKET_NOT_FOUND");
  CHECK(of("ticket_messages", split->id) == 3);  // + Carl's answer
}

TEST_CASE("two merges of one pair in opposite directions: one wins, no deadlock",
          "[service_desk][pg][merge]") {
  World w;
  absl::StatusOr<Ticket> x = w.Create("X", "ada@example.com");
  absl::StatusOr<Ticket> y = w.Create("Y", "ada@example.com");
  REQUIRE(x.ok());
  REQUIRE(y.ok());
  for (int round = 0; round < 3; ++round) {
    absl::StatusOr<Ticket> p = w.Create(absl::StrCat("P", round), "ada@example.com");
    absl::StatusOr<Ticket> q = w.Create(absl::StrCat("Q", round), "ada@example.com");
    REQUIRE(p.ok());
    REQUIRE(q.ok());
    auto one = std::async(std::launch::async,
                          [&] { return w.tickets.Merge(w.Meta("MergeTicket"), p->id, q->id); });
    auto two = std::async(std::launch::async,
                          [&] { return w.tickets.Merge(w.Meta("MergeTicket"), q->id, p->id); });
    absl::StatusOr<Ticket> first = one.get();
    absl::StatusOr<Ticket> second = two.get();
    INFO(first.status().ToString() << " / " << second.status().ToString());
    CHECK(first.ok() != second.ok());
    const absl::Status& lost = first.ok() ? second.status() : first.status();
    CHECK(ReasonOf(lost) == "TICKET_CLOSED");
    CHECK(w.Count(absl::StrCat("SELECT count(*) FROM service_desk.tickets WHERE ticket_id IN ('",
                               p->id, "', '", q->id, "') AND status = 'closed'")) == 1);
  }
}

}  // namespace
}  // namespace crm::service_desk::itest
