// Assignment: agents' checks, the choice (round robin, least busy;
// availability, queues, skills, capacity), the assignment of new tickets a
// routing rule asks for (API and mail), its audit, agents' etag and
// availability, and tenants.
#include "services/service_desk/domain/assignment.h"

#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "libs/common/errors.h"
#include "libs/common/id.h"
#include "services/service_desk/app/agents.h"
#include "services/service_desk/app/routing.h"
#include "services/service_desk/app/tickets.h"
#include "tests/support/fakes/common_fakes.h"
#include "tests/support/fakes/service_desk/fake_ticket_repository.h"

namespace {

namespace sd = crm::service_desk;
using sd::domain::Agent;
using sd::domain::AssignMode;

constexpr char kTenant[] = "11111111-1111-4111-8111-111111111111";
constexpr char kOther[] = "22222222-2222-4222-8222-222222222222";

Agent MakeAgent(const std::string& id, std::vector<std::string> queues = {},
                std::vector<std::string> skills = {}, int capacity = 10) {
  Agent a;
  a.id = id;
  a.name = "Agent " + id;
  a.queues = std::move(queues);
  a.skills = std::move(skills);
  a.capacity = capacity;
  a.available = true;
  return a;
}

TEST_CASE("an agent is checked and normalized before it is stored", "[service_desk][assignment]") {
  Agent a = MakeAgent("ann@desk.example", {"billing", " billing", "vip"}, {"German", "refunds"});
  REQUIRE(sd::domain::NormalizeAndValidate(a).ok());
  CHECK(a.queues == std::vector<std::string>{"billing", "vip"});
  CHECK(a.skills == std::vector<std::string>{"german", "refunds"});
  const auto field = [](Agent x) {
    return crm::common::FieldOf(sd::domain::NormalizeAndValidate(x));
  };
  CHECK(field(MakeAgent("")) == "agent_id");
  CHECK(field(MakeAgent("ann smith")) == "agent_id");
  CHECK(field(MakeAgent("ann/1")) == "agent_id");
  CHECK(field(MakeAgent(std::string(129, 'a'))) == "agent_id");
  CHECK(field(MakeAgent("ann", {}, {"no spaces please"})) == "agent.skills[0]");
  CHECK(field(MakeAgent("ann", {std::string(65, 'q')})) == "agent.queues[0]");
  CHECK(field(MakeAgent("ann", {}, {}, 0)) == "agent.capacity");
  CHECK(field(MakeAgent("ann", {}, {}, 1001)) == "agent.capacity");
  std::vector<std::string> many;
  for (int i = 0; i < 31; ++i) many.push_back("s" + std::to_string(i));
  CHECK(field(MakeAgent("ann", {}, many)) == "agent.skills");
  CHECK(sd::domain::AssignModeFromName("least_busy") == AssignMode::kLeastBusy);
  CHECK_FALSE(sd::domain::AssignModeFromName("random").has_value());
}

TEST_CASE("the choice: round robin by last assignment, least busy by load then by wait",
          "[service_desk][assignment]") {
  std::vector<Agent> agents = {MakeAgent("cat"), MakeAgent("ann"), MakeAgent("bob")};
  for (Agent& a : agents) REQUIRE(sd::domain::NormalizeAndValidate(a).ok());
  sd::domain::AssignmentPool pool;
  pool.agents = &agents;
  // Round robin: never assigned first (by id), then the longest ago.
  CHECK(sd::domain::RankAgents(AssignMode::kRoundRobin, pool, "", {}) ==
        std::vector<std::string>{"ann", "bob", "cat"});
  agents[1].last_assigned = absl::FromUnixSeconds(10);  // ann
  CHECK(ChooseAgent(AssignMode::kRoundRobin, pool, "", {}) == "bob");
  agents[2].last_assigned = absl::FromUnixSeconds(11);  // bob
  CHECK(ChooseAgent(AssignMode::kRoundRobin, pool, "", {}) == "cat");
  agents[0].last_assigned = absl::FromUnixSeconds(12);  // cat: the rotation wraps
  CHECK(sd::domain::RankAgents(AssignMode::kRoundRobin, pool, "", {}) ==
        std::vector<std::string>{"ann", "bob", "cat"});
  agents[1].available = false;  // ann is off shift: skipped
  CHECK(ChooseAgent(AssignMode::kRoundRobin, pool, "", {}) == "bob");
  agents[1].available = true;
  agents[0].last_assigned = absl::InfinitePast();
  agents[1].last_assigned = absl::InfinitePast();
  agents[2].last_assigned = absl::InfinitePast();

  // Least busy: fewest open tickets; ties to the one who waited longest.
  pool.open = {{"ann", 3}, {"bob", 1}, {"cat", 1}};
  agents[0].last_assigned = absl::FromUnixSeconds(200);  // cat
  agents[2].last_assigned = absl::FromUnixSeconds(100);  // bob
  CHECK(ChooseAgent(AssignMode::kLeastBusy, pool, "", {}) == "bob");
  agents[2].last_assigned = absl::FromUnixSeconds(300);
  CHECK(ChooseAgent(AssignMode::kLeastBusy, pool, "", {}) == "cat");

  // Capacity: an agent at it takes nothing more; nobody able: none.
  agents[0].capacity = 1;  // cat: 1 open
  agents[2].capacity = 1;  // bob: 1 open
  CHECK(ChooseAgent(AssignMode::kLeastBusy, pool, "", {}) == "ann");
  agents[1].capacity = 3;  // ann: 3 open
  CHECK_FALSE(ChooseAgent(AssignMode::kLeastBusy, pool, "", {}).has_value());
  CHECK_FALSE(ChooseAgent(AssignMode::kRoundRobin, pool, "", {}).has_value());
  CHECK_FALSE(ChooseAgent(AssignMode::kNone, pool, "", {}).has_value());

  // Queues and skills: only agents of the ticket's queue with every skill.
  std::vector<Agent> team = {MakeAgent("ann", {"billing"}, {"german", "refunds"}),
                             MakeAgent("bob", {}, {"german"}), MakeAgent("cat", {"tech"}, {})};
  sd::domain::AssignmentPool by_skill;
  by_skill.agents = &team;
  CHECK(ChooseAgent(AssignMode::kRoundRobin, by_skill, "billing", {"german", "refunds"}) == "ann");
  CHECK(ChooseAgent(AssignMode::kRoundRobin, by_skill, "tech", {"german"}) == "bob");  // any queue
  CHECK(ChooseAgent(AssignMode::kRoundRobin, by_skill, "tech", {}) == "bob");
  CHECK_FALSE(ChooseAgent(AssignMode::kRoundRobin, by_skill, "tech", {"refunds"}).has_value());
}

struct World {
  crm::testing::FakeTicketRepository repo;
  crm::testing::FakeRequesterDirectory directory;
  crm::testing::FixedClock clock{absl::FromUnixSeconds(1'800'000'000)};
  crm::common::RandomIdGenerator ids;
  sd::app::Tickets tickets{repo, directory, clock, ids};
  sd::app::Routing routing{repo, clock};
  sd::app::Agents agents{repo, tickets, clock};
  int keys = 0;

  sd::app::Actor Meta(const std::string& method, const std::string& tenant = kTenant) {
    return sd::app::Actor{tenant, "admin-ada", "req", method, "k" + std::to_string(++keys), "fp"};
  }
  void Rule(AssignMode mode, std::vector<std::string> skills = {}) {
    sd::domain::RoutingRules rules;
    sd::domain::RoutingRule r;
    r.name = "Billing to the team";
    r.conditions = {{"subject", "contains", {"invoice"}}};
    r.action.queue = "billing";
    r.action.assign = mode;
    r.action.skills = std::move(skills);
    rules.rules = {r};
    REQUIRE(routing.Update(Meta("UpdateRoutingRules"), rules, "").ok());
  }
  sd::domain::Ticket Create(const std::string& subject, const std::string& assignee = "") {
    clock.Advance(absl::Seconds(1));
    sd::app::NewTicket n;
    n.ticket.subject = subject;
    n.ticket.assignee = assignee;
    n.requester.email = "eve@example.com";
    n.description = "Please look.";
    auto t = tickets.Create(Meta("CreateTicket"), n);
    REQUIRE(t.ok());
    return *t;
  }
};

TEST_CASE("a routing rule assigns new tickets round robin, within capacity, audited",
          "[service_desk][assignment]") {
  World w;
  REQUIRE(w.agents.Put(w.Meta("PutAgent"), MakeAgent("ann", {"billing"}, {}, 2), "0").ok());
  REQUIRE(w.agents.Put(w.Meta("PutAgent"), MakeAgent("bob", {"billing"}, {}, 2), "0").ok());
  REQUIRE(w.agents.Put(w.Meta("PutAgent"), MakeAgent("cat", {"tech"}), "0").ok());
  w.Rule(AssignMode::kRoundRobin);
  std::vector<std::string> got;
  for (int i = 0; i < 5; ++i) got.push_back(w.Create("Invoice " + std::to_string(i)).assignee);
  // ann, bob, ann, bob; then both hold 2 (their capacity): unassigned.
  CHECK(got == std::vector<std::string>{"ann", "bob", "ann", "bob", ""});
  CHECK(w.Create("Other question").assignee.empty());           // no rule: no assignment
  CHECK(w.Create("Invoice by hand", "zed").assignee == "zed");  // the creator's choice stays

  const sd::domain::Ticket first = w.Create("Invoice again");  // still full
  CHECK(first.assignee.empty());
  // One of ann's is solved: she has room again.
  auto list = w.tickets.List(kTenant, {});
  REQUIRE(list.ok());
  std::string anns;
  for (const auto& t : list->items) {
    if (t.assignee == "ann") anns = t.id;
  }
  sd::domain::Ticket solved;
  solved.status = sd::domain::TicketStatus::kSolved;
  REQUIRE(w.tickets.Update(w.Meta("UpdateTicket"), anns, solved, {"status"}, "").ok());
  const sd::domain::Ticket next = w.Create("Invoice later");
  CHECK(next.assignee == "ann");
  auto changes = w.tickets.Changes(kTenant, next.id);
  REQUIRE(changes.ok());
  REQUIRE(changes->size() == 2);
  CHECK(changes->at(0).field == "routing_rule");
  CHECK(changes->at(1).field == "assignee");
  CHECK(changes->at(1).new_value == "ann");
  CHECK(changes->at(1).actor == "assignment");

  auto ann = w.agents.Get(kTenant, "ann");
  REQUIRE(ann.ok());
  CHECK(ann->open_tickets == 2);
  CHECK(ann->agent.last_assigned == next.create_time);
}

TEST_CASE("least busy, skills and availability decide, and agents are the tenant's",
          "[service_desk][assignment]") {
  World w;
  REQUIRE(w.agents.Put(w.Meta("PutAgent"), MakeAgent("ann", {}, {"german"}), "").ok());
  REQUIRE(w.agents.Put(w.Meta("PutAgent"), MakeAgent("bob", {}, {"german", "refunds"}), "").ok());
  w.Rule(AssignMode::kLeastBusy, {"German"});
  CHECK(w.Create("Invoice 1").assignee == "ann");  // a tie: ann first by id
  CHECK(w.Create("Invoice 2").assignee == "bob");  // ann holds one
  CHECK(w.Create("Invoice 3").assignee == "ann");  // a tie again: ann waited longer
  // Bob goes off shift: everything to ann.
  auto off = w.agents.SetAvailability(w.Meta("SetAgentAvailability"), "bob", false);
  REQUIRE(off.ok());
  CHECK_FALSE(off->agent.available);
  CHECK(off->agent.version == 2);
  CHECK(w.agents.SetAvailability(w.Meta("SetAgentAvailability"), "bob", false)->agent.version ==
        2);  // already off: nothing changes
  CHECK(w.Create("Invoice 4").assignee == "ann");
  sd::domain::RoutingRules skills_alone;
  skills_alone.rules.resize(1);
  skills_alone.rules[0].name = "Skills without a mode";
  skills_alone.rules[0].action.skills = {"german"};
  CHECK(crm::common::FieldOf(
            w.routing.Update(w.Meta("UpdateRoutingRules"), skills_alone, "").status()) ==
        "rules[0].action.skills");
  w.Rule(AssignMode::kLeastBusy, {"refunds"});  // only bob has it, and he is away
  CHECK(w.Create("Invoice 5").assignee.empty());

  // Etags: "0" creates only; a stale one is refused; the write keeps the
  // agent's last assignment.
  CHECK(crm::common::ReasonOf(w.agents.Put(w.Meta("PutAgent"), MakeAgent("ann"), "0").status()) ==
        "ETAG_MISMATCH");
  auto ann = w.agents.Get(kTenant, "ann");
  REQUIRE(ann.ok());
  CHECK(ann->open_tickets == 3);
  auto again = w.agents.Put(w.Meta("PutAgent"), MakeAgent("ann", {"vip"}), "1");
  REQUIRE(again.ok());
  CHECK(again->agent.version == 2);
  CHECK(again->agent.last_assigned == ann->agent.last_assigned);
  CHECK(crm::common::FieldOf(
            w.agents.Put(w.Meta("PutAgent"), MakeAgent("ann", {}, {}, 0), "").status()) ==
        "agent.capacity");

  // Another tenant: none of them; its tickets are assigned among its own.
  CHECK(crm::common::ReasonOf(w.agents.Get(kOther, "ann").status()) == "AGENT_NOT_FOUND");
  CHECK(
      crm::common::ReasonOf(
          w.agents.SetAvailability(w.Meta("SetAgentAvailability", kOther), "ann", true).status()) ==
      "AGENT_NOT_FOUND");
  auto theirs = w.agents.List(kOther);
  REQUIRE(theirs.ok());
  CHECK(theirs->empty());
  auto ours = w.agents.List(kTenant);
  REQUIRE(ours.ok());
  CHECK(ours->size() == 2);
  CHECK(w.agents.Get(kTenant, "no such/agent").status().code() ==
        absl::StatusCode::kInvalidArgument);
}

TEST_CASE("an agent going off shift hands new and open tickets to others of the queue",
          "[service_desk][assignment]") {
  World w;
  REQUIRE(w.agents.Put(w.Meta("PutAgent"), MakeAgent("ann", {"billing"}), "").ok());
  REQUIRE(w.agents.Put(w.Meta("PutAgent"), MakeAgent("bob", {"billing"}, {}, 2), "").ok());
  REQUIRE(w.agents.Put(w.Meta("PutAgent"), MakeAgent("cat", {"tech"}), "").ok());
  w.Rule(AssignMode::kLeastBusy);
  // bob off shift: ann takes all four.
  REQUIRE(w.agents.SetAvailability(w.Meta("SetAgentAvailability"), "bob", false).ok());
  std::vector<sd::domain::Ticket> anns;
  for (int i = 0; i < 4; ++i) anns.push_back(w.Create("Invoice " + std::to_string(i)));
  for (const auto& t : anns) REQUIRE(t.assignee == "ann");
  // One waits for the customer: it stays ann's.
  sd::domain::Ticket pending;
  pending.status = sd::domain::TicketStatus::kPendingCustomer;
  REQUIRE(w.tickets.Update(w.Meta("UpdateTicket"), anns[3].id, pending, {"status"}, "").ok());
  REQUIRE(w.agents.SetAvailability(w.Meta("SetAgentAvailability"), "bob", true).ok());
  // ann leaves without handing over: her tickets stay hers.
  auto off = w.agents.SetAvailability(w.Meta("SetAgentAvailability"), "ann", false);
  REQUIRE(off.ok());
  CHECK(off->reassigned == 0);
  CHECK(w.tickets.Get(kTenant, anns[0].id)->assignee == "ann");
  // Asked to hand over (again, while off): bob takes two (his capacity),
  // the third goes to nobody; cat takes no billing.
  off = w.agents.SetAvailability(w.Meta("SetAgentAvailability"), "ann", false,
                                 AssignMode::kLeastBusy);
  REQUIRE(off.ok());
  CHECK(off->reassigned == 2);
  CHECK(off->released == 1);
  CHECK(off->open_tickets == 1);  // the pending one
  CHECK(w.tickets.Get(kTenant, anns[0].id)->assignee == "bob");
  CHECK(w.tickets.Get(kTenant, anns[1].id)->assignee == "bob");
  CHECK(w.tickets.Get(kTenant, anns[2].id)->assignee.empty());
  CHECK(w.tickets.Get(kTenant, anns[3].id)->assignee == "ann");
  auto changes = w.tickets.Changes(kTenant, anns[0].id);
  REQUIRE(changes.ok());
  CHECK(changes->back().field == "assignee");
  CHECK(changes->back().old_value == "ann");
  CHECK(changes->back().new_value == "bob");
  CHECK(changes->back().actor == "reassignment");
  // Another tenant's agent of the same name is not this one.
  CHECK(w.agents
            .SetAvailability(w.Meta("SetAgentAvailability", kOther), "ann", false,
                             AssignMode::kLeastBusy)
            .status()
            .code() == absl::StatusCode::kNotFound);
}

}  // namespace
