#include "services/delivery/domain/providers.h"

#include <algorithm>
#include <array>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "libs/common/crypto.h"
#include "libs/common/errors.h"
#include "nlohmann/json.hpp"

namespace crm::delivery::domain {
namespace {

constexpr std::array<std::pair<ProviderKind, absl::string_view>, 3> kKinds{
    {{ProviderKind::kTwilio, "twilio"},
     {ProviderKind::kOneSignal, "onesignal"},
     {ProviderKind::kMailgun, "mailgun"}}};

// application/x-www-form-urlencoded (RFC 1866 / WHATWG): unreserved bytes
// as they are, space as '+', the rest %XX.
std::string FormEscape(absl::string_view s) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(s.size());
  for (unsigned char c : s) {
    if (absl::ascii_isalnum(c) || c == '-' || c == '_' || c == '.' || c == '*') {
      out.push_back(static_cast<char>(c));
    } else if (c == ' ') {
      out.push_back('+');
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 15]);
    }
  }
  return out;
}

bool AllOf(absl::string_view s, bool (*ok)(unsigned char)) {
  for (unsigned char c : s) {
    if (!ok(c)) return false;
  }
  return true;
}
bool IdChar(unsigned char c) { return absl::ascii_isalnum(c) || c == '-' || c == '_'; }

bool FormUnescape(absl::string_view in, std::string& out) {
  out.clear();
  for (size_t i = 0; i < in.size(); ++i) {
    if (in[i] == '+') {
      out.push_back(' ');
    } else if (in[i] == '%') {
      int v = 0;
      if (i + 2 >= in.size()) return false;  // "%" needs two hex digits
      for (int k = 1; k <= 2; ++k) {
        const char c = in[i + k];
        int d = absl::ascii_isdigit(static_cast<unsigned char>(c)) ? c - '0'
                : (c >= 'a' && c <= 'f')                           ? c - 'a' + 10
                : (c >= 'A' && c <= 'F')                           ? c - 'A' + 10
                                                                   : -1;
        if (d < 0) return false;
        v = v * 16 + d;
      }
      out.push_back(static_cast<char>(v));
      i += 2;
    } else {
      out.push_back(in[i]);
    }
  }
  return true;
}

std::string BaseOf(const ProviderSettings& s) {
  return std::string(absl::StripSuffix(
      s.base_url.empty() ? DefaultProviderBaseUrl(s.kind) : absl::string_view(s.base_url), "/"));
}

// The provider's own words, short and printable (for last_error).
std::string Words(absl::string_view body) {
  std::string out;
  for (char c : body.substr(0, 300)) {
    out.push_back(absl::ascii_isprint(static_cast<unsigned char>(c)) ? c : ' ');
  }
  return out;
}

SendResult Result(Outcome outcome, std::string detail) {
  SendResult r;
  r.outcome = outcome;
  r.detail = std::move(detail);
  return r;
}

// The status codes every provider shares.
std::optional<SendResult> CommonReply(absl::string_view name, int status, absl::string_view body,
                                      absl::Duration retry_after) {
  const std::string detail = absl::StrCat(name, ": HTTP ", status, ": ", Words(body));
  if (status == 429 || status == 408 || status >= 500 || status == 401 || status == 403) {
    SendResult r = Result(Outcome::kTransient, detail);
    r.retry_after = retry_after;
    return r;
  }
  if (status < 200 || status >= 300) {
    if (status >= 300 && status < 400) {
      return Result(Outcome::kPermanent, absl::StrCat(name, ": HTTP ", status, " (a redirect)"));
    }
    return std::nullopt;  // 4xx: the provider's own codes say more
  }
  return std::nullopt;
}

SendResult TwilioReply(int status, absl::string_view body, absl::Duration retry_after) {
  if (std::optional<SendResult> r = CommonReply("twilio", status, body, retry_after)) return *r;
  const nlohmann::json j =
      nlohmann::json::parse(body.begin(), body.end(), nullptr, /*allow_exceptions=*/false);
  if (status >= 200 && status < 300) {
    if (j.is_object() && j.contains("sid") && j["sid"].is_string() &&
        !j["sid"].get<std::string>().empty()) {
      SendResult r;
      r.outcome = Outcome::kDelivered;
      r.provider_id = j["sid"].get<std::string>();
      return r;
    }
    // Accepted, but without the id we would reconcile by: the provider
    // has it, so this is not a failure to retry.
    SendResult r;
    r.outcome = Outcome::kDelivered;
    r.detail = "twilio: accepted without a message sid";
    return r;
  }
  int code = 0;
  std::string message;
  if (j.is_object()) {
    if (j.contains("code") && j["code"].is_number_integer()) code = j["code"].get<int>();
    if (j.contains("message") && j["message"].is_string())
      message = j["message"].get<std::string>();
  }
  SendResult r = Result(Outcome::kPermanent, absl::StrCat("twilio: HTTP ", status, " code ", code,
                                                          ": ", Words(message)));
  switch (code) {
    case 21211:  // invalid 'To' number
    case 21614:  // 'To' is not a mobile number
    case 21612:  // the 'To' number cannot be reached from the sender
      r.refused = Suppression::kInvalidAddress;
      break;
    case 21610:  // the recipient replied STOP
      r.refused = Suppression::kConsent;
      break;
    case 20429:  // too many requests (with a 400)
      r.outcome = Outcome::kTransient;
      r.retry_after = retry_after;
      break;
    default:
      break;
  }
  return r;
}

