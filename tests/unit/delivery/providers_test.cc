// SMS and push providers: settings checks, the request each provider
// expects, and its answers read into send results.
#include "services/delivery/domain/providers.h"

#include <catch2/catch.hpp>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "libs/common/errors.h"
#include "nlohmann/json.hpp"

namespace {

using crm::delivery::domain::BuildProviderRequest;
using crm::delivery::domain::Channel;
using crm::delivery::domain::Notification;
using crm::delivery::domain::Outcome;
using crm::delivery::domain::ProviderKind;
using crm::delivery::domain::ProviderSettings;
using crm::delivery::domain::ReadProviderReply;
using crm::delivery::domain::Suppression;

ProviderSettings Twilio() {
  ProviderSettings s;
  s.channel = Channel::kSms;
  s.kind = ProviderKind::kTwilio;
  s.account = "AC0123456789abcdef0123456789abcdef";
  s.sender = "+41790000000";
  s.secret = "token-1";
  return s;
}
ProviderSettings OneSignal() {
  ProviderSettings s;
  s.channel = Channel::kPush;
  s.kind = ProviderKind::kOneSignal;
  s.account = "5eb5a37e-b458-11e3-ac11-000c2940e62c";
  s.secret = "os_v2_app_key";
  return s;
}

std::string FieldOf(const ProviderSettings& s) {
  return crm::common::FieldOf(crm::delivery::domain::ValidateProviderSettings(s));
}

}  // namespace

TEST_CASE("Phone numbers are E.164") {
  using crm::delivery::domain::ValidPhoneNumber;
  CHECK(ValidPhoneNumber("+41790000000"));
  CHECK(ValidPhoneNumber("+1234567"));
  CHECK_FALSE(ValidPhoneNumber("41790000000"));
  CHECK_FALSE(ValidPhoneNumber("+0790000000"));
  CHECK_FALSE(ValidPhoneNumber("+123456"));
  CHECK_FALSE(ValidPhoneNumber("+1234567890123456"));
  CHECK_FALSE(ValidPhoneNumber("+41 79 000 00 00"));
}

TEST_CASE("Provider settings that cannot work are refused naming the field") {
  CHECK(crm::delivery::domain::ValidateProviderSettings(Twilio()).ok());
  CHECK(crm::delivery::domain::ValidateProviderSettings(OneSignal()).ok());
  ProviderSettings s = Twilio();
  s.channel = Channel::kPush;
  CHECK(FieldOf(s) == "kind");
  s = Twilio();
  s.channel = Channel::kEmail;
  CHECK(FieldOf(s) == "kind");  // email takes a mailgun provider (its events)
  s = Twilio();
  s.channel = Channel::kWebhook;
  CHECK(FieldOf(s) == "channel");
  ProviderSettings mail;
  mail.channel = Channel::kEmail;
  mail.kind = crm::delivery::domain::ProviderKind::kMailgun;
  mail.secret = "signing-key";
  CHECK(crm::delivery::domain::ValidateProviderSettings(mail).ok());  // no account needed
  mail.account = "mg.example.com";
  CHECK(crm::delivery::domain::ValidateProviderSettings(mail).ok());
  mail.account = "mg.example.com/x";
  CHECK(FieldOf(mail) == "account_id");
  mail.account = "";
  mail.sender = "+41445550000";
  CHECK(FieldOf(mail) == "sender");
  mail.sender = "";
  mail.secret = "";
  CHECK(FieldOf(mail) == "secret");
  s = Twilio();
  s.account = "AC/../x";
  CHECK(FieldOf(s) == "account_id");
  s = Twilio();
  s.sender = "CRM";
  CHECK(FieldOf(s) == "sender");
  s.sender = "MG0123456789abcdef";
  CHECK(crm::delivery::domain::ValidateProviderSettings(s).ok());
  s = Twilio();
  s.secret = "";
  CHECK(FieldOf(s) == "secret");
  s.secret = "two words";
  CHECK(FieldOf(s) == "secret");
  s = OneSignal();
  s.sender = "+41790000000";
  CHECK(FieldOf(s) == "sender");
  s = OneSignal();
  s.base_url = std::string(2049, 'a');
  CHECK(FieldOf(s) == "base_url");
}

