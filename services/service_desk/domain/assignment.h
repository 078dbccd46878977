#pragma once
// Assignment of new tickets to agents (docs/service-desk.md, "Assignment"):
// the tenant's agents (the queues they take, their skills, capacity and
// availability) and the choice of one for a ticket a routing rule asks to
// assign, round robin or to the least busy. Pure.
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"

namespace crm::service_desk::domain {

enum class AssignMode { kNone = 0, kRoundRobin, kLeastBusy };
const char* AssignModeName(AssignMode m);  // "none", "round_robin", "least_busy"
std::optional<AssignMode> AssignModeFromName(const std::string& name);

struct Agent {
  std::string id;    // what tickets name as assignee: 1..128 of letters, digits, . _ @ + -
  std::string name;  // 0..200 characters
  std::vector<std::string> queues;  // the queues it takes tickets of; none: every queue
  std::vector<std::string> skills;  // normalized as tags: lower-case, sorted, unique
  int capacity = 10;                // open tickets (not solved or closed) it holds at most
  bool available = false;           // takes new tickets now
  int64_t version = 0;              // the etag; 0: not written yet
  absl::Time update_time = absl::InfinitePast();
  absl::Time last_assigned = absl::InfinitePast();  // the last ticket it was given
};

inline constexpr size_t kMaxAgents = 1'000;  // a tenant's
inline constexpr size_t kMaxAgentQueues = 50;
inline constexpr size_t kMaxSkills = 30;  // of an agent, and a rule's required ones
inline constexpr int kMaxCapacity = 1'000;

// Trims the id and name, normalizes skills (as tags) and queues (trimmed,
// sorted, unique), then checks every limit: INVALID_ARGUMENT naming the
// field ("agent.skills[2]", "agent.capacity", ...).
absl::Status NormalizeAndValidate(Agent& a);
// Required skills of a routing rule: as an agent's, named `field`.
absl::Status NormalizeSkills(std::vector<std::string>& skills, const std::string& field);

// What the choice sees: the agents and each one's open tickets now.
struct AssignmentPool {
  const std::vector<Agent>* agents = nullptr;
  std::map<std::string, int> open;  // by agent id; missing: 0
};

// Whether `a`, holding `open` tickets, can take a new ticket of `queue`
// that needs `skills`: available, takes the queue (or every queue), has
// every skill and holds fewer open tickets than its capacity.
bool CanTake(const Agent& a, int open, const std::string& queue,
             const std::vector<std::string>& skills);

// The agents that can take a new ticket, in the order a ticket goes to
// them: round robin: the one given a ticket longest ago (never first), then
// by id — a rotation through the able agents; least busy: the fewest open
// tickets, then the longest since its last assignment, then the id. Empty
// when none can take it (the ticket stays unassigned) or mode is kNone.
std::vector<std::string> RankAgents(AssignMode mode, const AssignmentPool& pool,
                                    const std::string& queue,
                                    const std::vector<std::string>& skills);
// The first of RankAgents; nullopt when there is none.
std::optional<std::string> ChooseAgent(AssignMode mode, const AssignmentPool& pool,
                                       const std::string& queue,
                                       const std::vector<std::string>& skills);

}  // namespace crm::service_desk::domain