bool Mentions(const nlohmann::json& errors, absl::string_view what) {
  return absl::StrContains(errors.dump(), what);
}

SendResult OneSignalReply(int status, absl::string_view body, absl::Duration retry_after) {
  if (std::optional<SendResult> r = CommonReply("onesignal", status, body, retry_after)) return *r;
  const nlohmann::json j =
      nlohmann::json::parse(body.begin(), body.end(), nullptr, /*allow_exceptions=*/false);
  const nlohmann::json errors =
      j.is_object() && j.contains("errors") ? j["errors"] : nlohmann::json();
  std::string id;
  if (j.is_object() && j.contains("id") && j["id"].is_string()) id = j["id"].get<std::string>();
  if (status >= 200 && status < 300) {
    if (!id.empty()) {
      SendResult r;
      r.outcome = Outcome::kDelivered;
      r.provider_id = id;
      return r;
    }
    // 200 without an id: nobody to send to (no subscribed device for the
    // alias, or it names no user the provider knows).
    SendResult r = Result(Outcome::kPermanent,
                          absl::StrCat("onesignal: no subscribed device: ", Words(errors.dump())));
    r.refused = Suppression::kInvalidAddress;
    return r;
  }
  SendResult r =
      Result(Outcome::kPermanent, absl::StrCat("onesignal: HTTP ", status, ": ", Words(body)));
  if (!errors.is_null() &&
      (Mentions(errors, "invalid_aliases") || Mentions(errors, "not subscribed"))) {
    r.refused = Suppression::kInvalidAddress;
  }
  return r;
}

}  // namespace

absl::string_view ProviderKindName(ProviderKind k) {
  for (const auto& [kind, name] : kKinds) {
    if (kind == k) return name;
  }
  return "";
}
std::optional<ProviderKind> ProviderKindFromName(absl::string_view name) {
  for (const auto& [kind, n] : kKinds) {
    if (n == name) return kind;
  }
  return std::nullopt;
}
Channel ProviderChannel(ProviderKind k) {
  switch (k) {
    case ProviderKind::kTwilio:
      return Channel::kSms;
    case ProviderKind::kOneSignal:
      return Channel::kPush;
    case ProviderKind::kMailgun:
      return Channel::kEmail;
  }
  return Channel::kSms;
}
absl::string_view DefaultProviderBaseUrl(ProviderKind k) {
  switch (k) {
    case ProviderKind::kTwilio:
      return "https://api.twilio.com";
    case ProviderKind::kOneSignal:
      return "https://api.onesignal.com";
    case ProviderKind::kMailgun:
      return "https://api.mailgun.net";
  }
  return "";
}

bool ValidPhoneNumber(absl::string_view phone) {
  if (!absl::ConsumePrefix(&phone, "+")) return false;
  if (phone.size() < 7 || phone.size() > 15 || phone[0] == '0') return false;
  return AllOf(phone, [](unsigned char c) { return absl::ascii_isdigit(c) != 0; });
}

absl::Status ValidateProviderSettings(const ProviderSettings& s, bool secret_required) {
  if (s.channel == Channel::kWebhook) {
    return common::InvalidField("channel", "providers are for the email, sms and push channels");
  }
  if (ProviderChannel(s.kind) != s.channel) {
    return common::InvalidField(
        "kind",
        absl::StrCat("a ", ProviderKindName(s.kind), " provider sends ",
                     ChannelName(ProviderChannel(s.kind)), ", not ", ChannelName(s.channel)));
  }
  if (s.base_url.size() > 2048) {
    return common::InvalidField("base_url", "base_url must be at most 2,048 characters");
  }
  if (s.kind == ProviderKind::kMailgun) {
    // Mail goes out over SMTP: the provider only reports events. The
    // account is the sending domain, for the operator's eyes.
    if (s.account.size() > 253 || !AllOf(s.account, [](unsigned char c) {
          return absl::ascii_isalnum(c) || c == '.' || c == '-';
        })) {
      return common::InvalidField("account_id", "account_id is the sending domain (or empty)");
    }
    if (!s.sender.empty()) return common::InvalidField("sender", "an email provider has no sender");
  } else if (s.account.empty() || s.account.size() > 64 || !AllOf(s.account, &IdChar)) {
    return common::InvalidField(
        "account_id", s.kind == ProviderKind::kTwilio
                          ? "account_id must be the account SID (1..64 of A-Z a-z 0-9 - _)"
                          : "account_id must be the app id (1..64 of A-Z a-z 0-9 - _)");
  }
  if (s.kind == ProviderKind::kTwilio) {
    const bool service =
        absl::StartsWith(s.sender, "MG") && s.sender.size() <= 64 && AllOf(s.sender, &IdChar);
    if (!service && !ValidPhoneNumber(s.sender)) {
      return common::InvalidField(
          "sender", "sender must be an E.164 number (+41790000000) or a messaging service SID");
    }
  } else if (s.kind == ProviderKind::kOneSignal && !s.sender.empty()) {
    return common::InvalidField("sender", "a push provider has no sender");
  }
  if (s.secret.empty() && !secret_required) return absl::OkStatus();
  if (s.secret.empty() || s.secret.size() > 256 ||
      !AllOf(s.secret, [](unsigned char c) { return absl::ascii_isgraph(c) != 0; })) {
    return common::InvalidField("secret",
                                "secret must be 1..256 printable characters without spaces");
  }
  return absl::OkStatus();
}