TEST_CASE("An SMS is one form-encoded POST to the account's Messages resource") {
  ProviderSettings s = Twilio();
  s.base_url = "http://127.0.0.1:9/";
  Notification n{"m-1", "+41791234567", "Hi Ada & co: 50% off", "", "", ""};
  auto req = BuildProviderRequest(s, n);
  CHECK(req.url ==
        "http://127.0.0.1:9/2010-04-01/Accounts/AC0123456789abcdef0123456789abcdef/Messages.json");
  CHECK(req.body == "To=%2B41791234567&From=%2B41790000000&Body=Hi+Ada+%26+co%3A+50%25+off");
  bool basic = false;
  for (const std::string& h : req.headers) {
    if (h == "Authorization: Basic " +
                 absl::Base64Escape("AC0123456789abcdef0123456789abcdef:token-1")) {
      basic = true;
    }
  }
  CHECK(basic);
  s.sender = "MG0123";
  s.base_url = "";
  req = BuildProviderRequest(s, n);
  CHECK(absl::StartsWith(req.url, "https://api.twilio.com/2010-04-01/"));
  CHECK(absl::StrContains(req.body, "&MessagingServiceSid=MG0123&"));
}

TEST_CASE("A push is one JSON POST addressed to our customer id with our idempotency key") {
  Notification n{"m-2", "33333333-3333-4333-8333-333333333333", "", "Hello \"Ada\"", "Line\n2", ""};
  auto req = BuildProviderRequest(OneSignal(), n);
  CHECK(req.url == "https://api.onesignal.com/notifications");
  auto j = nlohmann::json::parse(req.body);
  CHECK(j["app_id"] == "5eb5a37e-b458-11e3-ac11-000c2940e62c");
  CHECK(j["include_aliases"]["external_id"][0] == "33333333-3333-4333-8333-333333333333");
  CHECK(j["headings"]["en"] == "Hello \"Ada\"");
  CHECK(j["contents"]["en"] == "Line\n2");
  CHECK(j["idempotency_key"] == "m-2");
  CHECK(std::find(req.headers.begin(), req.headers.end(), "Authorization: Key os_v2_app_key") !=
        req.headers.end());
}

TEST_CASE("Twilio's answers become sent, retried, refused or failed") {
  auto ok = ReadProviderReply(ProviderKind::kTwilio, 201, R"({"sid":"SM123","status":"queued"})",
                              absl::ZeroDuration());
  CHECK(ok.outcome == Outcome::kDelivered);
  CHECK(ok.provider_id == "SM123");
  auto busy =
      ReadProviderReply(ProviderKind::kTwilio, 429,
                        R"({"code":20429,"message":"Too Many Requests"})", absl::Seconds(7));
  CHECK(busy.outcome == Outcome::kTransient);
  CHECK(busy.retry_after == absl::Seconds(7));
  auto invalid = ReadProviderReply(ProviderKind::kTwilio, 400,
                                   R"({"code":21211,"message":"The 'To' number is not valid"})",
                                   absl::ZeroDuration());
  CHECK(invalid.refused == Suppression::kInvalidAddress);
  CHECK(absl::StrContains(invalid.detail, "21211"));
  auto stop = ReadProviderReply(ProviderKind::kTwilio, 400,
                                R"({"code":21610,"message":"unsubscribed recipient"})",
                                absl::ZeroDuration());
  CHECK(stop.refused == Suppression::kConsent);
  auto other =
      ReadProviderReply(ProviderKind::kTwilio, 400, R"({"code":21408})", absl::ZeroDuration());
  CHECK(other.outcome == Outcome::kPermanent);
  CHECK(other.refused == Suppression::kNone);
  CHECK(ReadProviderReply(ProviderKind::kTwilio, 503, "down", absl::ZeroDuration()).outcome ==
        Outcome::kTransient);
  CHECK(ReadProviderReply(ProviderKind::kTwilio, 401, "{}", absl::ZeroDuration()).outcome ==
        Outcome::kTransient);
  CHECK(ReadProviderReply(ProviderKind::kTwilio, 302, "", absl::ZeroDuration()).outcome ==
        Outcome::kPermanent);
  CHECK(ReadProviderReply(ProviderKind::kTwilio, 400, "not json", absl::ZeroDuration()).outcome ==
        Outcome::kPermanent);
}

