#pragma once
// Mail the desk sends (docs/service-desk.md, "Outbound email"): public
// replies of tickets that came by mail and automatic answers to a person's
// mail. The desk writes each with its ticket's write; the delivery engine
// sends it (ticket.mail_queued) with the headers that thread it and keep
// machines from answering it. Pure.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "services/service_desk/domain/attachment.h"
#include "services/service_desk/domain/inbound_mail.h"

namespace crm::service_desk::domain {

// A public reply; an acknowledgement of a new ticket; the public reply of
// the macro that answers a question by its intent (auto-response); a
// satisfaction survey (domain/survey.h). The automatic kinds leave with
// Auto-Submitted: auto-replied.
enum class OutboundKind { kReply, kAutoReply, kAutoResponse, kSurvey };
// "reply", "auto_reply", "auto_response", "survey"
const char* OutboundKindName(OutboundKind k);
std::optional<OutboundKind> OutboundKindFromName(absl::string_view name);
inline bool AutoSubmitted(OutboundKind k) { return k != OutboundKind::kReply; }

struct OutboundMail {
  std::string id;  // UUID: delivery's request for it
  std::string ticket_id;
  std::string ticket_message_id;  // the public reply; "" for an auto-reply
  std::string mailbox_id;
  OutboundKind kind = OutboundKind::kReply;
  std::string from_addr;  // the mailbox's address
  std::string from_name;  // the mailbox's name
  std::string to_addr;
  std::string to_name;
  std::string subject;
  std::string body;                     // text/plain, with the ticket's hidden reference at its end
  std::string message_id;               // without brackets (OutgoingMessageId)
  std::string in_reply_to;              // the mail it answers ("" for none)
  std::vector<std::string> references;  // oldest first, at most kMaxReferences
  absl::Time create_time = absl::InfinitePast();
  // The reply's files with their bytes, read with the mail (GetOutboundMail:
  // what delivery attaches); not part of what QueueMail keeps.
  struct File {
    Attachment attachment;
    std::string content;
  };
  std::vector<File> files;
};
inline constexpr size_t kMaxReferences = 20;

// Whether a mail id can go into In-Reply-To or References: an id the sender
// wrote (not one derived from a mail's content), printable ASCII without
// spaces or angle brackets, at most 250 characters.
bool ReferableMessageId(absl::string_view id);

// The subject of a reply: "Re: <subject> [#<number>]" (the subject without
// its reply prefixes and number, so replies of replies do not pile them up).
std::string ReplySubject(absl::string_view ticket_subject, int64_t number);

// The body as sent: the text, then a blank line and the ticket's hidden
// reference (TicketReference), which threads an answer whose client kept
// no headers.
std::string OutgoingBody(absl::string_view text, absl::string_view ticket_id);

// The References of a mail answering a thread whose ids are `thread`
// (oldest first): the referable ones, each once, the newest kMaxReferences.
std::vector<std::string> ReferencesOf(const std::vector<std::string>& thread);

// A mail of the desk on a ticket, answering its thread: from the
// mailbox's address and name, In-Reply-To the mail it answers (when
// referable), References ReferencesOf(thread) (the ticket's mail ids,
// oldest first), the body OutgoingBody(text).
struct Answer {
  std::string id;          // the outbound mail's id
  std::string message_id;  // its Message-ID (OutgoingMessageId)
  std::string to_addr;
  std::string to_name;
  std::string answering;  // the mail id it answers
  std::string subject;
  std::string text;
  absl::Time time;
};
OutboundMail AnswerOnTicket(OutboundKind kind, const Answer& a, const Mailbox& mailbox,
                            const std::string& ticket_id, const std::vector<std::string>& thread);

// Auto-replies. The template fields, written {{ticket.number}},
// {{ticket.subject}}, {{requester.name}} (the sender's name, else their
// address), {{mailbox.address}}; no other "{{" may appear.
struct AutoReplyFields {
  int64_t ticket_number = 0;
  std::string ticket_subject;
  std::string requester_name;
  std::string mailbox_address;
};
// INVALID_ARGUMENT naming `field` for an unknown field or a "{{" left open,
// a NUL, more than `max_chars` characters, or (single_line) a line break.
absl::Status CheckAutoReplyTemplate(absl::string_view field, absl::string_view text,
                                    size_t max_chars, bool single_line);
std::string FillAutoReply(absl::string_view text, const AutoReplyFields& f);
inline constexpr size_t kMaxAutoReplySubject = 500;
inline constexpr size_t kMaxAutoReplyBody = 20'000;
// Used when the mailbox leaves them empty.
inline constexpr char kDefaultAutoReplySubject[] = "{{ticket.subject}}";
inline constexpr char kDefaultAutoReplyBody[] =
    "Hello {{requester.name}},\n\n"
    "we have received your message and will answer it as soon as we can. Your request "
    "has the number {{ticket.number}}; please keep it in the subject when you write "
    "about it.\n\n"
    "This answer was sent automatically: there is no need to reply to it.";

// The loop limits (docs/service-desk.md, "Loop safety"): at most one
// auto-reply per sender per mailbox in kAutoReplyInterval; more than
// kBurstLimit mails from one sender with one subject within kBurstWindow
// quarantine the sender for kQuarantine (no auto-reply, no new ticket).
inline constexpr absl::Duration kAutoReplyInterval = absl::Hours(24);
inline constexpr int kBurstLimit = 15;
inline constexpr absl::Duration kBurstWindow = absl::Seconds(60);
inline constexpr absl::Duration kQuarantine = absl::Hours(1);

// Why a mail got its auto-reply or did not, in the order checked.
enum class AutoReplyVerdict {
  kSent,              // queued for delivery
  kOff,               // the mailbox sends none
  kMachine,           // machine-made mail (the loop rules) is never answered
  kNotNewTicket,      // the mail joined a ticket: only a new ticket is answered
  kQuarantined,       // the sender is quarantined (or this mail started it)
  kAnsweredRecently,  // the sender got one from this mailbox within the interval
  kAutoResponse       // the macro of the mail's intent answered it instead
};
const char* AutoReplyVerdictName(AutoReplyVerdict v);  // "sent", "off", ...

struct AutoReplyFacts {
  bool enabled = false;
  bool new_ticket = false;
  bool machine = false;
  bool quarantined = false;
};
// Everything but the interval, which the store decides atomically: kSent
// means "send if the sender's interval allows".
AutoReplyVerdict DecideAutoReply(const AutoReplyFacts& f);

// Auto-response (docs/service-desk.md, "Auto-response"): why a mail was
// answered by the macro bound to its intent or was not, in the order
// checked. The loop rules are the auto-reply's: the two share the
// sender's one automatic mail per interval.
enum class AutoResponseVerdict {
  kSent,              // the macro applied, its reply queued for delivery
  kMachine,           // machine-made mail is never answered
  kNotNewTicket,      // only a mail opening a ticket is answered
  kQuarantined,       // the sender is quarantined
  kNoIntent,          // no intent classifier, or it does not know the mail
  kNoMacro,           // no auto-responding macro with a public reply for the label
  kAnsweredRecently,  // the sender got an automatic mail within the interval
  kRefused            // the macro does not apply to the ticket (its changes, its reply)
};
const char* AutoResponseVerdictName(AutoResponseVerdict v);  // "sent", "machine", ...

struct AutoResponseFacts {
  bool new_ticket = false;
  bool machine = false;
  bool quarantined = false;
  bool intent_known = false;  // an intent answered at or above its threshold
  bool macro = false;         // an auto-responding macro with a public reply is bound to it
};
// Everything but the interval and the macro's application, which the
// write decides: kSent means "answer if those allow".
AutoResponseVerdict DecideAutoResponse(const AutoResponseFacts& f);

// Whether a mail makes a burst: `recent` is how many mails of the sender
// with this subject the mailbox received within kBurstWindow before it.
inline bool StartsQuarantine(int recent) { return recent + 1 > kBurstLimit; }

}  // namespace crm::service_desk::domain
