#include "services/delivery/domain/signature.h"

#include "absl/strings/str_cat.h"
#include "libs/common/crypto.h"

namespace crm::delivery::domain {

std::string WebhookSignature(absl::string_view secret, int64_t unix_seconds,
                             absl::string_view body) {
  const std::string t = absl::StrCat(unix_seconds);
  return absl::StrCat(
      "t=", t, ",v1=", common::HexEncode(common::HmacSha256(secret, absl::StrCat(t, ".", body))));
}

}  // namespace crm::delivery::domain
