#pragma once
// Composing an RFC 5322 / MIME message for SMTP (pure).
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace crm::delivery::domain {

// A pragmatic address check: local@domain with exactly one '@'; a local part
// of 1..64 RFC 5322 atext characters and non-leading, non-trailing, single
// dots (no quoted local parts); a domain of dot-separated letter/digit/hyphen
// labels with at least one dot, or an address literal ("[192.0.2.1]",
// "[IPv6:2001:db8::1]"); at most 254 characters; ASCII only (no spaces,
// control characters, angle brackets or commas).
bool ValidEmailAddress(absl::string_view address);

struct Mailbox {
  std::string name;     // display name, UTF-8; optional
  std::string address;  // see ValidEmailAddress
};

// "address" without a name; else `Name <address>` with the name as plain
// atoms, a quoted string (ASCII with specials) or RFC 2047 B-encoded UTF-8
// words (non-ASCII or control characters). Does not validate.
std::string FormatMailbox(const Mailbox& mailbox);

// A file the message carries (a service-desk reply's attachment).
struct EmailAttachment {
  std::string filename;      // UTF-8, no control characters
  std::string content_type;  // "application/pdf" (parameters kept); else octet-stream
  std::string content;       // the bytes
};

struct Email {
  Mailbox from;
  Mailbox to;
  std::string reply_to;    // address; optional
  std::string subject;     // UTF-8
  std::string text;        // text/plain body, UTF-8; optional if html is set
  std::string html;        // text/html body, UTF-8; optional if text is set
  std::string message_id;  // without brackets: "id@domain"; required
  absl::Time date;
  std::string list_unsubscribe_url;     // https URL (RFC 8058 one-click); optional
  std::string list_unsubscribe_mailto;  // "addr[?subject=...]", "mailto:" optional; optional
  std::vector<std::pair<std::string, std::string>> headers;  // extra, e.g. X-CRM-Message
  std::vector<EmailAttachment> attachments;
};

// The message with CRLF line endings, ready for SMTP DATA (a leading '.' of
// any body line is encoded, so dot-stuffing is never needed but harmless).
// Headers: From, To, Reply-To (when set), Subject (RFC 2047 B-encoded when
// not plain ASCII; every line at most 78 characters), Date (UTC, "+0000"),
// Message-ID, MIME-Version, List-Unsubscribe (+ List-Unsubscribe-Post:
// List-Unsubscribe=One-Click when a URL is set), then the extra headers.
// Body: multipart/alternative (text/plain, then text/html) when both exist,
// a single part otherwise; UTF-8, quoted-printable. With attachments the
// message is multipart/mixed (boundary `boundary` + "_m"): that body
// first (an alternative part's boundary `boundary` + "_a"), then each
// file base64-encoded with
// Content-Disposition: attachment and its name (a quoted ASCII name, else
// RFC 2231 UTF-8 in continuations); a media type that is not
// type/subtype of printable ASCII goes as application/octet-stream.
// InvalidArgument on: CR or LF in any header name or value (header
// injection), invalid addresses or message id, a non-https unsubscribe URL,
// extra headers that are malformed, non-ASCII or set by the composer (also
// Cc, Bcc, Sender), no body, and (multipart only) a boundary that is not
// 1..70 RFC 2046 characters without space (1..68 with attachments), or
// occurs in an encoded part (a boundary starting with "=_" never can), a
// file's name with a control character.
absl::StatusOr<std::string> ComposeEmail(const Email& email, absl::string_view boundary);

// A References header value (RFC 5322 3.6.4) of `ids` (without brackets,
// oldest first) that fits one header line of at most `max_chars`
// characters: "<a> <b> ..."; when all do not fit, the first id (the
// thread's root) and as many of the newest as fit after it. Ids that are
// not printable ASCII without spaces or angle brackets are left out.
std::string ReferencesHeader(const std::vector<std::string>& ids, size_t max_chars = 900);

// An https:// URL, as RFC 8058 wants for one-click unsubscribes; or, for
// local test servers only, an http:// URL whose host is loopback
// (127.0.0.0/8 in dotted decimal, localhost, [::1]).
bool IsUnsubscribeUrl(absl::string_view url);

// RFC 2045 quoted-printable with CRLF hard line breaks (bare CR and LF in the
// input become line breaks too), lines of at most 76 characters, '=',
// non-ASCII and control bytes and trailing whitespace encoded, and '.' (and
// the 'F' of "From ") at the start of a line encoded. Exposed for tests.
std::string QuotedPrintable(absl::string_view data);

}  // namespace crm::delivery::domain
