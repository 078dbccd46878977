#include "libs/common/context_seal.h"

#include <cstdint>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "libs/common/crypto.h"
#include "libs/common/errors.h"

namespace crm::common {
namespace {

std::string Mac(absl::string_view key, const SealedContext& c, int64_t expiry) {
  return HexEncode(HmacSha256(
      key, absl::StrCat("v1\n", expiry, "\n", c.tenant_id, "\n", c.principal, "\n", c.roles)));
}

absl::Status Refuse(absl::string_view why) {
  return WithReason(absl::UnauthenticatedError(absl::StrCat(
                        "tenant context not accepted (", why,
                        "): call this service through the gateway")),
                    "INVALID_TENANT_CONTEXT");
}

}  // namespace

std::string SealContext(absl::string_view key, const SealedContext& c, absl::Time expires) {
  int64_t expiry = absl::ToUnixSeconds(expires);
  return absl::StrCat("v1.", expiry, ".", Mac(key, c, expiry));
}

absl::Status VerifyContextSeal(absl::string_view key, const SealedContext& c,
                               absl::string_view seal, absl::Time now,
                               absl::Duration max_lifetime) {
  if (key.size() < kMinContextKeyBytes) return Refuse("no context key configured");
  if (seal.empty()) return Refuse("unsigned");
  std::vector<absl::string_view> parts = absl::StrSplit(seal, '.');
  int64_t expiry = 0;
  if (parts.size() != 3 || parts[0] != "v1" || !absl::SimpleAtoi(parts[1], &expiry)) {
    return Refuse("malformed signature");
  }
  // The MAC first: a forged seal learns nothing about the clock checks.
  if (!ConstantTimeEquals(Mac(key, c, expiry), parts[2])) return Refuse("bad signature");
  absl::Time expires = absl::FromUnixSeconds(expiry);
  if (expires < now) return Refuse("expired");
  if (expires - now > max_lifetime) return Refuse("expiry too far ahead");
  return absl::OkStatus();
}

}  // namespace crm::common
