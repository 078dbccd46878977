#include "services/service_desk/domain/assignment.h"

#include <algorithm>
#include <tuple>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "libs/common/errors.h"
#include "libs/common/status_macros.h"
#include "libs/common/text.h"
#include "services/service_desk/domain/ticket.h"

namespace crm::service_desk::domain {
namespace {

// An error of the probe ticket's field `from` renamed to `to`.
absl::Status Renamed(absl::Status s, const std::string& from, const std::string& to) {
  if (s.ok()) return s;
  std::string field = common::FieldOf(s);
  if (field.rfind(from, 0) == 0) field = to + field.substr(from.size());
  return common::InvalidField(field, absl::StrCat(field, ": ", s.message()));
}

}  // namespace

const char* AssignModeName(AssignMode m) {
  switch (m) {
    case AssignMode::kRoundRobin:
      return "round_robin";
    case AssignMode::kLeastBusy:
      return "least_busy";
    case AssignMode::kNone:
      break;
  }
  return "none";
}

std::optional<AssignMode> AssignModeFromName(const std::string& name) {
  for (AssignMode m : {AssignMode::kNone, AssignMode::kRoundRobin, AssignMode::kLeastBusy}) {
    if (name == AssignModeName(m)) return m;
  }
  return std::nullopt;
}

absl::Status NormalizeSkills(std::vector<std::string>& skills, const std::string& field) {
  Ticket probe;
  probe.subject = "x";
  probe.tags = skills;
  CRM_RETURN_IF_ERROR(Renamed(NormalizeAndValidate(probe), "tags", field));
  if (probe.tags.size() > kMaxSkills) {
    return common::InvalidField(field, absl::StrCat("at most ", kMaxSkills, " skills"));
  }
  skills = std::move(probe.tags);
  return absl::OkStatus();
}

absl::Status NormalizeAndValidate(Agent& a) {
  const bool shaped =
      !a.id.empty() && a.id.size() <= 128 && std::all_of(a.id.begin(), a.id.end(), [](char c) {
        return absl::ascii_isalnum(c) || c == '.' || c == '_' || c == '@' || c == '+' || c == '-';
      });
  if (!shaped) {
    return common::InvalidField(
        "agent_id",
        "agent_id is 1..128 of letters, digits and . _ @ + - (what tickets name as "
        "assignee)");
  }
  a.name = std::string(absl::StripAsciiWhitespace(a.name));
  CRM_RETURN_IF_ERROR(common::CheckStorableText("agent.name", a.name));
  if (CharCount(a.name) > 200) {
    return common::InvalidField("agent.name", "agent.name is at most 200 characters");
  }
  CRM_RETURN_IF_ERROR(NormalizeSkills(a.skills, "agent.skills"));
  for (size_t i = 0; i < a.queues.size(); ++i) {
    a.queues[i] = std::string(absl::StripAsciiWhitespace(a.queues[i]));
    Ticket probe;
    probe.subject = "x";
    probe.queue = a.queues[i];
    const std::string field = absl::StrCat("agent.queues[", i, "]");
    CRM_RETURN_IF_ERROR(Renamed(NormalizeAndValidate(probe), "queue", field));
    if (a.queues[i].empty()) return common::InvalidField(field, field + " is empty");
  }
  std::sort(a.queues.begin(), a.queues.end());
  a.queues.erase(std::unique(a.queues.begin(), a.queues.end()), a.queues.end());
  if (a.queues.size() > kMaxAgentQueues) {
    return common::InvalidField("agent.queues",
                                absl::StrCat("at most ", kMaxAgentQueues, " queues an agent"));
  }
  if (a.capacity < 1 || a.capacity > kMaxCapacity) {
    return common::InvalidField(
        "agent.capacity", absl::StrCat("agent.capacity is 1..", kMaxCapacity, " open tickets"));
  }
  return absl::OkStatus();
}

bool CanTake(const Agent& a, int open, const std::string& queue,
             const std::vector<std::string>& skills) {
  if (!a.available || open >= a.capacity) return false;
  if (!a.queues.empty() && !std::binary_search(a.queues.begin(), a.queues.end(), queue)) {
    return false;
  }
  return std::includes(a.skills.begin(), a.skills.end(), skills.begin(), skills.end());
}

std::vector<std::string> RankAgents(AssignMode mode, const AssignmentPool& pool,
                                    const std::string& queue,
                                    const std::vector<std::string>& skills) {
  if (mode == AssignMode::kNone || pool.agents == nullptr) return {};
  const auto open_of = [&](const Agent& a) {
    const auto it = pool.open.find(a.id);
    return it == pool.open.end() ? 0 : it->second;
  };
  using Key = std::tuple<int, absl::Time, std::string>;
  std::vector<Key> able;
  for (const Agent& a : *pool.agents) {
    const int open = open_of(a);
    if (!CanTake(a, open, queue, skills)) continue;
    able.emplace_back(mode == AssignMode::kLeastBusy ? open : 0, a.last_assigned, a.id);
  }
  std::sort(able.begin(), able.end());
  std::vector<std::string> out;
  out.reserve(able.size());
  for (Key& k : able) out.push_back(std::move(std::get<2>(k)));
  return out;
}

std::optional<std::string> ChooseAgent(AssignMode mode, const AssignmentPool& pool,
                                       const std::string& queue,
                                       const std::vector<std::string>& skills) {
  std::vector<std::string> ranked = RankAgents(mode, pool, queue, skills);
  if (ranked.empty()) return std::nullopt;
  return std::move(ranked.front());
}

}  // namespace crm::service_desk::domain
