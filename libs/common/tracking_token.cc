#include "libs/common/tracking_token.h"

#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "libs/common/crypto.h"
#include "libs/common/env.h"
#include "libs/common/errors.h"
#include "libs/common/id.h"
#include "libs/common/status_macros.h"

namespace crm::common {
namespace {

constexpr absl::string_view kVersion = "t1";
constexpr std::size_t kMacBytes = 16;  // 128 bits: ample for a MAC, short in a URL

std::string Mac(absl::string_view key, absl::string_view signed_part) {
  std::string out;
  absl::WebSafeBase64Escape(HmacSha256(key, signed_part).substr(0, kMacBytes), &out);
  return out;
}

absl::string_view ActionCode(TrackingAction a) {
  switch (a) {
    case TrackingAction::kOpen:
      return "o";
    case TrackingAction::kClick:
      return "c";
    case TrackingAction::kUnsubscribe:
      return "u";
    case TrackingAction::kStatus:
      return "s";
    case TrackingAction::kSurvey:
      return "v";
  }
  return "o";
}

}  // namespace

absl::Status TrackingLinkInvalid() {
  return WithReason(absl::NotFoundError("this link is not valid (altered or expired)"),
                    "TRACKING_LINK_INVALID");
}

bool IsLinkUrl(absl::string_view url) {
  if (absl::StartsWithIgnoreCase(url, "https://")) return url.size() > 8;
  if (!absl::StartsWithIgnoreCase(url, "http://")) return false;
  url.remove_prefix(7);
  const absl::string_view host = url.substr(0, url.find_first_of(":/?#"));
  if (absl::StartsWith(url, "[::1]")) return true;
  if (host == "localhost") return true;
  // 127.0.0.0/8, written as four decimal numbers.
  std::vector<absl::string_view> octets = absl::StrSplit(host, '.');
  if (octets.size() != 4 || octets[0] != "127") return false;
  for (absl::string_view o : octets) {
    int v = 0;
    if (o.empty() || o.size() > 3 || !absl::SimpleAtoi(o, &v) || v > 255) return false;
  }
  return true;
}

absl::StatusOr<std::string> LinkBaseUrl(const char* name) {
  CRM_ASSIGN_OR_RETURN(std::string url, EnvString(name, ""));
  while (absl::EndsWith(url, "/")) url.pop_back();
  if (!url.empty() && (!IsLinkUrl(url) || url.find_first_of("?#\"\\<> ") != std::string::npos)) {
    return absl::InvalidArgumentError(
        absl::StrCat(name,
                     ": an https:// URL without query or fragment (http:// only on loopback), e.g. "
                     "https://crm.example.com"));
  }
  return url;
}

std::string TrackingKey(absl::string_view context_key) {
  return HkdfSha256(context_key, "", "crm tracking link v1", 32);
}

std::string SignTrackingToken(absl::string_view key, const TrackingClaims& c) {
  const std::string signed_part = absl::StrCat(
      kVersion, ".", ActionCode(c.action), ".", c.tenant_id, ".", c.message_id, ".",
      c.action == TrackingAction::kClick || c.action == TrackingAction::kSurvey ? c.link : 0, ".",
      absl::ToUnixSeconds(c.expire_time));
  return absl::StrCat(signed_part, ".", Mac(key, signed_part));
}

absl::StatusOr<TrackingClaims> VerifyTrackingToken(absl::string_view key, absl::string_view token,
                                                   absl::Time now) {
  if (token.size() > kMaxTrackingTokenBytes) return TrackingLinkInvalid();
  const std::size_t last_dot = token.rfind('.');
  if (last_dot == absl::string_view::npos) return TrackingLinkInvalid();
  const absl::string_view signed_part = token.substr(0, last_dot);
  if (!ConstantTimeEquals(Mac(key, signed_part), token.substr(last_dot + 1)))
    return TrackingLinkInvalid();
  // Signed by us: the fields are well-formed unless the key was misused.
  std::vector<absl::string_view> f = absl::StrSplit(signed_part, '.');
  if (f.size() != 6 || f[0] != kVersion) return TrackingLinkInvalid();
  TrackingClaims c;
  if (f[1] == "o") {
    c.action = TrackingAction::kOpen;
  } else if (f[1] == "c") {
    c.action = TrackingAction::kClick;
  } else if (f[1] == "u") {
    c.action = TrackingAction::kUnsubscribe;
  } else if (f[1] == "s") {
    c.action = TrackingAction::kStatus;
  } else if (f[1] == "v") {
    c.action = TrackingAction::kSurvey;
  } else {
    return TrackingLinkInvalid();
  }
  int64_t exp = 0;
  if (!IsUuid(std::string_view(f[2].data(), f[2].size())) ||
      !IsUuid(std::string_view(f[3].data(), f[3].size())) || !absl::SimpleAtoi(f[4], &c.link) ||
      c.link < 0 || c.link >= kMaxTrackedLinks || !absl::SimpleAtoi(f[5], &exp)) {
    return TrackingLinkInvalid();
  }
  c.tenant_id = std::string(f[2]);
  c.message_id = std::string(f[3]);
  c.expire_time = absl::FromUnixSeconds(exp);
  if (now >= c.expire_time) return TrackingLinkInvalid();
  return c;
}

}  // namespace crm::common
