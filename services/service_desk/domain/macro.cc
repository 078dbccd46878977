#include "services/service_desk/domain/macro.h"

#include <algorithm>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "libs/common/errors.h"
#include "libs/common/status_macros.h"
#include "libs/common/text.h"
#include "services/service_desk/domain/template.h"

namespace crm::service_desk::domain {
namespace {

const std::vector<absl::string_view>& FieldNames() {
  static const auto* const kNames =
      new std::vector<absl::string_view>(std::begin(kMacroFields), std::end(kMacroFields));
  return *kNames;
}

}  // namespace

absl::Status NormalizeAndValidate(Macro& m) {
  m.name = std::string(absl::StripAsciiWhitespace(m.name));
  if (m.name.empty() || CharCount(m.name) > 100) {
    return common::InvalidField("macro.name", "macro.name is required (1..100 characters)");
  }
  CRM_RETURN_IF_ERROR(common::CheckStorableText("macro.name", m.name));
  CRM_RETURN_IF_ERROR(CheckTicketTemplate("macro.reply", m.reply));
  CRM_RETURN_IF_ERROR(NormalizeAndValidateEdits(m, "macro."));
  if (m.reply.empty() && m.internal) {
    return common::InvalidField("macro.internal", "macro.internal needs a reply");
  }
  if (m.reply.empty() && m.empty()) {
    return common::InvalidField("macro", "a macro adds a reply or changes a field");
  }
  if (m.intents.size() > kMaxMacroIntents) {
    return common::InvalidField(
        "macro.intents", absl::StrCat("a macro answers at most ", kMaxMacroIntents, " intents"));
  }
  std::vector<std::string> intents;
  for (size_t i = 0; i < m.intents.size(); ++i) {
    const std::string field = absl::StrCat("macro.intents[", i, "]");
    std::string label(absl::StripAsciiWhitespace(m.intents[i]));
    if (label.empty() || CharCount(label) > kMaxIntentLabel) {
      return common::InvalidField(field, absl::StrCat(field, " must be 1..", kMaxIntentLabel,
                                                      " characters (a classifier's label)"));
    }
    CRM_RETURN_IF_ERROR(common::CheckStorableText(field, label));
    if (std::find(intents.begin(), intents.end(), label) == intents.end()) {
      intents.push_back(std::move(label));
    }
  }
  m.intents = std::move(intents);
  if (m.auto_respond && (m.reply.empty() || m.internal || m.intents.empty())) {
    return common::InvalidField(
        "macro.auto_respond",
        "an auto-responding macro needs a public reply (not internal) and at least one intent");
  }
  return absl::OkStatus();
}

std::string FillTicketTemplate(const std::string& text, const Ticket& t, const std::string& agent) {
  return FillTemplate(text, {{"ticket.number", absl::StrCat(t.number)},
                             {"ticket.subject", t.subject},
                             {"ticket.status", StatusName(t.status)},
                             {"ticket.priority", PriorityName(t.priority)},
                             {"ticket.queue", t.queue},
                             {"requester.email", t.requester_email},
                             {"agent", agent}});
}

absl::Status CheckTicketTemplate(const std::string& field, const std::string& text) {
  return CheckTemplate(field, text, FieldNames(), kMaxBody, false);
}

absl::StatusOr<MacroOutcome> ApplyMacro(const Macro& m, const Ticket& t, const std::string& agent,
                                        absl::Time now) {
  CRM_ASSIGN_OR_RETURN(Edited edited, ApplyEdits(m, t, now));
  MacroOutcome out{std::move(edited.ticket), std::move(edited.paths), ""};
  out.reply = FillTicketTemplate(m.reply, out.ticket, agent);
  return out;
}

}  // namespace crm::service_desk::domain