TEST_CASE("OneSignal's answers become sent, retried, refused or failed") {
  auto ok = ReadProviderReply(ProviderKind::kOneSignal, 200, R"({"id":"n-1","external_id":null})",
                              absl::ZeroDuration());
  CHECK(ok.outcome == Outcome::kDelivered);
  CHECK(ok.provider_id == "n-1");
  auto nobody = ReadProviderReply(ProviderKind::kOneSignal, 200,
                                  R"({"id":"","errors":{"invalid_aliases":{"external_id":["x"]}}})",
                                  absl::ZeroDuration());
  CHECK(nobody.refused == Suppression::kInvalidAddress);
  auto bad = ReadProviderReply(ProviderKind::kOneSignal, 400, R"({"errors":["app_id not found"]})",
                               absl::ZeroDuration());
  CHECK(bad.outcome == Outcome::kPermanent);
  CHECK(bad.refused == Suppression::kNone);
  auto busy = ReadProviderReply(ProviderKind::kOneSignal, 429, "{}", absl::Seconds(3));
  CHECK(busy.outcome == Outcome::kTransient);
  CHECK(busy.retry_after == absl::Seconds(3));
}

TEST_CASE("Twilio's status callbacks are verified by their published signature and read") {
  // The example of Twilio's webhook security documentation.
  const crm::delivery::domain::Form form = {{"CallSid", "CA1234567890ABCDE"},
                                            {"Caller", "+14158675309"},
                                            {"Digits", "1234"},
                                            {"From", "+14158675309"},
                                            {"To", "+18005551212"}};
  CHECK(crm::delivery::domain::TwilioSignature("12345",
                                               "https://mycompany.com/myapp.php?foo=1&bar=2",
                                               form) == "RSOYDt4T1cUTdK1PDd93/VVr8B8=");
  auto parsed = crm::delivery::domain::ParseForm(
      "MessageSid=SM1&MessageStatus=undelivered&ErrorCode=30003&ErrorMessage=Unreachable+"
      "destination%20handset");
  REQUIRE(parsed.has_value());
  CHECK(parsed->size() == 4);
  CHECK((*parsed)[3].second == "Unreachable destination handset");
  CHECK_FALSE(crm::delivery::domain::ParseForm("a=%4").has_value());
  CHECK_FALSE(crm::delivery::domain::ParseForm("a=%zz").has_value());
  auto bounced = crm::delivery::domain::ReadTwilioStatus(*parsed);
  CHECK(bounced.receipt == crm::delivery::domain::Receipt::kBounced);
  CHECK(bounced.detail == "30003: Unreachable destination handset");
  auto interim = crm::delivery::domain::ReadTwilioStatus({{"MessageStatus", "sent"}});
  CHECK(interim.receipt == crm::delivery::domain::Receipt::kNone);

  // The first final report counts, once.
  crm::delivery::domain::Message m;
  CHECK(crm::delivery::domain::RecordReceipt(m, interim, absl::FromUnixSeconds(1)).empty());
  auto delivered = crm::delivery::domain::ReadTwilioStatus({{"MessageStatus", "delivered"}});
  CHECK(crm::delivery::domain::RecordReceipt(m, delivered, absl::FromUnixSeconds(2)) ==
        std::vector<std::string>{"message.delivered"});
  CHECK(crm::delivery::domain::RecordReceipt(m, bounced, absl::FromUnixSeconds(3)).empty());
  CHECK(m.receipt == crm::delivery::domain::Receipt::kDelivered);
  CHECK(m.receipt_time == absl::FromUnixSeconds(2));
}

TEST_CASE("An SMS asks for delivery receipts at our status callback URL") {
  Notification n{"m-1", "+41791234567", "Hi", "", "", "https://crm.example.com/t/s/t1.s.x"};
  auto req = BuildProviderRequest(Twilio(), n);
  CHECK(absl::EndsWith(req.body, "&StatusCallback=https%3A%2F%2Fcrm.example.com%2Ft%2Fs%2Ft1.s.x"));
}
