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

// A probe ticket's error named under "macro." (tags: the list it came from).
absl::Status AsMacroField(absl::Status s, const std::string& tags_list) {
  if (s.ok()) return s;
  std::string field = common::FieldOf(s);
  if (field.rfind("tags", 0) == 0) field = tags_list + field.substr(4);
  const std::string named = absl::StrCat("macro.", field);
  return common::InvalidField(named, absl::StrCat(named, ": ", s.message()));
}

// Tags as a ticket's: normalized, or the error named after `list`.
absl::Status NormalizeTags(std::vector<std::string>& tags, const std::string& list) {
  Ticket probe;
  probe.subject = "x";
  probe.tags = tags;
  CRM_RETURN_IF_ERROR(AsMacroField(NormalizeAndValidate(probe), list));
  tags = std::move(probe.tags);
  return absl::OkStatus();
}

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
  CRM_RETURN_IF_ERROR(CheckTemplate("macro.reply", m.reply, FieldNames(), kMaxBody, false));
  Ticket probe;
  probe.subject = "x";
  probe.type = m.type;
  probe.queue = m.queue;
  probe.assignee = m.assignee;
  CRM_RETURN_IF_ERROR(AsMacroField(NormalizeAndValidate(probe), "tags"));
  CRM_RETURN_IF_ERROR(NormalizeTags(m.add_tags, "add_tags"));
  CRM_RETURN_IF_ERROR(NormalizeTags(m.remove_tags, "remove_tags"));
  if (m.reply.empty() && m.internal) {
    return common::InvalidField("macro.internal", "macro.internal needs a reply");
  }
  if (m.reply.empty() && !m.status && !m.priority && m.type.empty() && m.queue.empty() &&
      m.assignee.empty() && m.add_tags.empty() && m.remove_tags.empty()) {
    return common::InvalidField("macro", "a macro adds a reply or changes a field");
  }
  return absl::OkStatus();
}

absl::StatusOr<MacroOutcome> ApplyMacro(const Macro& m, const Ticket& t, const std::string& agent,
                                        absl::Time now) {
  MacroOutcome out{t, {}, ""};
  Ticket patch;
  if (m.status && *m.status != t.status) {
    patch.status = *m.status;
    out.paths.push_back("status");
  }
  if (m.priority && *m.priority != t.priority) {
    patch.priority = *m.priority;
    out.paths.push_back("priority");
  }
  const auto set = [&](const std::string& value, const std::string& current, std::string& field,
                       const char* path) {
    if (value.empty() || value == current) return;
    field = value;
    out.paths.push_back(path);
  };
  set(m.type, t.type, patch.type, "type");
  set(m.queue, t.queue, patch.queue, "queue");
  set(m.assignee, t.assignee, patch.assignee, "assignee");
  std::vector<std::string> tags = t.tags;
  for (const std::string& tag : m.add_tags) {
    if (std::find(tags.begin(), tags.end(), tag) == tags.end()) tags.push_back(tag);
  }
  tags.erase(std::remove_if(tags.begin(), tags.end(),
                            [&](const std::string& tag) {
                              return std::find(m.remove_tags.begin(), m.remove_tags.end(), tag) !=
                                     m.remove_tags.end();
                            }),
             tags.end());
  std::sort(tags.begin(), tags.end());
  if (tags != t.tags) {
    patch.tags = tags;
    out.paths.push_back("tags");
  }
  if (t.status == TicketStatus::kClosed) {
    CRM_RETURN_IF_ERROR(ApplyTicketMask(patch, {"status"}, now, out.ticket));  // TICKET_CLOSED
  }
  if (!out.paths.empty()) {
    CRM_RETURN_IF_ERROR(ApplyTicketMask(patch, out.paths, now, out.ticket));
    CRM_RETURN_IF_ERROR(NormalizeAndValidate(out.ticket));
  }
  const Ticket& after = out.ticket;
  out.reply = FillTemplate(m.reply, {{"ticket.number", absl::StrCat(after.number)},
                                     {"ticket.subject", after.subject},
                                     {"ticket.status", StatusName(after.status)},
                                     {"ticket.priority", PriorityName(after.priority)},
                                     {"ticket.queue", after.queue},
                                     {"requester.email", after.requester_email},
                                     {"agent", agent}});
  return out;
}

}  // namespace crm::service_desk::domain
