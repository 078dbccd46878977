#include "services/service_desk/domain/outbound_mail.h"

#include <set>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "libs/common/errors.h"
#include "services/service_desk/domain/inbound_mail.h"
#include "services/service_desk/domain/template.h"
#include "services/service_desk/domain/ticket.h"

namespace crm::service_desk::domain {
namespace {

// The auto-replies' template fields.
const std::vector<absl::string_view>& AutoReplyNames() {
  static const auto* const kNames = new std::vector<absl::string_view>{
      "ticket.number", "ticket.subject", "requester.name", "mailbox.address"};
  return *kNames;
}

}  // namespace

const char* OutboundKindName(OutboundKind k) {
  switch (k) {
    case OutboundKind::kReply:
      return "reply";
    case OutboundKind::kAutoReply:
      return "auto_reply";
    case OutboundKind::kAutoResponse:
      return "auto_response";
    case OutboundKind::kSurvey:
      return "survey";
  }
  return "";
}

std::optional<OutboundKind> OutboundKindFromName(absl::string_view name) {
  for (OutboundKind k : {OutboundKind::kReply, OutboundKind::kAutoReply,
                         OutboundKind::kAutoResponse, OutboundKind::kSurvey}) {
    if (name == OutboundKindName(k)) return k;
  }
  return std::nullopt;
}

const char* AutoReplyVerdictName(AutoReplyVerdict v) {
  switch (v) {
    case AutoReplyVerdict::kSent:
      return "sent";
    case AutoReplyVerdict::kOff:
      return "off";
    case AutoReplyVerdict::kNotNewTicket:
      return "not_new_ticket";
    case AutoReplyVerdict::kMachine:
      return "machine";
    case AutoReplyVerdict::kQuarantined:
      return "quarantined";
    case AutoReplyVerdict::kAnsweredRecently:
      return "answered_recently";
    case AutoReplyVerdict::kAutoResponse:
      return "auto_response";
  }
  return "";
}

const char* AutoResponseVerdictName(AutoResponseVerdict v) {
  switch (v) {
    case AutoResponseVerdict::kSent:
      return "sent";
    case AutoResponseVerdict::kMachine:
      return "machine";
    case AutoResponseVerdict::kNotNewTicket:
      return "not_new_ticket";
    case AutoResponseVerdict::kQuarantined:
      return "quarantined";
    case AutoResponseVerdict::kNoIntent:
      return "no_intent";
    case AutoResponseVerdict::kNoMacro:
      return "no_macro";
    case AutoResponseVerdict::kAnsweredRecently:
      return "answered_recently";
    case AutoResponseVerdict::kRefused:
      return "refused";
  }
  return "";
}

bool ReferableMessageId(absl::string_view id) {
  if (id.empty() || id.size() > 250 || absl::EndsWith(id, "@derived.invalid")) return false;
  for (char c : id) {
    const auto u = static_cast<unsigned char>(c);
    if (u <= 0x20 || u >= 0x7F || c == '<' || c == '>') return false;
  }
  return true;
}

std::string ReplySubject(absl::string_view ticket_subject, int64_t number) {
  const absl::string_view bare = absl::StripAsciiWhitespace(ticket_subject);
  const bool has_re = bare.size() >= 3 && absl::StartsWithIgnoreCase(bare, "re:");
  return SubjectWithNumber(has_re ? std::string(bare) : absl::StrCat("Re: ", bare), number);
}

std::string OutgoingBody(absl::string_view text, absl::string_view ticket_id) {
  return absl::StrCat(absl::StripTrailingAsciiWhitespace(text), "\n\n", TicketReference(ticket_id),
                      "\n");
}

std::vector<std::string> ReferencesOf(const std::vector<std::string>& thread) {
  std::vector<std::string> out;
  std::set<std::string> seen;
  for (const std::string& id : thread) {
    if (ReferableMessageId(id) && seen.insert(id).second) out.push_back(id);
  }
  if (out.size() > kMaxReferences) out.erase(out.begin(), out.end() - kMaxReferences);
  return out;
}

OutboundMail AnswerOnTicket(OutboundKind kind, const Answer& a, const Mailbox& mailbox,
                            const std::string& ticket_id, const std::vector<std::string>& thread) {
  OutboundMail m;
  m.id = a.id;
  m.ticket_id = ticket_id;
  m.mailbox_id = mailbox.id;
  m.kind = kind;
  m.from_addr = mailbox.address;
  m.from_name = mailbox.name;
  m.to_addr = a.to_addr;
  m.to_name = a.to_name;
  m.subject = a.subject;
  m.body = OutgoingBody(a.text, ticket_id);
  m.message_id = a.message_id;
  if (ReferableMessageId(a.answering)) m.in_reply_to = a.answering;
  std::vector<std::string> earlier;
  for (const std::string& id : thread) {
    if (id != a.message_id) earlier.push_back(id);
  }
  m.references = ReferencesOf(earlier);
  m.create_time = a.time;
  return m;
}

absl::Status CheckAutoReplyTemplate(absl::string_view field, absl::string_view text,
                                    size_t max_chars, bool single_line) {
  return CheckTemplate(field, text, AutoReplyNames(), max_chars, single_line);
}

std::string FillAutoReply(absl::string_view text, const AutoReplyFields& f) {
  return FillTemplate(text, {{"ticket.number", absl::StrCat(f.ticket_number)},
                             {"ticket.subject", f.ticket_subject},
                             {"requester.name", f.requester_name},
                             {"mailbox.address", f.mailbox_address}});
}

AutoReplyVerdict DecideAutoReply(const AutoReplyFacts& f) {
  if (!f.enabled) return AutoReplyVerdict::kOff;
  if (f.machine) return AutoReplyVerdict::kMachine;
  if (!f.new_ticket) return AutoReplyVerdict::kNotNewTicket;
  if (f.quarantined) return AutoReplyVerdict::kQuarantined;
  return AutoReplyVerdict::kSent;
}

AutoResponseVerdict DecideAutoResponse(const AutoResponseFacts& f) {
  if (f.machine) return AutoResponseVerdict::kMachine;
  if (!f.new_ticket) return AutoResponseVerdict::kNotNewTicket;
  if (f.quarantined) return AutoResponseVerdict::kQuarantined;
  if (!f.intent_known) return AutoResponseVerdict::kNoIntent;
  if (!f.macro) return AutoResponseVerdict::kNoMacro;
  return AutoResponseVerdict::kSent;
}

}  // namespace crm::service_desk::domain
