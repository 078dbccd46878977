// Email events of the tenant's email service (domain/email_events.h): the
// signature and the replay window decide whether an event is believed; the
// event's kind, our message id and the receiving server's answer are read.
#include "services/delivery/domain/email_events.h"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "libs/common/errors.h"

namespace {

using crm::delivery::domain::EmailEventKind;
using crm::delivery::domain::MailgunSignature;
using crm::delivery::domain::ReadMailgunEvent;

constexpr char kKey[] = "key-3ax6xnjp29jd6fds4gc373sgvjxteol0";
const absl::Time kNow = absl::FromUnixSeconds(1800000000);

std::string Event(const nlohmann::json& data, int64_t timestamp = 1800000000,
                  const std::string& key = kKey) {
  const std::string ts = std::to_string(timestamp);
  const std::string token = "a8ce0edb2dd8301dee6c2405235584e45aa91d1e9f979f3de0";
  return nlohmann::json{
      {"signature",
       {{"timestamp", ts}, {"token", token}, {"signature", MailgunSignature(key, ts, token)}}},
      {"event-data", data}}
      .dump();
}

nlohmann::json Bounce() {
  return {
      {"event", "failed"},
      {"severity", "permanent"},
      {"recipient", "Ada@Example.com"},
      {"message",
       {{"headers", {{"message-id", "33333333-3333-4333-8333-333333333333@crm.example.com"}}}}},
      {"delivery-status", {{"code", 550}, {"message", "5.1.1 no such user"}, {"description", ""}}}};
}

}  // namespace

TEST_CASE("The signature is HMAC-SHA256 of timestamp and token, hex") {
  // Checked against Python's hmac module (an implementation of its own).
  CHECK(MailgunSignature("key-3ax6xnjp29jd6fds4gc373sgvjxteol0", "1529006854",
                         "a8ce0edb2dd8301dee6c2405235584e45aa91d1e9f979f3de0") ==
        "b63c0701c4f4b614f272106a1b367c5c3369bcdca664ae73ebd52787e45eef07");
  CHECK(MailgunSignature("k", "1", "t").size() == 64);
  CHECK(MailgunSignature("k", "1", "t") != MailgunSignature("k", "2", "t"));
}

TEST_CASE("A permanent failure is a bounce of our message, with the server's answer") {
  auto e = ReadMailgunEvent(Event(Bounce()), kKey, kNow);
  REQUIRE(e.ok());
  CHECK(e->kind == EmailEventKind::kBounced);
  CHECK(e->message_id == "33333333-3333-4333-8333-333333333333");
  CHECK(e->recipient == "ada@example.com");
  CHECK(e->detail == "550 5.1.1 no such user");
  // Angle brackets around the id are fine too.
  nlohmann::json data = Bounce();
  data["message"]["headers"]["message-id"] =
      "<33333333-3333-4333-8333-333333333333@crm.example.com>";
  CHECK(ReadMailgunEvent(Event(data), kKey, kNow)->message_id ==
        "33333333-3333-4333-8333-333333333333");
}

TEST_CASE("Kinds: delivered, complained, a temporary failure and others") {
  nlohmann::json data = Bounce();
  data["event"] = "delivered";
  CHECK(ReadMailgunEvent(Event(data), kKey, kNow)->kind == EmailEventKind::kDelivered);
  data["event"] = "complained";
  auto complaint = ReadMailgunEvent(Event(data), kKey, kNow);
  CHECK(complaint->kind == EmailEventKind::kComplained);
  CHECK(complaint->detail == "the recipient reported the message as spam");
  data["event"] = "failed";
  data["severity"] = "temporary";  // the relay tries again itself
  CHECK(ReadMailgunEvent(Event(data), kKey, kNow)->kind == EmailEventKind::kOther);
  data["event"] = "opened";
  CHECK(ReadMailgunEvent(Event(data), kKey, kNow)->kind == EmailEventKind::kOther);
  // Mail that is not ours: no message id.
  data = Bounce();
  data["message"]["headers"]["message-id"] = "20130503182626.18666.16540@mailgun.org";
  CHECK(ReadMailgunEvent(Event(data), kKey, kNow)->message_id.empty());
}

TEST_CASE("Another key, an altered body or an old event is not believed") {
  CHECK(ReadMailgunEvent(Event(Bounce(), 1800000000, "another-key"), kKey, kNow).status().code() ==
        absl::StatusCode::kPermissionDenied);
  CHECK(ReadMailgunEvent(Event(Bounce()), "", kNow).status().code() ==
        absl::StatusCode::kPermissionDenied);
  // The signature covers timestamp and token: a replay with a new
  // timestamp does not verify, an old one is outside the window.
  nlohmann::json replay = nlohmann::json::parse(Event(Bounce(), 1800000000 - 3600));
  CHECK(ReadMailgunEvent(replay.dump(), kKey, kNow).status().code() ==
        absl::StatusCode::kPermissionDenied);
  replay["signature"]["timestamp"] = "1800000000";
  CHECK(ReadMailgunEvent(replay.dump(), kKey, kNow).status().code() ==
        absl::StatusCode::kPermissionDenied);
  // Within 15 minutes either way: believed.
  CHECK(ReadMailgunEvent(Event(Bounce(), 1800000000 - 899), kKey, kNow).ok());
  CHECK(ReadMailgunEvent(Event(Bounce(), 1800000000 + 899), kKey, kNow).ok());
}

TEST_CASE("A body that is not an event is MALFORMED_BODY") {
  for (const char* body : {"", "not json", "[]", "{}", R"({"signature": {}})",
                           R"({"signature": 1, "event-data": {}})"}) {
    auto e = ReadMailgunEvent(body, kKey, kNow);
    CHECK(e.status().code() == absl::StatusCode::kInvalidArgument);
    CHECK(crm::common::ReasonOf(e.status()) == "MALFORMED_BODY");
  }
}

TEST_CASE("A long or odd server answer is stored cut between characters, without NUL") {
  nlohmann::json data = Bounce();
  std::string text(498, 'x');
  text += "\xc3\xa9\xc3\xa9";  // é é across the 500-byte mark
  data["delivery-status"]["description"] = text + std::string(1, '\0') + "tail";
  auto e = ReadMailgunEvent(Event(data), kKey, kNow);
  REQUIRE(e.ok());
  CHECK(e->detail.size() <= 500);
  CHECK(e->detail.find('\0') == std::string::npos);
  CHECK((static_cast<unsigned char>(e->detail.back()) & 0xC0) != 0xC0);  // not a cut lead byte
}
