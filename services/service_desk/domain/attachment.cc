#include "services/service_desk/domain/attachment.h"

#include <algorithm>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "libs/common/errors.h"

namespace crm::service_desk::domain {
namespace {

bool IsControl(unsigned char c) { return c < 0x20 || c == 0x7f; }

// RFC 9110 token characters.
bool IsTokenChar(char c) {
  return absl::ascii_isalnum(static_cast<unsigned char>(c)) ||
         absl::string_view("!#$%&'*+-.^_`|~").find(c) != absl::string_view::npos;
}

bool IsToken(absl::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), IsTokenChar);
}

// "type/subtype" (then parameters, each without control characters).
bool IsMediaType(absl::string_view s) {
  if (s.size() > kMaxContentType) return false;
  if (std::any_of(s.begin(), s.end(), [](char c) { return IsControl(c); })) return false;
  absl::string_view essence = s.substr(0, s.find(';'));
  std::pair<absl::string_view, absl::string_view> parts =
      absl::StrSplit(absl::StripAsciiWhitespace(essence), absl::MaxSplits('/', 1));
  return IsToken(parts.first) && IsToken(parts.second);
}

// Characters, counting UTF-8 sequences as one.
size_t Characters(absl::string_view s) {
  return static_cast<size_t>(std::count_if(
      s.begin(), s.end(), [](char c) { return (static_cast<unsigned char>(c) & 0xC0) != 0x80; }));
}

}  // namespace

absl::Status CheckMailAttachments(const std::vector<Attachment>& files) {
  int64_t total = 0;
  for (const Attachment& f : files) total += f.size;
  if (total <= kMaxMailAttachmentBytes) return absl::OkStatus();
  return common::WithField(
      common::WithReason(absl::ResourceExhaustedError(absl::StrCat(
                             "the reply is mailed with its files: together they are at most ",
                             kMaxMailAttachmentBytes >> 20, " MiB (these are ", total,
                             " bytes); send fewer "
                             "files with each reply")),
                         "ATTACHMENT_TOO_LARGE"),
      "attachment_ids");
}

absl::Status NormalizeUpload(Attachment& a, int64_t content_bytes) {
  a.filename = std::string(absl::StripAsciiWhitespace(a.filename));
  if (a.filename.empty()) return common::InvalidField("filename", "filename is required");
  if (Characters(a.filename) > kMaxFilename) {
    return common::InvalidField("filename",
                                absl::StrCat("filename is at most ", kMaxFilename, " characters"));
  }
  if (std::any_of(a.filename.begin(), a.filename.end(), [](char c) {
        return IsControl(static_cast<unsigned char>(c)) || c == '/' || c == '\\';
      })) {
    return common::InvalidField("filename",
                                "filename is a name without a path: no '/', '\\' or control "
                                "characters");
  }
  a.content_type = absl::AsciiStrToLower(absl::StripAsciiWhitespace(a.content_type));
  if (a.content_type.empty()) a.content_type = kDefaultContentType;
  if (!IsMediaType(a.content_type)) {
    return common::InvalidField("content_type",
                                "content_type is a media type such as application/pdf");
  }
  if (content_bytes <= 0) return common::InvalidField("content", "the file is empty");
  if (content_bytes > kMaxAttachmentBytes) {
    return common::WithReason(
        absl::ResourceExhaustedError(absl::StrCat("a file is at most ", kMaxAttachmentBytes,
                                                  " bytes (10 MiB); this one has ", content_bytes)),
        "ATTACHMENT_TOO_LARGE");
  }
  a.size = content_bytes;
  return absl::OkStatus();
}

std::string SafeFilename(absl::string_view name, int n) {
  std::string out;
  size_t chars = 0;
  for (const char c : name) {
    const bool lead = (static_cast<unsigned char>(c) & 0xC0) != 0x80;
    if (lead && chars == kMaxFilename) break;  // whole characters only
    if (lead) ++chars;
    const bool unsafe = IsControl(static_cast<unsigned char>(c)) || c == '/' || c == '\\';
    out.push_back(unsafe ? '_' : c);
  }
  absl::string_view trimmed = absl::StripAsciiWhitespace(out);
  if (trimmed.empty()) return absl::StrCat("attachment-", n);
  return std::string(trimmed);
}

std::string SafeContentType(absl::string_view type) {
  std::string t = absl::AsciiStrToLower(absl::StripAsciiWhitespace(type));
  return IsMediaType(t) ? t : kDefaultContentType;
}

}  // namespace crm::service_desk::domain