ProviderRequest BuildProviderRequest(const ProviderSettings& s, const Notification& n) {
  ProviderRequest req;
  if (s.kind == ProviderKind::kTwilio) {
    req.url = absl::StrCat(BaseOf(s), "/2010-04-01/Accounts/", s.account, "/Messages.json");
    req.headers.push_back("Content-Type: application/x-www-form-urlencoded");
    req.headers.push_back(absl::StrCat("Authorization: Basic ",
                                       absl::Base64Escape(absl::StrCat(s.account, ":", s.secret))));
    req.body = absl::StrCat("To=", FormEscape(n.recipient), "&",
                            absl::StartsWith(s.sender, "MG") ? "MessagingServiceSid=" : "From=",
                            FormEscape(s.sender), "&Body=", FormEscape(n.text));
    if (!n.status_callback_url.empty()) {
      absl::StrAppend(&req.body, "&StatusCallback=", FormEscape(n.status_callback_url));
    }
    return req;
  }
  nlohmann::json j;
  j["app_id"] = s.account;
  j["target_channel"] = "push";
  j["include_aliases"]["external_id"] = nlohmann::json::array({n.recipient});
  j["headings"]["en"] = n.title;
  j["contents"]["en"] = n.body;
  j["idempotency_key"] = n.message_id;
  j["data"]["messageId"] = n.message_id;
  req.url = absl::StrCat(BaseOf(s), "/notifications");
  req.headers.push_back("Content-Type: application/json");
  req.headers.push_back(absl::StrCat("Authorization: Key ", s.secret));
  req.body = j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  return req;
}

SendResult ReadProviderReply(ProviderKind kind, int http_status, absl::string_view body,
                             absl::Duration retry_after) {
  return kind == ProviderKind::kTwilio ? TwilioReply(http_status, body, retry_after)
                                       : OneSignalReply(http_status, body, retry_after);
}

std::optional<Form> ParseForm(absl::string_view body) {
  Form out;
  if (body.empty()) return out;
  for (absl::string_view pair : absl::StrSplit(body, '&')) {
    const size_t eq = pair.find('=');
    std::string name, value;
    if (!FormUnescape(pair.substr(0, eq), name)) return std::nullopt;
    if (eq != absl::string_view::npos && !FormUnescape(pair.substr(eq + 1), value)) {
      return std::nullopt;
    }
    out.emplace_back(std::move(name), std::move(value));
  }
  return out;
}

std::string TwilioSignature(absl::string_view auth_token, absl::string_view url, Form form) {
  std::stable_sort(form.begin(), form.end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });
  std::string data(url);
  for (const auto& [name, value] : form) absl::StrAppend(&data, name, value);
  return absl::Base64Escape(common::HmacSha1(auth_token, data));
}

StatusReport ReadTwilioStatus(const Form& form) {
  std::string status, code, message;
  for (const auto& [name, value] : form) {
    if (name == "MessageStatus") status = value;
    if (name == "ErrorCode") code = value;
    if (name == "ErrorMessage") message = value;
  }
  StatusReport r;
  if (status == "delivered") {
    r.receipt = Receipt::kDelivered;
  } else if (status == "undelivered" || status == "failed") {
    r.receipt = Receipt::kBounced;
    r.detail = absl::StrCat(code.empty() ? "no error code" : code, ": ",
                            message.empty() ? status : Words(message));
  }
  return r;
}

std::vector<std::string> RecordReceipt(Message& m, const StatusReport& r, absl::Time now) {
  if (r.receipt == Receipt::kNone || m.receipt != Receipt::kNone) return {};
  m.receipt = r.receipt;
  m.receipt_time = now;
  m.receipt_detail = r.detail;
  return {r.receipt == Receipt::kDelivered ? "message.delivered" : "message.bounced"};
}

}  // namespace crm::delivery::domain
