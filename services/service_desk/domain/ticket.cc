#include "services/service_desk/domain/ticket.h"

#include <algorithm>
#include <array>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "libs/common/errors.h"
#include "libs/common/id.h"
#include "libs/common/status_macros.h"
#include "libs/common/text.h"

namespace crm::service_desk::domain {
namespace {

template <typename E, size_t N>
std::optional<E> FromName(const std::array<std::pair<E, const char*>, N>& names,
                          const std::string& name) {
  for (const auto& [value, text] : names) {
    if (name == text) return value;
  }
  return std::nullopt;
}
template <typename E, size_t N>
const char* NameOf(const std::array<std::pair<E, const char*>, N>& names, E value) {
  for (const auto& [v, text] : names) {
    if (v == value) return text;
  }
  return "";
}

constexpr std::array<std::pair<TicketStatus, const char*>, 7> kStatuses = {{
    {TicketStatus::kNew, "new"},
    {TicketStatus::kOpen, "open"},
    {TicketStatus::kPendingCustomer, "pending_customer"},
    {TicketStatus::kPendingThirdParty, "pending_third_party"},
    {TicketStatus::kOnHold, "on_hold"},
    {TicketStatus::kSolved, "solved"},
    {TicketStatus::kClosed, "closed"},
}};
constexpr std::array<std::pair<Priority, const char*>, 4> kPriorities = {{
    {Priority::kLow, "low"},
    {Priority::kNormal, "normal"},
    {Priority::kHigh, "high"},
    {Priority::kUrgent, "urgent"},
}};
constexpr std::array<std::pair<Channel, const char*>, 5> kChannels = {{
    {Channel::kEmail, "email"},
    {Channel::kWebForm, "web_form"},
    {Channel::kChat, "chat"},
    {Channel::kPhone, "phone"},
    {Channel::kApi, "api"},
}};
constexpr std::array<std::pair<MessageKind, const char*>, 3> kMessageKinds = {{
    {MessageKind::kPublicReply, "public_reply"},
    {MessageKind::kInternalNote, "internal_note"},
    {MessageKind::kCustomer, "customer"},
}};

std::vector<TicketStatus> MovesFrom(TicketStatus from) {
  switch (from) {
    case TicketStatus::kNew:
      return {TicketStatus::kOpen, TicketStatus::kPendingCustomer, TicketStatus::kPendingThirdParty,
              TicketStatus::kOnHold, TicketStatus::kSolved};
    case TicketStatus::kOpen:
      return {TicketStatus::kPendingCustomer, TicketStatus::kPendingThirdParty,
              TicketStatus::kOnHold, TicketStatus::kSolved};
    case TicketStatus::kPendingCustomer:
    case TicketStatus::kPendingThirdParty:
    case TicketStatus::kOnHold: {
      std::vector<TicketStatus> out;
      for (TicketStatus s :
           {TicketStatus::kOpen, TicketStatus::kPendingCustomer, TicketStatus::kPendingThirdParty,
            TicketStatus::kOnHold, TicketStatus::kSolved}) {
        if (s != from) out.push_back(s);
      }
      return out;
    }
    case TicketStatus::kSolved:
      return {TicketStatus::kOpen, TicketStatus::kClosed};
    case TicketStatus::kClosed:
      return {};
  }
  return {};
}

absl::Status Closed() {
  return common::WithReason(
      absl::FailedPreconditionError(
          "the ticket is closed and changes no more; a new message opens a new ticket"),
      "TICKET_CLOSED");
}

absl::Status BadMask(const std::string& path, const std::string& why) {
  return common::InvalidField("update_mask", absl::StrCat("update_mask path \"", path, "\" ", why));
}

absl::Status CheckShort(const char* field, const std::string& value, size_t max) {
  CRM_RETURN_IF_ERROR(common::CheckStorableText(field, value));
  if (CharCount(value) > max) {
    return common::InvalidField(field, absl::StrCat(field, " is at most ", max, " characters"));
  }
  return absl::OkStatus();
}

bool IsTagChar(char c) {
  return absl::ascii_islower(c) || absl::ascii_isdigit(c) || c == '_' || c == '-';
}

bool IsFieldKey(const std::string& k) {
  if (k.empty() || k.size() > 64 || !absl::ascii_islower(k[0])) return false;
  return std::all_of(k.begin(), k.end(), [](char c) {
    return absl::ascii_islower(c) || absl::ascii_isdigit(c) || c == '_';
  });
}

}  // namespace

const char* StatusName(TicketStatus s) { return NameOf(kStatuses, s); }
std::optional<TicketStatus> StatusFromName(const std::string& n) { return FromName(kStatuses, n); }
const char* PriorityName(Priority p) { return NameOf(kPriorities, p); }
std::optional<Priority> PriorityFromName(const std::string& n) { return FromName(kPriorities, n); }
const char* ChannelName(Channel c) { return NameOf(kChannels, c); }
std::optional<Channel> ChannelFromName(const std::string& n) { return FromName(kChannels, n); }
const char* MessageKindName(MessageKind k) { return NameOf(kMessageKinds, k); }
std::optional<MessageKind> MessageKindFromName(const std::string& n) {
  return FromName(kMessageKinds, n);
}

size_t CharCount(const std::string& s) {
  size_t n = 0;
  for (char c : s) {
    if ((static_cast<unsigned char>(c) & 0xC0) != 0x80) ++n;
  }
  return n;
}

std::string EtagOf(const Ticket& t) { return absl::StrCat(t.version); }

VisitSubject VisitSubjectOf(const Ticket& t) {
  VisitSubject s;
  if (t.visitor_id.empty()) {
    s.customer_id = t.customer_id;
  } else {
    s.visitor_id = t.visitor_id;
  }
  s.at = t.create_time;
  return s;
}

absl::Status NormalizeAndValidate(Ticket& t) {
  t.subject = std::string(absl::StripAsciiWhitespace(t.subject));
  if (t.subject.empty()) return common::InvalidField("subject", "subject is required");
  CRM_RETURN_IF_ERROR(CheckShort("subject", t.subject, kMaxSubject));
  CRM_RETURN_IF_ERROR(CheckShort("type", t.type, 64));
  CRM_RETURN_IF_ERROR(CheckShort("queue", t.queue, 64));
  CRM_RETURN_IF_ERROR(CheckShort("assignee", t.assignee, 128));
  if (!t.visitor_id.empty() && !common::IsVisitorId(t.visitor_id)) {
    return common::InvalidField("visitor_id",
                                "visitor_id is 1..128 characters of A-Z, a-z, 0-9, '.', '_', ':' "
                                "and '-' (the id the site tracks behaviour events with)");
  }
  for (size_t i = 0; i < t.tags.size(); ++i) {
    std::string& tag = t.tags[i];
    tag = absl::AsciiStrToLower(absl::StripAsciiWhitespace(tag));
    const std::string field = absl::StrCat("tags[", i, "]");
    if (tag.empty() || tag.size() > 64 || !std::all_of(tag.begin(), tag.end(), IsTagChar)) {
      return common::InvalidField(
          field, absl::StrCat(field, " must be 1..64 characters of a-z, 0-9, _ and -"));
    }
  }
  std::sort(t.tags.begin(), t.tags.end());
  t.tags.erase(std::unique(t.tags.begin(), t.tags.end()), t.tags.end());
  if (t.tags.size() > kMaxTags) {
    return common::InvalidField("tags", absl::StrCat("a ticket has at most ", kMaxTags, " tags"));
  }
  if (t.custom_fields.size() > kMaxCustomFields) {
    return common::InvalidField(
        "custom_fields", absl::StrCat("a ticket has at most ", kMaxCustomFields, " custom fields"));
  }
  for (const auto& [key, value] : t.custom_fields) {
    const std::string field = absl::StrCat("custom_fields.", key);
    if (!IsFieldKey(key)) {
      return common::InvalidField(
          "custom_fields",
          absl::StrCat("custom field key \"", key, "\" must match [a-z][a-z0-9_]{0,63}"));
    }
    CRM_RETURN_IF_ERROR(CheckShort(field.c_str(), value, kMaxCustomValue));
  }
  return absl::OkStatus();
}

absl::Status CheckStatusMove(TicketStatus from, TicketStatus to) {
  if (from == TicketStatus::kClosed) return Closed();
  if (from == to) return absl::OkStatus();
  std::vector<TicketStatus> moves = MovesFrom(from);
  if (std::find(moves.begin(), moves.end(), to) != moves.end()) return absl::OkStatus();
  std::vector<std::string> names;
  for (TicketStatus s : moves) names.emplace_back(StatusName(s));
  return common::WithField(
      common::WithReason(absl::FailedPreconditionError(absl::StrCat(
                             "a ", StatusName(from), " ticket cannot become ", StatusName(to),
                             "; it can become ", absl::StrJoin(names, ", "))),
                         "TICKET_STATUS_INVALID"),
      "status");
}

absl::Status ApplyTicketMask(const Ticket& patch, const std::vector<std::string>& paths,
                             absl::Time now, Ticket& target) {
  if (paths.empty()) return BadMask("", "is empty: name at least one field");
  if (target.status == TicketStatus::kClosed) return Closed();
  for (const std::string& p : paths) {
    if (p == "status") {
      CRM_RETURN_IF_ERROR(CheckStatusMove(target.status, patch.status));
      if (patch.status == TicketStatus::kSolved && target.status != TicketStatus::kSolved) {
        target.solve_time = now;
      }
      if (patch.status != target.status) target.status_time = now;
      target.status = patch.status;
    } else if (p == "priority") {
      target.priority = patch.priority;
    } else if (p == "type") {
      target.type = patch.type;
    } else if (p == "tags") {
      target.tags = patch.tags;
    } else if (p == "queue") {
      target.queue = patch.queue;
    } else if (p == "assignee") {
      target.assignee = patch.assignee;
    } else if (p == "subject") {
      target.subject = patch.subject;
    } else if (p == "custom_fields") {
      target.custom_fields = patch.custom_fields;
    } else if (absl::StartsWith(p, "custom_fields.")) {
      const std::string key = p.substr(sizeof("custom_fields.") - 1);
      auto it = patch.custom_fields.find(key);
      if (it == patch.custom_fields.end() || it->second.empty()) {
        target.custom_fields.erase(key);
      } else {
        target.custom_fields[key] = it->second;
      }
    } else if (p == "id" || p == "number" || p == "customer_id" || p == "requester_email" ||
               p == "channel" || p == "etag" || p == "create_time" || p == "update_time" ||
               p == "solve_time" || p == "status_change_time" || p == "message_count") {
      return BadMask(p, "cannot be changed");
    } else {
      return BadMask(p, "is not a field of Ticket");
    }
  }
  return absl::OkStatus();
}

absl::Status ApplyMessage(const TicketMessage& m, absl::Time now, Ticket& t) {
  if (t.status == TicketStatus::kClosed) return Closed();
  CRM_RETURN_IF_ERROR(common::CheckStorableText("body", m.body));
  if (absl::StripAsciiWhitespace(m.body).empty()) {
    return common::InvalidField("body", "body is required");
  }
  if (CharCount(m.body) > kMaxBody) {
    return common::InvalidField("body", absl::StrCat("body is at most ", kMaxBody, " characters"));
  }
  const TicketStatus was = t.status;
  switch (m.kind) {
    case MessageKind::kCustomer:
      if (t.status != TicketStatus::kNew && t.status != TicketStatus::kOpen) {
        t.status = TicketStatus::kOpen;
      }
      break;
    case MessageKind::kPublicReply:
      if (t.status == TicketStatus::kNew) t.status = TicketStatus::kOpen;
      break;
    case MessageKind::kInternalNote:
      break;
  }
  if (t.status != was) t.status_time = now;
  ++t.message_count;
  t.update_time = now;
  return absl::OkStatus();
}

std::vector<TicketChange> Diff(const Ticket& before, const Ticket& after, const std::string& actor,
                               absl::Time now) {
  std::vector<TicketChange> out;
  auto add = [&](std::string field, std::string from, std::string to) {
    if (from == to) return;
    TicketChange c;
    c.field = std::move(field);
    c.old_value = std::move(from);
    c.new_value = std::move(to);
    c.actor = actor;
    c.time = now;
    out.push_back(std::move(c));
  };
  add("status", StatusName(before.status), StatusName(after.status));
  add("priority", PriorityName(before.priority), PriorityName(after.priority));
  add("type", before.type, after.type);
  add("subject", before.subject, after.subject);
  add("queue", before.queue, after.queue);
  add("assignee", before.assignee, after.assignee);
  add("tags", absl::StrJoin(before.tags, ","), absl::StrJoin(after.tags, ","));
  std::map<std::string, std::pair<std::string, std::string>> fields;
  for (const auto& [k, v] : before.custom_fields) fields[k].first = v;
  for (const auto& [k, v] : after.custom_fields) fields[k].second = v;
  for (const auto& [k, v] : fields) add(absl::StrCat("custom_fields.", k), v.first, v.second);
  return out;
}

}  // namespace crm::service_desk::domain
