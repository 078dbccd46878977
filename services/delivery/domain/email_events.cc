#include "services/delivery/domain/email_events.h"

#include <algorithm>
#include <nlohmann/json.hpp>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "libs/common/crypto.h"
#include "libs/common/errors.h"
#include "libs/common/id.h"

namespace crm::delivery::domain {
namespace {

absl::Status Malformed(absl::string_view why) {
  return common::WithReason(absl::InvalidArgumentError(absl::StrCat("not an email event: ", why)),
                            "MALFORMED_BODY");
}

std::string Text(const nlohmann::json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}

// Our Message-ID is "<message uuid>@<sender's domain>" (angle brackets
// optional here); "" for any other.
std::string OurMessageId(absl::string_view header) {
  header = absl::StripAsciiWhitespace(header);
  absl::ConsumePrefix(&header, "<");
  absl::ConsumeSuffix(&header, ">");
  const size_t at = header.find('@');
  if (at == absl::string_view::npos) return "";
  const std::string id(header.substr(0, at));
  return common::IsUuid(id) ? id : "";
}

}  // namespace

std::string MailgunSignature(absl::string_view signing_key, absl::string_view timestamp,
                             absl::string_view token) {
  return common::HexEncode(common::HmacSha256(signing_key, absl::StrCat(timestamp, token)));
}

absl::StatusOr<EmailEvent> ReadMailgunEvent(absl::string_view body, absl::string_view signing_key,
                                            absl::Time now) {
  const nlohmann::json j = nlohmann::json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) return Malformed("the body is not a JSON object");
  auto sig = j.find("signature");
  auto data = j.find("event-data");
  if (sig == j.end() || !sig->is_object() || data == j.end() || !data->is_object()) {
    return Malformed("signature and event-data are required");
  }
  const std::string timestamp = Text(*sig, "timestamp");
  const std::string token = Text(*sig, "token");
  const std::string signature = Text(*sig, "signature");
  int64_t seconds = 0;
  if (signing_key.empty() || token.empty() || !absl::SimpleAtoi(timestamp, &seconds) ||
      !common::ConstantTimeEquals(MailgunSignature(signing_key, timestamp, token),
                                  absl::AsciiStrToLower(signature))) {
    return absl::PermissionDeniedError("the event's signature does not verify");
  }
  if (absl::AbsDuration(now - absl::FromUnixSeconds(seconds)) > kEmailEventWindow) {
    return absl::PermissionDeniedError("the event's timestamp is outside the replay window");
  }
  EmailEvent e;
  const std::string event = Text(*data, "event");
  const std::string severity = Text(*data, "severity");
  if (event == "delivered") {
    e.kind = EmailEventKind::kDelivered;
  } else if (event == "failed" && severity == "permanent") {
    e.kind = EmailEventKind::kBounced;
  } else if (event == "complained") {
    e.kind = EmailEventKind::kComplained;
  }
  e.recipient = absl::AsciiStrToLower(Text(*data, "recipient"));
  if (auto message = data->find("message"); message != data->end() && message->is_object()) {
    if (auto headers = message->find("headers");
        headers != message->end() && headers->is_object()) {
      e.message_id = OurMessageId(Text(*headers, "message-id"));
    }
  }
  if (e.kind == EmailEventKind::kComplained) {
    e.detail = "the recipient reported the message as spam";
  } else if (auto status = data->find("delivery-status");
             status != data->end() && status->is_object()) {
    std::string code;
    if (auto c = status->find("code"); c != status->end() && c->is_number_integer()) {
      code = absl::StrCat(c->get<int64_t>());
    }
    std::string text = Text(*status, "description");
    if (text.empty()) text = Text(*status, "message");
    e.detail = absl::StrCat(code, code.empty() || text.empty() ? "" : " ", text);
  }
  // Stored as text: no NUL, at most 500 bytes, cut between characters.
  e.detail.erase(std::remove(e.detail.begin(), e.detail.end(), '\0'), e.detail.end());
  if (e.detail.size() > 500) {
    size_t n = 500;
    while (n > 0 && (static_cast<unsigned char>(e.detail[n]) & 0xC0) == 0x80) --n;
    e.detail.resize(n);
  }
  e.recipient.erase(std::remove(e.recipient.begin(), e.recipient.end(), '\0'), e.recipient.end());
  return e;
}

}  // namespace crm::delivery::domain
