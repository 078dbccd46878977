#include "services/service_desk/domain/routing.h"

#include <algorithm>
#include <cmath>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "libs/common/errors.h"
#include "libs/common/status_macros.h"
#include "libs/common/text.h"

namespace crm::service_desk::domain {
namespace {

// The fields each scope's conditions read, as its errors name them.
const std::vector<std::string>& Fields(ConditionScope scope) {
  static const std::vector<std::string>* const kRouting =
      new std::vector<std::string>{"channel",
                                   "subject",
                                   "description",
                                   "requester_email",
                                   "requester_domain",
                                   "tags",
                                   "type",
                                   "queue",
                                   "priority",
                                   "mailbox",
                                   "intent",
                                   "predicted_queue",
                                   "predicted_type",
                                   "intent_confidence",
                                   "predicted_queue_confidence",
                                   "predicted_type_confidence",
                                   "customer_segment",
                                   "customer_rfm_segment",
                                   "customer_clv",
                                   "customer_churn_risk"};
  static const std::vector<std::string>* const kSla =
      new std::vector<std::string>{"channel", "subject", "requester_email", "requester_domain",
                                   "tags",    "type",    "queue",           "priority"};
  static const std::vector<std::string>* const kAutomation = new std::vector<std::string>{
      "channel", "subject", "requester_email", "requester_domain", "tags",
      "type",    "queue",   "priority",        "status",           "assignee"};
  static const std::vector<std::string>* const kTrigger = [] {
    auto* fields = new std::vector<std::string>(*kAutomation);
    fields->push_back("survey_kind");
    fields->push_back("survey_rating");
    return fields;
  }();
  switch (scope) {
    case ConditionScope::kSla:
      return *kSla;
    case ConditionScope::kTrigger:
      return *kTrigger;
    case ConditionScope::kAutomation:
      return *kAutomation;
    case ConditionScope::kRouting:
      break;
  }
  return *kRouting;
}

std::string Lower(const std::string& s) { return absl::AsciiStrToLower(s); }

bool IsNumeric(const std::string& field) {
  return field == "customer_clv" || field == "customer_churn_risk" ||
         field == "intent_confidence" || field == "predicted_queue_confidence" ||
         field == "predicted_type_confidence";
}

std::optional<double> Confidence(const RoutingInput& in, ClassifierTarget target) {
  if (in.predictions == nullptr) return std::nullopt;
  for (const TicketPrediction& p : *in.predictions) {
    if (p.target == target) return p.confidence;
  }
  return std::nullopt;
}

// A numeric field's value on the new ticket; nullopt when unknown.
std::optional<double> NumberOf(const std::string& field, const RoutingInput& in) {
  if (field == "intent_confidence") return Confidence(in, ClassifierTarget::kIntent);
  if (field == "predicted_queue_confidence") return Confidence(in, ClassifierTarget::kQueue);
  if (field == "predicted_type_confidence") return Confidence(in, ClassifierTarget::kType);
  if (in.customer == nullptr) return std::nullopt;
  if (field == "customer_clv") return in.customer->clv;
  if (field == "customer_churn_risk") return in.customer->churn_risk;
  return std::nullopt;
}

// The values a field has on a ticket (one, or a ticket's tags).
std::vector<std::string> ValuesOf(const std::string& field, const Ticket& t,
                                  const RoutingInput& in) {
  if (field == "channel") return {ChannelName(t.channel)};
  if (field == "subject") return {t.subject};
  if (field == "description") return {in.description};
  if (field == "requester_email") return {t.requester_email};
  if (field == "requester_domain") {
    const size_t at = t.requester_email.rfind('@');
    return {at == std::string::npos ? "" : t.requester_email.substr(at + 1)};
  }
  if (field == "tags") return t.tags;
  if (field == "type") return {t.type};
  if (field == "queue") return {t.queue};
  if (field == "priority") return {PriorityName(t.priority)};
  if (field == "mailbox") return {in.mailbox};
  if (field == "status") return {StatusName(t.status)};
  if (field == "assignee") return {t.assignee};
  if (field == "customer_segment") {
    return in.customer != nullptr ? in.customer->segments : std::vector<std::string>();
  }
  if (field == "customer_rfm_segment") {
    return {in.customer != nullptr ? in.customer->rfm_segment : ""};
  }
  if (field == "survey_kind") return {in.survey != nullptr ? in.survey->kind : ""};
  if (field == "survey_rating") {
    return {in.survey != nullptr ? absl::StrCat(in.survey->rating) : ""};
  }
  if (in.predictions != nullptr) {
    if (field == "intent") return {AnsweredLabel(*in.predictions, ClassifierTarget::kIntent)};
    if (field == "predicted_queue") {
      return {AnsweredLabel(*in.predictions, ClassifierTarget::kQueue)};
    }
    if (field == "predicted_type") {
      return {AnsweredLabel(*in.predictions, ClassifierTarget::kType)};
    }
  }
  return {};
}

bool Holds(const RoutingCondition& c, const RoutingInput& in) {
  if (IsNumeric(c.field)) {
    const std::optional<double> n = NumberOf(c.field, in);
    double want = 0;
    if (!n || c.values.empty() || !absl::SimpleAtod(c.values[0], &want)) return false;
    return c.op == "gte" ? *n >= want : *n < want;
  }
  std::vector<std::string> have = ValuesOf(c.field, *in.ticket, in);
  if (c.op == "changed" || c.op == "changed_to") {
    // What the event brought: the values the ticket has now and had not
    // before (every one on a creation; "" is no value).
    std::vector<std::string> had;
    if (in.before != nullptr) had = ValuesOf(c.field, *in.before, in);
    std::vector<std::string> brought;
    for (const std::string& v : have) {
      if (!v.empty() && std::find(had.begin(), had.end(), v) == had.end()) brought.push_back(v);
    }
    if (c.op == "changed") return !brought.empty() || (in.before != nullptr && have != had);
    have = std::move(brought);
  }
  bool any = false;
  for (const std::string& raw : have) {
    const std::string v = Lower(raw);
    for (const std::string& want : c.values) {
      const std::string w = Lower(want);
      if (c.op == "contains" ? absl::StrContains(v, w) : v == w) any = true;
    }
  }
  return c.op == "not_in" ? !any : any;
}

}  // namespace

absl::Status NormalizeAndValidateConditions(std::vector<RoutingCondition>& conditions,
                                            const std::string& at, ConditionScope scope) {
  const std::vector<std::string>& fields = Fields(scope);
  if (conditions.size() > kMaxRoutingConditions) {
    return common::InvalidField(
        at, absl::StrCat("at most ", kMaxRoutingConditions, " conditions a rule"));
  }
  for (size_t j = 0; j < conditions.size(); ++j) {
    RoutingCondition& c = conditions[j];
    const std::string cat = absl::StrCat(at, "[", j, "]");
    c.field = Lower(c.field);
    c.op = Lower(c.op);
    if (std::find(fields.begin(), fields.end(), c.field) == fields.end()) {
      return common::InvalidField(
          cat + ".field", absl::StrCat(cat, ".field must be one of ", absl::StrJoin(fields, ", ")));
    }
    if (IsNumeric(c.field)) {
      double n = 0;
      if (c.op != "gte" && c.op != "lt") {
        return common::InvalidField(cat + ".match",
                                    absl::StrCat(cat, ".match must be gte or lt for ", c.field));
      }
      if (c.values.size() != 1 || !absl::SimpleAtod(c.values[0], &n) || !std::isfinite(n)) {
        return common::InvalidField(cat + ".values",
                                    absl::StrCat(cat, ".values holds one number for ", c.field));
      }
      continue;
    }
    const bool change = c.op == "changed" || c.op == "changed_to";
    if (c.op != "in" && c.op != "not_in" && c.op != "contains" &&
        !(change && scope == ConditionScope::kTrigger)) {
      return common::InvalidField(
          cat + ".match",
          absl::StrCat(cat, ".match must be in, not_in or contains",
                       scope == ConditionScope::kTrigger ? ", changed or changed_to" : ""));
    }
    if (c.op == "changed") {
      if (!c.values.empty()) {
        return common::InvalidField(cat + ".values",
                                    cat + ".values must be empty for changed (any change)");
      }
      continue;
    }
    if (c.values.empty() || c.values.size() > kMaxRoutingValues) {
      return common::InvalidField(
          cat + ".values", absl::StrCat(cat, ".values holds 1..", kMaxRoutingValues, " values"));
    }
    for (size_t k = 0; k < c.values.size(); ++k) {
      const std::string vat = absl::StrCat(cat, ".values[", k, "]");
      CRM_RETURN_IF_ERROR(common::CheckStorableText(vat, c.values[k]));
      if (c.values[k].empty() || CharCount(c.values[k]) > kMaxRoutingValue) {
        return common::InvalidField(
            vat, absl::StrCat(vat, " must be 1..", kMaxRoutingValue, " characters"));
      }
      if (c.field == "channel" && !ChannelFromName(Lower(c.values[k]))) {
        return common::InvalidField(
            vat, absl::StrCat(vat, " must be a channel: email, web_form, chat, phone, api"));
      }
      if (c.field == "status" && !StatusFromName(Lower(c.values[k]))) {
        return common::InvalidField(vat,
                                    absl::StrCat(vat,
                                                 " must be a status: new, open, pending_customer, "
                                                 "pending_third_party, on_hold, solved, closed"));
      }
      if (c.field == "priority" && !PriorityFromName(Lower(c.values[k]))) {
        return common::InvalidField(
            vat, absl::StrCat(vat, " must be a priority: low, normal, high, urgent"));
      }
    }
  }
  return absl::OkStatus();
}

absl::Status NormalizeRuleIdAndName(std::string& id, std::string& name, const std::string& at) {
  id = Lower(std::string(absl::StripAsciiWhitespace(id)));
  const bool shaped =
      !id.empty() && id.size() <= 64 && std::all_of(id.begin(), id.end(), [](char c) {
        return absl::ascii_isdigit(c) || (c >= 'a' && c <= 'z') || c == '_' || c == '-';
      });
  if (!shaped) {
    return common::InvalidField(at + ".id",
                                absl::StrCat(at, ".id must be 1..64 of a-z, 0-9, _ and -"));
  }
  name = std::string(absl::StripAsciiWhitespace(name));
  if (name.empty() || CharCount(name) > 100) {
    return common::InvalidField(at + ".name",
                                absl::StrCat(at, ".name is required (1..100 characters)"));
  }
  return common::CheckStorableText(at + ".name", name);
}

bool NeedsCustomerFacts(const RoutingRules& r) {
  for (const RoutingRule& rule : r.rules) {
    for (const RoutingCondition& c : rule.conditions) {
      if (absl::StartsWith(c.field, "customer_")) return true;
    }
  }
  return false;
}

bool ConditionsHold(const std::vector<RoutingCondition>& conditions, const RoutingInput& in) {
  return std::all_of(conditions.begin(), conditions.end(),
                     [&](const RoutingCondition& c) { return Holds(c, in); });
}

absl::Status NormalizeAndValidate(RoutingRules& r) {
  if (r.rules.size() > kMaxRoutingRules) {
    return common::InvalidField("rules", absl::StrCat("at most ", kMaxRoutingRules, " rules"));
  }
  for (size_t i = 0; i < r.rules.size(); ++i) {
    RoutingRule& rule = r.rules[i];
    const std::string at = absl::StrCat("rules[", i, "]");
    rule.name = std::string(absl::StripAsciiWhitespace(rule.name));
    if (rule.name.empty() || CharCount(rule.name) > 100) {
      return common::InvalidField(at + ".name",
                                  absl::StrCat(at, ".name is required (1..100 characters)"));
    }
    CRM_RETURN_IF_ERROR(common::CheckStorableText(at + ".name", rule.name));
    CRM_RETURN_IF_ERROR(NormalizeAndValidateConditions(rule.conditions, at + ".conditions",
                                                       ConditionScope::kRouting));
    // The action's fields are checked as a ticket's.
    Ticket probe;
    probe.subject = "x";
    probe.queue = rule.action.queue;
    probe.type = rule.action.type;
    probe.tags = rule.action.add_tags;
    absl::Status s = NormalizeAndValidate(probe);
    if (!s.ok()) {
      const std::string field = common::FieldOf(s);
      const std::string named =
          absl::StrCat(at, ".action.", field.rfind("tags", 0) == 0 ? "add_" + field : field);
      return common::InvalidField(named, absl::StrCat(named, ": ", s.message()));
    }
    rule.action.add_tags = probe.tags;
    CRM_RETURN_IF_ERROR(NormalizeSkills(rule.action.skills, at + ".action.skills"));
    if (!rule.action.skills.empty() && rule.action.assign == AssignMode::kNone) {
      return common::InvalidField(at + ".action.skills",
                                  absl::StrCat(at, ".action.skills need an assign mode"));
    }
  }
  return absl::OkStatus();
}

std::optional<size_t> MatchRouting(const RoutingRules& r, const RoutingInput& in) {
  for (size_t i = 0; i < r.rules.size(); ++i) {
    if (ConditionsHold(r.rules[i].conditions, in)) return i;
  }
  return std::nullopt;
}

void ApplyRouting(const RoutingRule& rule, bool priority_given, Ticket& t) {
  if (t.queue.empty()) t.queue = rule.action.queue;
  if (t.type.empty()) t.type = rule.action.type;
  if (!priority_given && rule.action.priority) t.priority = *rule.action.priority;
  for (const std::string& tag : rule.action.add_tags) t.tags.push_back(tag);
}

}  // namespace crm::service_desk::domain
