#include "services/service_desk/domain/ticket_edits.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "libs/common/errors.h"
#include "libs/common/status_macros.h"

namespace crm::service_desk::domain {
namespace {

// A probe ticket's error named under `prefix` (tags: the list it came from).
absl::Status Named(absl::Status s, const std::string& prefix, const std::string& tags_list) {
  if (s.ok()) return s;
  std::string field = common::FieldOf(s);
  if (field.rfind("tags", 0) == 0) field = tags_list + field.substr(4);
  const std::string named = prefix + field;
  return common::InvalidField(named, absl::StrCat(named, ": ", s.message()));
}

// Tags as a ticket's: normalized, or the error named after `list`.
absl::Status NormalizeTags(std::vector<std::string>& tags, const std::string& prefix,
                           const std::string& list) {
  Ticket probe;
  probe.subject = "x";
  probe.tags = tags;
  CRM_RETURN_IF_ERROR(Named(NormalizeAndValidate(probe), prefix, list));
  tags = std::move(probe.tags);
  return absl::OkStatus();
}

}  // namespace

absl::Status NormalizeAndValidateEdits(TicketEdits& e, const std::string& prefix) {
  Ticket probe;
  probe.subject = "x";
  probe.type = e.type;
  probe.queue = e.queue;
  probe.assignee = e.assignee;
  CRM_RETURN_IF_ERROR(Named(NormalizeAndValidate(probe), prefix, "tags"));
  CRM_RETURN_IF_ERROR(NormalizeTags(e.add_tags, prefix, "add_tags"));
  return NormalizeTags(e.remove_tags, prefix, "remove_tags");
}

absl::StatusOr<Edited> ApplyEdits(const TicketEdits& e, const Ticket& t, absl::Time now) {
  Edited out{t, {}};
  Ticket patch;
  if (e.status && *e.status != t.status) {
    patch.status = *e.status;
    out.paths.push_back("status");
  }
  if (e.priority && *e.priority != t.priority) {
    patch.priority = *e.priority;
    out.paths.push_back("priority");
  }
  const auto set = [&](const std::string& value, const std::string& current, std::string& field,
                       const char* path) {
    if (value.empty() || value == current) return;
    field = value;
    out.paths.push_back(path);
  };
  set(e.type, t.type, patch.type, "type");
  set(e.queue, t.queue, patch.queue, "queue");
  set(e.assignee, t.assignee, patch.assignee, "assignee");
  std::vector<std::string> tags = t.tags;
  for (const std::string& tag : e.add_tags) {
    if (std::find(tags.begin(), tags.end(), tag) == tags.end()) tags.push_back(tag);
  }
  tags.erase(std::remove_if(tags.begin(), tags.end(),
                            [&](const std::string& tag) {
                              return std::find(e.remove_tags.begin(), e.remove_tags.end(), tag) !=
                                     e.remove_tags.end();
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
  return out;
}

}  // namespace crm::service_desk::domain
