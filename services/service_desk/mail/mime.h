#pragma once
// Raw RFC 5322 / MIME mail → domain::InboundMail, through GMime (Debian's
// libgmime-3.0): headers decoded (RFC 2047), addresses, the ids a mail
// threads by, the text (text/plain in its charset → UTF-8, else the HTML as
// text), attachments (name, type, decoded size and SHA-256), and what a
// delivery report (RFC 3464) reports on. Thread-safe; GMime is initialized
// once per process.
#include <cstddef>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "services/service_desk/domain/inbound_mail.h"

namespace crm::service_desk::mail {

inline constexpr size_t kMaxRawMail = 25 * 1024 * 1024;  // bytes

// INVALID_ARGUMENT (reason INVALID_FIELD, field raw_mime) for an empty or
// oversized input or one without a header; anything GMime reads as a
// message is accepted (mail in the wild is rarely well-formed).
absl::StatusOr<domain::InboundMail> ParseMail(absl::string_view raw);

}  // namespace crm::service_desk::mail
