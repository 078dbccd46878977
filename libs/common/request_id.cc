#include "libs/common/request_id.h"

#include "absl/strings/str_cat.h"
#include "libs/common/crypto.h"
#include "libs/common/errors.h"

namespace crm::common {

bool HasControlCharacter(absl::string_view s) {
  for (char c : s) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7f) return true;
  }
  return false;
}

absl::Status RequireRequestId(absl::string_view id) {
  if (id.empty()) {
    return InvalidField("request_id",
                        "request_id is required (1..128 characters): retries of the same request "
                        "must carry the same request_id");
  }
  return CheckRequestId(id);
}

absl::Status CheckRequestId(absl::string_view id) {
  if (id.size() > kMaxRequestIdLength) {
    return InvalidField("request_id",
                        absl::StrCat("request_id is at most ", kMaxRequestIdLength, " characters"));
  }
  if (HasControlCharacter(id)) {
    return InvalidField("request_id",
                        "request_id must not contain control characters (such as NUL)");
  }
  return absl::OkStatus();
}

std::string DerivedKey(const std::string& key, const std::string& suffix) {
  if (key.size() + 1 + suffix.size() <= kMaxRequestIdLength) return key + "/" + suffix;
  return HexEncode(Sha256(key)).substr(0, 64) + "/" + suffix;
}

}  // namespace crm::common
