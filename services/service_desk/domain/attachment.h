#pragma once
// Attachments of a ticket's messages (docs/service-desk.md, "Attachments"):
// their limits, the checks of an agent's upload and the names a mail's
// parts get. The bytes are stored once per tenant by their SHA-256 (two
// uploads of one file share them). Pure: std and Abseil only.
#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace crm::service_desk::domain {

inline constexpr int64_t kMaxAttachmentBytes = 10 << 20;  // one file, decoded
inline constexpr size_t kMaxMessageAttachments = 20;
// A public reply's files together when the reply leaves as mail (what mail
// servers commonly take, base64 making it a third larger on the wire).
inline constexpr int64_t kMaxMailAttachmentBytes = 20 << 20;
inline constexpr size_t kMaxFilename = 255;     // characters
inline constexpr size_t kMaxContentType = 255;  // bytes
inline constexpr char kDefaultContentType[] = "application/octet-stream";

struct Attachment {
  std::string id;
  std::string ticket_id;
  std::string message_id;  // "" while uploaded and not yet on a message
  std::string filename;
  std::string content_type;  // "application/pdf"
  int64_t size = 0;
  std::string sha256_hex;
  std::string uploaded_by;  // the agent's principal, or "mail"
  absl::Time create_time = absl::InfinitePast();
};

// An agent's upload: the filename trimmed (1..255 characters, no path
// separator, no control character), the media type lower-cased with its
// parameters kept ("" → application/octet-stream; else type/subtype of
// token characters, at most 255 bytes), 1..kMaxAttachmentBytes bytes.
// INVALID_ARGUMENT INVALID_FIELD naming filename, content_type or content;
// RESOURCE_EXHAUSTED ATTACHMENT_TOO_LARGE for a file over the limit.
absl::Status NormalizeUpload(Attachment& a, int64_t content_bytes);

// OK when a reply's files may leave with its mail: at most
// kMaxMailAttachmentBytes together (RESOURCE_EXHAUSTED ATTACHMENT_TOO_LARGE,
// field attachment_ids).
absl::Status CheckMailAttachments(const std::vector<Attachment>& files);

// A mail part's name as stored: its own name made safe (path separators
// and control characters replaced by '_', at most 255 characters), else
// "attachment-<n>" (n from 1). Its media type likewise, else the default.
std::string SafeFilename(absl::string_view name, int n);
std::string SafeContentType(absl::string_view type);

}  // namespace crm::service_desk::domain
