#include "services/service_desk/mail/mime.h"

#include <gmime/gmime.h>

#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "libs/common/crypto.h"
#include "libs/common/errors.h"

namespace crm::service_desk::mail {
namespace {

using domain::InboundMail;
using domain::MailAddress;

void InitOnce() {
  static std::once_flag once;
  std::call_once(once, [] { g_mime_init(); });
}

struct Unref {
  void operator()(gpointer p) const {
    if (p != nullptr) g_object_unref(p);
  }
};
template <typename T>
using GPtr = std::unique_ptr<T, Unref>;

struct GFree {
  void operator()(char* p) const { g_free(p); }
};

std::string Str(const char* s) { return s == nullptr ? std::string() : std::string(s); }

void AddAddresses(InternetAddressList* list, std::vector<MailAddress>& out) {
  if (list == nullptr) return;
  const int n = internet_address_list_length(list);
  for (int i = 0; i < n && out.size() < 500; ++i) {
    InternetAddress* ia = internet_address_list_get_address(list, i);
    if (INTERNET_ADDRESS_IS_GROUP(ia)) {
      AddAddresses(internet_address_group_get_members(INTERNET_ADDRESS_GROUP(ia)), out);
    } else if (INTERNET_ADDRESS_IS_MAILBOX(ia)) {
      MailAddress a;
      a.name = domain::CleanText(Str(internet_address_get_name(ia)));
      a.addr = domain::CleanText(absl::AsciiStrToLower(absl::StripAsciiWhitespace(
          Str(internet_address_mailbox_get_addr(INTERNET_ADDRESS_MAILBOX(ia))))));
      out.push_back(std::move(a));
    }
  }
}

// A part's decoded content (base64 and quoted-printable undone).
std::string PartBytes(GMimePart* part) {
  GMimeDataWrapper* content = g_mime_part_get_content(part);
  if (content == nullptr) return "";
  GPtr<GMimeStream> mem(g_mime_stream_mem_new());
  g_mime_data_wrapper_write_to_stream(content, mem.get());
  GByteArray* bytes = g_mime_stream_mem_get_byte_array(GMIME_STREAM_MEM(mem.get()));
  return bytes == nullptr ? std::string()
                          : std::string(reinterpret_cast<const char*>(bytes->data), bytes->len);
}

// The ids of the Message-ID (and Original-Message-ID) fields of a header
// block (a text/rfc822-headers part, a delivery-status part).
std::vector<std::string> IdsInHeaderBlock(const std::string& block) {
  std::vector<std::string> ids;
  std::string name, value;
  auto flush = [&] {
    const std::string n = absl::AsciiStrToLower(absl::StripAsciiWhitespace(name));
    if (n == "message-id" || n == "original-message-id") {
      for (std::string& id : domain::ParseMessageIds(value)) ids.push_back(std::move(id));
    }
    name.clear();
    value.clear();
  };
  for (absl::string_view line : absl::StrSplit(block, '\n')) {
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (!line.empty() && (line[0] == ' ' || line[0] == '\t')) {
      absl::StrAppend(&value, " ", line);  // folded
      continue;
    }
    flush();
    const size_t colon = line.find(':');
    if (colon == absl::string_view::npos) continue;
    name = std::string(line.substr(0, colon));
    value = std::string(line.substr(colon + 1));
  }
  flush();
  return ids;
}

domain::MailAttachment AttachmentOf(std::string filename, std::string type,
                                    const std::string& bytes) {
  domain::MailAttachment a;
  a.filename = domain::CleanText(filename);
  a.content_type = std::move(type);
  a.size = static_cast<int64_t>(bytes.size());
  a.sha256_hex = common::HexEncode(common::Sha256(bytes));
  a.content = bytes;
  return a;
}

std::string MimeType(GMimeObject* obj) {
  GMimeContentType* ct = g_mime_object_get_content_type(obj);
  if (ct == nullptr) return "text/plain";
  return absl::AsciiStrToLower(absl::StrCat(Str(g_mime_content_type_get_media_type(ct)), "/",
                                            Str(g_mime_content_type_get_media_subtype(ct))));
}

// The walk over a mail's parts: its text, attachments and report.
struct Walk {
  std::string plain;
  std::string html;
  InboundMail* mail = nullptr;
  int parts = 0;
};

void Visit(GMimeObject* obj, Walk& w) {
  if (obj == nullptr || ++w.parts > 1000) return;  // a pathological tree stops here
  const std::string type = MimeType(obj);
  if (GMIME_IS_MULTIPART(obj)) {
    if (type == "multipart/report") w.mail->delivery_report = true;
    GMimeMultipart* mp = GMIME_MULTIPART(obj);
    const int n = g_mime_multipart_get_count(mp);
    for (int i = 0; i < n; ++i) Visit(g_mime_multipart_get_part(mp, i), w);
    return;
  }
  if (GMIME_IS_MESSAGE_PART(obj)) {
    // A forwarded or reported message: an attachment, never the text.
    GMimeMessage* inner = g_mime_message_part_get_message(GMIME_MESSAGE_PART(obj));
    std::string bytes;
    std::string name = Str(g_mime_object_get_content_disposition_parameter(obj, "filename"));
    if (inner != nullptr) {
      std::unique_ptr<char, GFree> text(g_mime_object_to_string(GMIME_OBJECT(inner), nullptr));
      if (text != nullptr) bytes = text.get();
      if (w.mail->delivery_report) {
        const char* id = g_mime_message_get_message_id(inner);
        if (id != nullptr) {
          const std::string n = domain::NormalizeMessageId(id);
          if (!n.empty()) w.mail->reported_ids.push_back(n);
        }
      }
      if (name.empty()) name = absl::StrCat(Str(g_mime_message_get_subject(inner)), ".eml");
    }
    w.mail->attachments.push_back(AttachmentOf(name, type, bytes));
    return;
  }
  if (!GMIME_IS_PART(obj)) return;
  GMimePart* part = GMIME_PART(obj);
  if (type == "text/rfc822-headers" || type == "message/delivery-status" ||
      type == "message/disposition-notification") {
    const std::string bytes = PartBytes(part);
    if (w.mail->delivery_report || type != "text/rfc822-headers") {
      w.mail->delivery_report = true;
      for (std::string& id : IdsInHeaderBlock(bytes)) w.mail->reported_ids.push_back(id);
    }
    w.mail->attachments.push_back(AttachmentOf(Str(g_mime_part_get_filename(part)), type, bytes));
    return;
  }
  const bool named = g_mime_part_get_filename(part) != nullptr;
  if (GMIME_IS_TEXT_PART(obj) && !g_mime_part_is_attachment(part) && !named &&
      (type == "text/plain" || type == "text/html")) {
    std::unique_ptr<char, GFree> text(g_mime_text_part_get_text(GMIME_TEXT_PART(obj)));
    std::string& into = type == "text/plain" ? w.plain : w.html;
    if (text != nullptr) {
      if (!into.empty()) into += "\n";
      into += text.get();
    }
    return;
  }
  w.mail->attachments.push_back(
      AttachmentOf(Str(g_mime_part_get_filename(part)), type, PartBytes(part)));
}

}  // namespace

absl::StatusOr<InboundMail> ParseMail(absl::string_view raw) {
  if (raw.empty()) return common::InvalidField("raw_mime", "raw_mime is empty");
  if (raw.size() > kMaxRawMail) {
    return common::InvalidField("raw_mime",
                                absl::StrCat("raw_mime is at most ", kMaxRawMail, " bytes"));
  }
  InitOnce();
  GPtr<GMimeStream> stream(g_mime_stream_mem_new_with_buffer(raw.data(), raw.size()));
  GPtr<GMimeParser> parser(g_mime_parser_new_with_stream(stream.get()));
  GPtr<GMimeMessage> message(g_mime_parser_construct_message(parser.get(), nullptr));
  GMimeHeaderList* headers =
      message == nullptr ? nullptr : g_mime_object_get_header_list(GMIME_OBJECT(message.get()));
  if (headers == nullptr || g_mime_header_list_get_count(headers) == 0) {
    return common::InvalidField("raw_mime", "raw_mime is not a mail: it has no header fields");
  }
  InboundMail m;
  m.raw_size = static_cast<int64_t>(raw.size());
  const std::vector<std::string>& loop = domain::LoopHeaders();
  const int count = g_mime_header_list_get_count(headers);
  for (int i = 0; i < count; ++i) {
    GMimeHeader* h = g_mime_header_list_get_header_at(headers, i);
    const std::string name = absl::AsciiStrToLower(Str(g_mime_header_get_name(h)));
    const std::string raw_value = Str(g_mime_header_get_raw_value(h));
    if (name == "message-id" && m.message_id.empty()) {
      std::vector<std::string> ids = domain::ParseMessageIds(raw_value);
      m.message_id = ids.empty() ? domain::NormalizeMessageId(raw_value) : ids.front();
    } else if (name == "in-reply-to") {
      for (std::string& id : domain::ParseMessageIds(raw_value)) m.in_reply_to.push_back(id);
    } else if (name == "references") {
      for (std::string& id : domain::ParseMessageIds(raw_value)) m.references.push_back(id);
    } else if (std::find(loop.begin(), loop.end(), name) != loop.end() &&
               m.headers.count(name) == 0) {
      m.headers[name] =
          domain::CleanText(absl::StripAsciiWhitespace(Str(g_mime_header_get_value(h))));
    }
  }
  m.message_id = domain::CleanText(m.message_id);
  std::vector<MailAddress> from;
  AddAddresses(g_mime_message_get_from(message.get()), from);
  if (from.empty()) AddAddresses(g_mime_message_get_sender(message.get()), from);
  if (!from.empty()) m.from = from.front();
  AddAddresses(g_mime_message_get_reply_to(message.get()), m.reply_to);
  AddAddresses(g_mime_message_get_to(message.get()), m.to);
  AddAddresses(g_mime_message_get_cc(message.get()), m.cc);
  m.subject = domain::CleanText(Str(g_mime_message_get_subject(message.get())));
  if (GDateTime* date = g_mime_message_get_date(message.get())) {
    m.date = absl::FromUnixSeconds(g_date_time_to_unix(date));
  }
  Walk w;
  w.mail = &m;
  Visit(g_mime_message_get_mime_part(message.get()), w);
  m.text = domain::CleanText(!w.plain.empty() ? w.plain : domain::HtmlToText(w.html));
  return m;
}

}  // namespace crm::service_desk::mail
