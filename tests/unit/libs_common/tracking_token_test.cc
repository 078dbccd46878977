#include "libs/common/tracking_token.h"

#include <catch2/catch.hpp>
#include <cstdlib>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "libs/common/errors.h"

namespace {

using crm::common::SignTrackingToken;
using crm::common::TrackingAction;
using crm::common::TrackingClaims;
using crm::common::TrackingKey;
using crm::common::VerifyTrackingToken;

const std::string kKey = TrackingKey(std::string(40, 'k'));
const absl::Time kNow = absl::FromUnixSeconds(1800000000);
const std::string kTenant = "5f0c6c2e-8d3c-4c1e-9a4e-3f1f0f6a9b10";
const std::string kMessage = "0b8a9a52-4b7e-4f0e-9c1e-7d0c2f7f1a11";

TrackingClaims Click(int link) {
  TrackingClaims c;
  c.action = TrackingAction::kClick;
  c.tenant_id = kTenant;
  c.message_id = kMessage;
  c.link = link;
  c.expire_time = kNow + absl::Hours(24);
  return c;
}

bool Refused(const absl::StatusOr<TrackingClaims>& r) {
  return r.status().code() == absl::StatusCode::kNotFound &&
         crm::common::ReasonOf(r.status()) == "TRACKING_LINK_INVALID";
}

TEST_CASE("A tracking token verifies and carries its claims", "[common][tracking_token]") {
  for (TrackingAction a :
       {TrackingAction::kOpen, TrackingAction::kClick, TrackingAction::kUnsubscribe,
        TrackingAction::kStatus, TrackingAction::kSurvey}) {
    TrackingClaims c = Click(7);
    c.action = a;
    const std::string token = SignTrackingToken(kKey, c);
    CHECK(token.size() < 140);
    CHECK(token.find_first_not_of(
              "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.") ==
          std::string::npos);
    auto v = VerifyTrackingToken(kKey, token, kNow);
    REQUIRE(v.ok());
    CHECK(v->action == a);
    CHECK(v->tenant_id == kTenant);
    CHECK(v->message_id == kMessage);
    // The link is signed for clicks (its index) and surveys (their kind).
    CHECK(v->link == (a == TrackingAction::kClick || a == TrackingAction::kSurvey ? 7 : 0));
    CHECK(v->expire_time == kNow + absl::Hours(24));
  }
}

TEST_CASE("A tracking token is refused once expired", "[common][tracking_token]") {
  const std::string token = SignTrackingToken(kKey, Click(0));
  CHECK(VerifyTrackingToken(kKey, token, kNow + absl::Hours(24) - absl::Seconds(1)).ok());
  CHECK(Refused(VerifyTrackingToken(kKey, token, kNow + absl::Hours(24))));
}

TEST_CASE("An altered tracking token is refused", "[common][tracking_token]") {
  const std::string token = SignTrackingToken(kKey, Click(3));
  // Another link, tenant, message, action or expiry under the same MAC.
  CHECK(Refused(VerifyTrackingToken(kKey, absl::StrReplaceAll(token, {{".3.", ".4."}}), kNow)));
  CHECK(Refused(VerifyTrackingToken(
      kKey, absl::StrReplaceAll(token, {{kTenant, "5f0c6c2e-8d3c-4c1e-9a4e-3f1f0f6a9b11"}}),
      kNow)));
  CHECK(Refused(VerifyTrackingToken(
      kKey, absl::StrReplaceAll(token, {{kMessage, "0b8a9a52-4b7e-4f0e-9c1e-7d0c2f7f1a12"}}),
      kNow)));
  CHECK(Refused(VerifyTrackingToken(kKey, absl::StrReplaceAll(token, {{"t1.c.", "t1.u."}}), kNow)));
  CHECK(Refused(VerifyTrackingToken(kKey, absl::StrReplaceAll(token, {{".1800", ".1900"}}), kNow)));
  // Another key, a cut MAC, garbage.
  CHECK(Refused(VerifyTrackingToken(TrackingKey(std::string(40, 'x')), token, kNow)));
  CHECK(Refused(VerifyTrackingToken(kKey, token.substr(0, token.size() - 1), kNow)));
  CHECK(Refused(VerifyTrackingToken(kKey, "", kNow)));
  CHECK(Refused(VerifyTrackingToken(kKey, "t1", kNow)));
  CHECK(Refused(VerifyTrackingToken(kKey, std::string(300, 'a'), kNow)));
}

TEST_CASE("A tracking key is not the context key and differs by context key",
          "[common][tracking_token]") {
  CHECK(TrackingKey(std::string(40, 'k')) != std::string(40, 'k'));
  CHECK(TrackingKey(std::string(40, 'k')) != TrackingKey(std::string(40, 'j')));
  CHECK(TrackingKey(std::string(40, 'k')).size() == 32);
}

TEST_CASE("Link URLs: https anywhere, http on loopback only, a base from the environment",
          "[common][tracking_token]") {
  using crm::common::IsLinkUrl;
  CHECK(IsLinkUrl("https://crm.example.com"));
  CHECK(IsLinkUrl("http://127.0.0.1:8080"));
  CHECK(IsLinkUrl("http://localhost/x"));
  CHECK(IsLinkUrl("http://[::1]:80"));
  CHECK_FALSE(IsLinkUrl("http://crm.example.com"));
  CHECK_FALSE(IsLinkUrl("http://10.0.0.1"));
  CHECK_FALSE(IsLinkUrl("ftp://x"));
  CHECK_FALSE(IsLinkUrl("https://"));
  setenv("CRM_TEST_LINK_BASE", "https://crm.example.com//", 1);
  CHECK(*crm::common::LinkBaseUrl("CRM_TEST_LINK_BASE") == "https://crm.example.com");
  setenv("CRM_TEST_LINK_BASE", "https://crm.example.com/?x=1", 1);
  CHECK(crm::common::LinkBaseUrl("CRM_TEST_LINK_BASE").status().code() ==
        absl::StatusCode::kInvalidArgument);
  setenv("CRM_TEST_LINK_BASE", "http://crm.example.com", 1);
  CHECK_FALSE(crm::common::LinkBaseUrl("CRM_TEST_LINK_BASE").ok());
  unsetenv("CRM_TEST_LINK_BASE");
  CHECK(crm::common::LinkBaseUrl("CRM_TEST_LINK_BASE")->empty());
}

}  // namespace
