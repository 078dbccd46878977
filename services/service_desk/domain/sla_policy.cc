#include "services/service_desk/domain/sla_policy.h"

#include <algorithm>
#include <set>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "libs/common/errors.h"
#include "libs/common/status_macros.h"
#include "libs/common/text.h"
#include "libs/common/time_zone.h"

namespace crm::service_desk::domain {
namespace {

constexpr size_t kMaxEscalations = 10;

absl::Status Bad(const char* field, absl::string_view message) {
  return common::InvalidField(field, message);
}

}  // namespace

absl::StatusOr<SlaPolicy> CompileSlaPolicy(const SlaPolicySpec& spec) {
  SlaPolicy policy;
  // The zone's name becomes a file name under the zone database: an IANA
  // name only (no NUL, no path, no "..", at most 64 characters).
  const std::string& zone = spec.hours.time_zone;
  if (!zone.empty() && !common::ZoneNameShaped(zone)) {
    return Bad("policy.hours.time_zone",
               "time_zone must be an IANA zone name such as \"Europe/Berlin\" (letters, digits, "
               "_ + - and /, at most 64 characters)");
  }
  absl::StatusOr<BusinessCalendar> calendar = BusinessCalendar::Create(spec.hours);
  if (!calendar.ok()) return Bad("policy.hours", calendar.status().message());
  policy.calendar = *std::move(calendar);
  for (const auto& [priority, targets] : spec.targets_by_priority) {
    if (!PriorityFromName(priority)) {
      return Bad("policy.targets_by_priority",
                 absl::StrCat("\"", priority, "\" is not a priority (low, normal, high, urgent)"));
    }
    policy.targets_by_priority[priority] = targets;
  }
  for (const std::string& status : spec.paused_statuses) {
    std::optional<TicketStatus> s = StatusFromName(status);
    if (!s) {
      return Bad("policy.paused_statuses", absl::StrCat("\"", status, "\" is not a ticket status"));
    }
    if (*s == TicketStatus::kSolved || *s == TicketStatus::kClosed || *s == TicketStatus::kNew ||
        *s == TicketStatus::kOpen) {
      return Bad("policy.paused_statuses",
                 absl::StrCat("\"", status,
                              "\" cannot pause: new and open are the team's time, solved and "
                              "closed stop every clock already"));
    }
    policy.paused_statuses.insert(status);
  }
  if (spec.escalations.size() > kMaxEscalations) {
    return Bad("policy.escalation_seconds",
               absl::StrCat("at most ", kMaxEscalations, " escalation levels"));
  }
  policy.warn_before = spec.warn_before;
  policy.escalations = spec.escalations;
  if (absl::Status s = ValidateSlaPolicy(policy); !s.ok()) return Bad("policy", s.message());
  return policy;
}

absl::Status NormalizeAndValidate(std::vector<ConditionalSlaPolicy>& policies) {
  if (policies.size() > kMaxSlaPolicies) {
    return common::InvalidField("policies",
                                absl::StrCat("at most ", kMaxSlaPolicies, " SLA policies"));
  }
  std::set<std::string> ids;
  for (size_t i = 0; i < policies.size(); ++i) {
    ConditionalSlaPolicy& p = policies[i];
    const std::string at = absl::StrCat("policies[", i, "]");
    CRM_RETURN_IF_ERROR(NormalizeRuleIdAndName(p.id, p.name, at));
    if (p.id == kDefaultSlaPolicyId) {
      return common::InvalidField(
          at + ".id",
          absl::StrCat(at, ".id \"default\" is the default policy's (PUT /v1/slaPolicy)"));
    }
    if (!ids.insert(p.id).second) {
      return common::InvalidField(at + ".id", absl::StrCat(at, ".id \"", p.id, "\" is used twice"));
    }
    CRM_RETURN_IF_ERROR(
        NormalizeAndValidateConditions(p.conditions, at + ".conditions", ConditionScope::kSla));
    absl::Status s = CompileSlaPolicy(p.policy).status();
    if (!s.ok()) {
      const std::string named = absl::StrCat(at, ".", common::FieldOf(s));
      return common::InvalidField(named, absl::StrCat(named, ": ", s.message()));
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<SlaPolicyBook> SlaPolicyBook::Compile(const SlaPolicies& p) {
  SlaPolicyBook book;
  book.list_ = p.conditional;
  book.policies_.reserve(p.conditional.size() + 1);
  for (const ConditionalSlaPolicy& c : book.list_) {
    CRM_ASSIGN_OR_RETURN(SlaPolicy compiled, CompileSlaPolicy(c.policy));
    compiled.id = c.id;
    book.policies_.push_back(std::move(compiled));
    book.conditions_.push_back(&c.conditions);
  }
  if (p.fallback) {
    CRM_ASSIGN_OR_RETURN(SlaPolicy compiled, CompileSlaPolicy(*p.fallback));
    compiled.id = kDefaultSlaPolicyId;
    book.policies_.push_back(std::move(compiled));
    book.conditions_.push_back(nullptr);
    book.all_.push_back(&book.policies_.back());
  }
  for (size_t i = 0; i < book.list_.size(); ++i) book.all_.push_back(&book.policies_[i]);
  return book;
}

std::string SlaPolicyBook::Match(const Ticket& t) const {
  RoutingInput in;
  in.ticket = &t;
  for (size_t i = 0; i < policies_.size(); ++i) {
    if (conditions_[i] == nullptr || ConditionsHold(*conditions_[i], in)) return policies_[i].id;
  }
  return "";
}

TicketTimeline SlaTimelineOf(const Ticket& ticket, const std::vector<TicketChange>& changes,
                             const std::vector<TicketMessage>& messages,
                             const std::string& policy) {
  TicketTimeline out;
  out.created_at = ticket.create_time;
  out.status = StatusName(ticket.status);
  out.priority = PriorityName(ticket.priority);
  out.policy = policy;
  bool status_seen = false;
  bool priority_seen = false;
  bool policy_seen = false;
  for (const TicketChange& c : changes) {
    if (c.field == "sla_policy") {
      // Created under none (before any policy, or matching none): the
      // first policy it got counts from its creation, as one policy did.
      if (!policy_seen) {
        out.policy = c.old_value.empty() ? c.new_value : c.old_value;
      } else if (out.policy.empty()) {
        out.policy = c.new_value;
      }
      policy_seen = true;
      out.events.push_back({c.time, TicketEvent::Kind::kPolicy, c.new_value});
      continue;
    }
    if (c.field == "status") {
      if (!status_seen) out.status = c.old_value;
      status_seen = true;
      out.events.push_back({c.time, TicketEvent::Kind::kStatus, c.new_value});
    } else if (c.field == "priority") {
      if (!priority_seen) out.priority = c.old_value;
      priority_seen = true;
      out.events.push_back({c.time, TicketEvent::Kind::kPriority, c.new_value});
    }
  }
  for (const TicketMessage& m : messages) {
    if (m.create_time <= ticket.create_time) continue;  // the requester's first message
    if (m.kind == MessageKind::kCustomer) {
      out.events.push_back({m.create_time, TicketEvent::Kind::kCustomerMessage, ""});
    } else if (m.kind == MessageKind::kPublicReply) {
      out.events.push_back({m.create_time, TicketEvent::Kind::kAgentReply, ""});
    }
  }
  return out;
}

}  // namespace crm::service_desk::domain
