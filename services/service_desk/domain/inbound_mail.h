#pragma once
// Inbound mail as the desk reads it, and the rules that do not need storage
// (docs/service-desk.md, "Inbound email"): whether a mail is machine-made
// (never auto-answered), the ids it threads by in their order, the tokens
// our outgoing mail carries (a hidden reference in the body, the ticket
// number in the subject), a mail's identity when it has no Message-ID, and
// the subject as a thread key. The MIME parsing itself is mail/mime.h's
// (GMime); this file is pure: std and Abseil only.
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace crm::service_desk::domain {

struct MailAddress {
  std::string name;  // display name, decoded (may be empty)
  std::string addr;  // lower-cased addr-spec; "" when the header had none
};

struct MailAttachment {
  std::string filename;      // decoded; may be empty
  std::string content_type;  // "application/pdf"
  int64_t size = 0;          // decoded bytes
  std::string sha256_hex;    // of the decoded bytes
  std::string content;       // the decoded bytes
};

// One parsed mail. Ids are without angle brackets and surrounding spaces.
struct InboundMail {
  std::string message_id;                // "" when the mail has none
  std::vector<std::string> in_reply_to;  // usually one
  std::vector<std::string> references;   // oldest first, as written
  MailAddress from;
  std::vector<MailAddress> reply_to;
  std::vector<MailAddress> to;
  std::vector<MailAddress> cc;
  std::string subject;  // decoded to UTF-8, unfolded
  std::optional<absl::Time> date;
  // The text of the mail (UTF-8): its text/plain part, else its HTML as
  // text; forwarded and attached messages are not part of it.
  std::string text;
  std::vector<MailAttachment> attachments;
  // Headers the loop rules read, lower-case name → first value (trimmed):
  // return-path, auto-submitted, x-auto-response-suppress, precedence,
  // list-id, list-unsubscribe, x-autoreply and its kin (kLoopHeaders).
  std::map<std::string, std::string> headers;
  // RFC 3464: a delivery report (multipart/report; report-type=
  // delivery-status) and the Message-IDs of the mail it reports on (from
  // its attached message or headers part, or Original-Message-ID).
  bool delivery_report = false;
  std::vector<std::string> reported_ids;
  int64_t raw_size = 0;  // bytes of the raw mail
};

// The headers InboundMail::headers keeps (lower-case).
const std::vector<std::string>& LoopHeaders();

// Why a mail is machine-made; the first that applies in this order.
enum class MachineReason {
  kNone = 0,
  kDeliveryReport,        // RFC 3464 report
  kOwnAddress,            // From one of the desk's own addresses or domains
  kSystemSender,          // mailer-daemon@, postmaster@
  kEmptyReturnPath,       // Return-Path: <>
  kAutoSubmitted,         // RFC 3834 Auto-Submitted other than "no"
  kAutoreplyHeader,       // X-Autoreply, X-Autorespond and their kin
  kAutoResponseSuppress,  // X-Auto-Response-Suppress (Exchange)
  kPrecedence,            // Precedence: bulk, junk, list, auto_reply
  kList,                  // List-Id, List-Unsubscribe
};
// "delivery_report", "own_address", ...; "" for kNone.
const char* MachineReasonName(MachineReason r);

// The desk's own addresses: exact addresses ("support@desk.example") and
// whole domains ("desk.example": every address at it and its subdomains).
struct OwnAddresses {
  std::vector<std::string> addresses;  // lower-case
  std::vector<std::string> domains;    // lower-case
  bool Contains(absl::string_view addr) const;
};

MachineReason MachineMade(const InboundMail& m, const OwnAddresses& own);

// A mailbox of the desk: where mail arrives, and its threading settings.
struct Mailbox {
  std::string id;
  std::string address;  // lower-case; fixed at creation
  // The desk's own addresses for the loop rules: the mailbox's address and
  // the domains the tenant sends from (own_domains).
  OwnAddresses own;
  // A reply to a ticket solved longer ago than this opens a follow-up.
  absl::Duration reopen_window = absl::Hours(24 * 14);
  // A mail from the sender of a ticket of this mailbox with the same
  // subject (ThreadSubject) within this window joins it; zero: off.
  absl::Duration same_subject_window = absl::ZeroDuration();
  // The display name of the mail the desk sends from the address.
  std::string name;
  // The automatic answer to a person's mail that opens a ticket
  // (domain/outbound_mail.h: the limits and the template fields).
  bool auto_reply = false;
  std::string auto_reply_subject;  // "" : the default
  std::string auto_reply_body;     // "" : the default
  int64_t version = 0;  // the etag
  absl::Time create_time = absl::InfinitePast();
  absl::Time update_time = absl::InfinitePast();
};
inline constexpr size_t kMaxOwnDomains = 20;
inline constexpr absl::Duration kMaxReopenWindow = absl::Hours(24 * 365);
inline constexpr absl::Duration kMaxSameSubjectWindow = absl::Hours(24 * 30);

// Lower-cases and trims the address and the domains, sets own.addresses to
// the address, then checks: the address an addr-spec of at most 254
// characters (no spaces, one '@'), each domain [a-z0-9.-] of 1..253, at
// most kMaxOwnDomains, unique; reopen window 1 s..365 days, same-subject
// window 0..30 days; the name at most 200 characters on one line; the
// auto-reply's subject (one line, at most 500 characters) and body (at
// most 20,000) valid UTF-8 with no fields but the template's
// (domain/outbound_mail.h). INVALID_ARGUMENT naming the field (address,
// own_domains[2], reopen_window_seconds, same_subject_window_seconds, name,
// auto_reply.subject, auto_reply.body).
absl::Status NormalizeAndValidate(Mailbox& m);

// The ids a mail threads by, in the order they are tried: a delivery
// report's reported ids, then In-Reply-To, then References newest first;
// each once, none empty, at most kMaxThreadIds.
inline constexpr size_t kMaxThreadIds = 50;
std::vector<std::string> ThreadIds(const InboundMail& m);

// Normalizes one id as stored: no angle brackets, no surrounding spaces or
// comments; "" when nothing is left. Case is kept (ids are case-sensitive).
std::string NormalizeMessageId(absl::string_view raw);
// Every id of an In-Reply-To or References value: "<a@x> <b@y>", ids
// without brackets, comments and folding between them.
std::vector<std::string> ParseMessageIds(absl::string_view value);

// The hidden reference our outgoing mail carries at the end of its body,
// "[ref:<ticket id>]", and the ticket id of the first such token in a text.
std::string TicketReference(absl::string_view ticket_id);
std::optional<std::string> FindTicketReference(absl::string_view text);

// The Message-ID (without brackets) of our outgoing mail for a ticket
// message, sent through a mailbox: "<message id>@<the mailbox's domain>".
std::string OutgoingMessageId(absl::string_view message_id, absl::string_view mailbox_address);

// The ticket number our outgoing subjects carry, "[#<number>]"; the first
// such token of a subject (positive, at most 18 digits).
std::string SubjectWithNumber(absl::string_view subject, int64_t number);
std::optional<int64_t> FindSubjectNumber(absl::string_view subject);

// The subject without reply and forward prefixes (Re:, RE:, Fwd:, FW:, AW:,
// WG:, SV:, VS:, TR:, RV:, Antw:, 回复:, 答复:, 转发:, 답장:, 회신:, 전달:
// and "Re[2]:"), our number token and surrounding spaces, lower-cased: the
// key of the same-sender same-subject rule.
std::string ThreadSubject(absl::string_view subject);

// The visible text of an HTML body: tags dropped (script, style, head and
// comments with their content), block ends (br, p, div, tr, li, h1-h6,
// blockquote) as line breaks, entities decoded, runs of blank lines cut to
// one.
std::string HtmlToText(absl::string_view html);

// `s` as storable text: valid UTF-8 (each invalid byte becomes U+FFFD), no
// NUL, CR LF as LF.
std::string CleanText(absl::string_view s);

// What a mail becomes on a ticket: its subject (no line breaks, at most
// kMaxSubject characters; "(no subject)" when empty) and its text as a
// message body (at most kMaxBody characters, a longer text cut with a note
// saying so; "(no text)" when empty, with the attachments' count).
std::string MailSubject(const InboundMail& m);
std::string MailSenderName(const InboundMail& m);  // at most 200 characters
std::string MailBody(const InboundMail& m);

// A mail's identity in its mailbox: its Message-ID, or for a mail without
// one an id derived from what a relay does not change (From, the recipients,
// Date, Subject and the text): "<sha256 hex>@derived.invalid".
std::string MailIdentity(const InboundMail& m);

}  // namespace crm::service_desk::domain
