#include "services/service_desk/app/agents.h"

#include <algorithm>
#include <map>
#include <utility>

#include "absl/strings/str_cat.h"
#include "libs/common/errors.h"
#include "libs/common/etag.h"
#include "libs/common/request_id.h"
#include "libs/common/status_macros.h"

namespace crm::service_desk::app {
namespace {

absl::Status AgentNotFound(const std::string& id) {
  return common::NotFound(
      "AGENT_NOT_FOUND", absl::StrCat("no agent \"", id, "\"; write one with PUT /v1/agents/", id));
}

// The id's shape, as an agent's (INVALID_ARGUMENT agent_id).
absl::Status CheckAgentId(const std::string& id) {
  domain::Agent probe;
  probe.id = id;
  return domain::NormalizeAndValidate(probe);
}

// What the write answers: the agent and its open tickets in the write.
absl::StatusOr<AgentState> StateOf(TicketTx& tx, domain::Agent a) {
  CRM_ASSIGN_OR_RETURN(auto open, tx.OpenTickets({a.id}));
  const auto it = open.find(a.id);
  return AgentState{std::move(a), it == open.end() ? 0 : it->second};
}

}  // namespace

absl::Time Agents::Now() const { return absl::FromUnixMicros(absl::ToUnixMicros(clock_.Now())); }

absl::StatusOr<AgentState> Agents::Put(const Actor& actor, domain::Agent agent,
                                       const std::string& if_match) {
  CRM_RETURN_IF_ERROR(common::RequireRequestId(actor.idempotency_key));
  CRM_RETURN_IF_ERROR(CheckAgentId(agent.id));
  CRM_RETURN_IF_ERROR(domain::NormalizeAndValidate(agent));
  const absl::Time now = Now();
  return repository_.Run<AgentState>(
      actor, "agent/" + agent.id, [&](TicketTx& tx) -> absl::StatusOr<AgentState> {
        CRM_ASSIGN_OR_RETURN(std::optional<domain::Agent> current, tx.LoadAgent(agent.id));
        const int64_t version = current ? current->version : 0;
        CRM_RETURN_IF_ERROR(common::CheckEtag("agent", absl::StrCat(version), if_match));
        domain::Agent next = agent;
        next.version = version + 1;
        next.update_time = current ? std::max(now, current->update_time) : now;
        next.last_assigned = current ? current->last_assigned : absl::InfinitePast();
        tx.SaveAgent(next);
        return StateOf(tx, std::move(next));
      });
}

absl::StatusOr<AgentState> Agents::Get(const std::string& tenant, const std::string& id) {
  CRM_RETURN_IF_ERROR(CheckAgentId(id));
  return repository_.GetAgent(tenant, id);
}

absl::StatusOr<std::vector<AgentState>> Agents::List(const std::string& tenant) {
  return repository_.ListAgents(tenant);
}

absl::StatusOr<AgentState> Agents::SetAvailability(const Actor& actor, const std::string& id,
                                                   bool available, domain::AssignMode reassign) {
  CRM_RETURN_IF_ERROR(common::RequireRequestId(actor.idempotency_key));
  CRM_RETURN_IF_ERROR(CheckAgentId(id));
  const absl::Time now = Now();
  return repository_.Run<AgentState>(
      actor, "agent/" + id, [&](TicketTx& tx) -> absl::StatusOr<AgentState> {
        CRM_ASSIGN_OR_RETURN(std::optional<domain::Agent> current, tx.LoadAgent(id));
        if (!current) return AgentNotFound(id);
        if (current->available != available) {
          current->available = available;
          current->version += 1;
          current->update_time = std::max(now, current->update_time);
          tx.SaveAgent(*current);
        }
        int reassigned = 0, released = 0;
        if (!available && reassign != domain::AssignMode::kNone) {
          const Actor by{actor.tenant_id, kReassigner, actor.request_id, actor.method, "", ""};
          CRM_ASSIGN_OR_RETURN(std::vector<std::string> ids,
                               tx.ActiveTicketsOf(id, kMaxReassigned));
          for (const std::string& ticket_id : ids) {
            CRM_ASSIGN_OR_RETURN(domain::Ticket t, tx.LoadTicket(ticket_id));
            if (t.assignee != id) continue;
            // The agent is unavailable in this write: the ranking leaves it out.
            CRM_ASSIGN_OR_RETURN(std::string to, AssignNewTicket(tx, reassign, t, {}, now));
            domain::Ticket patch;
            patch.assignee = to;
            CRM_RETURN_IF_ERROR(
                tickets_.WriteUpdate(tx, by, ticket_id, patch, {"assignee"}, "", {}).status());
            ++(to.empty() ? released : reassigned);
          }
        }
        CRM_ASSIGN_OR_RETURN(AgentState out, StateOf(tx, *std::move(current)));
        out.reassigned = reassigned;
        out.released = released;
        return out;
      });
}

absl::StatusOr<std::string> AssignNewTicket(TicketTx& tx, domain::AssignMode mode,
                                            const domain::Ticket& ticket,
                                            const std::vector<std::string>& skills, absl::Time at) {
  if (mode == domain::AssignMode::kNone) return std::string();
  // The ranking is read without locks; each candidate is then claimed in
  // turn and checked again under its own lock, so concurrent creations go
  // to different agents and no capacity is overrun. Candidates another
  // write holds are skipped, and waited for only when every one was.
  CRM_ASSIGN_OR_RETURN(std::vector<domain::Agent> agents, tx.AssignableAgents());
  if (agents.empty()) return std::string();
  std::vector<std::string> ids;
  for (const domain::Agent& a : agents) ids.push_back(a.id);
  domain::AssignmentPool pool;
  pool.agents = &agents;
  CRM_ASSIGN_OR_RETURN(pool.open, tx.OpenTickets(ids));
  std::vector<std::string> ranked = domain::RankAgents(mode, pool, ticket.queue, skills);
  for (const bool wait : {false, true}) {
    std::vector<std::string> held;  // by another write: waited for on the second pass
    for (const std::string& id : ranked) {
      CRM_ASSIGN_OR_RETURN(auto claim, tx.ClaimAgent(id, wait));
      if (!claim) {
        held.push_back(id);
        continue;
      }
      if (domain::CanTake(claim->first, claim->second, ticket.queue, skills)) {
        tx.RecordAssignment(id, at);
        return id;
      }
      tx.ReleaseClaim();
    }
    ranked = std::move(held);
  }
  return std::string();
}

}  // namespace crm::service_desk::app
