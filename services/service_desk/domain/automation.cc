#include "services/service_desk/domain/automation.h"

#include <set>

#include "absl/strings/str_cat.h"
#include "libs/common/errors.h"
#include "libs/common/status_macros.h"
#include "services/service_desk/domain/trigger.h"

namespace crm::service_desk::domain {
namespace {

constexpr AutomationClock kClocks[] = {AutomationClock::kCreated, AutomationClock::kUpdated,
                                       AutomationClock::kStatusChanged, AutomationClock::kSolved};

}  // namespace

const char* AutomationClockName(AutomationClock c) {
  switch (c) {
    case AutomationClock::kCreated:
      return "created";
    case AutomationClock::kUpdated:
      return "updated";
    case AutomationClock::kStatusChanged:
      return "status_changed";
    case AutomationClock::kSolved:
      return "solved";
  }
  return "";
}

std::optional<AutomationClock> AutomationClockFromName(const std::string& name) {
  for (AutomationClock c : kClocks) {
    if (name == AutomationClockName(c)) return c;
  }
  return std::nullopt;
}

absl::Status NormalizeAndValidate(Automations& a) {
  if (a.automations.size() > kMaxAutomations) {
    return common::InvalidField("automations",
                                absl::StrCat("at most ", kMaxAutomations, " automations"));
  }
  std::set<std::string> ids;
  for (size_t i = 0; i < a.automations.size(); ++i) {
    Automation& au = a.automations[i];
    const std::string at = absl::StrCat("automations[", i, "]");
    CRM_RETURN_IF_ERROR(NormalizeRuleIdAndName(au.id, au.name, at));
    if (!ids.insert(au.id).second) {
      return common::InvalidField(at + ".id",
                                  absl::StrCat(at, ".id \"", au.id, "\" is used twice"));
    }
    if (au.hours < 1 || au.hours > kMaxAutomationHours) {
      return common::InvalidField(at + ".hours",
                                  absl::StrCat(at, ".hours is 1..", kMaxAutomationHours));
    }
    CRM_RETURN_IF_ERROR(NormalizeAndValidateConditions(au.conditions, at + ".conditions",
                                                       ConditionScope::kAutomation));
    CRM_RETURN_IF_ERROR(NormalizeAndValidateRuleEffect(au.action, au.note, at));
  }
  return absl::OkStatus();
}

absl::Time ClockOf(AutomationClock c, const Ticket& t) {
  switch (c) {
    case AutomationClock::kCreated:
      return t.create_time;
    case AutomationClock::kUpdated:
      return t.update_time;
    case AutomationClock::kStatusChanged:
      return t.status_time;
    case AutomationClock::kSolved:
      return t.solve_time;
  }
  return absl::InfinitePast();
}

bool AutomationDue(const Automation& a, const Ticket& t, absl::Time last_fired, absl::Time now) {
  if (!a.active || t.status == TicketStatus::kClosed) return false;
  const absl::Time from = ClockOf(a.since, t);
  if (from == absl::InfinitePast() || from + absl::Hours(a.hours) > now) return false;
  if (last_fired != absl::InfinitePast() && last_fired >= from) return false;
  RoutingInput in;
  in.ticket = &t;
  return ConditionsHold(a.conditions, in);
}

}  // namespace crm::service_desk::domain
