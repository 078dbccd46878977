#include "libs/common/page_token.h"

#include <openssl/crypto.h>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "libs/common/crypto.h"
#include "libs/common/errors.h"

namespace crm::common {
namespace {
absl::Status BadToken() {
  return WithField(WithReason(absl::InvalidArgumentError(
                                  "page_token is invalid: pass next_page_token from the previous "
                                  "response of the same query unchanged"),
                              "INVALID_PAGE_TOKEN"),
                   "page_token");
}
}  // namespace

std::string PageTokenCodec::Mac(absl::string_view tenant, absl::string_view scope,
                                absl::string_view cursor) const {
  std::string msg = absl::StrCat(tenant, std::string(1, '\0'), scope, std::string(1, '\0'), cursor);
  return HmacSha256(secret_, msg).substr(0, 16);
}

std::string PageTokenCodec::Encode(absl::string_view tenant, absl::string_view scope,
                                   absl::string_view cursor) const {
  return absl::StrCat(absl::WebSafeBase64Escape(cursor), ".",
                      absl::WebSafeBase64Escape(Mac(tenant, scope, cursor)));
}

absl::StatusOr<std::string> PageTokenCodec::Decode(absl::string_view tenant,
                                                   absl::string_view scope,
                                                   absl::string_view token) const {
  if (token.size() > 1024) return BadToken();
  size_t dot = token.find('.');
  if (dot == absl::string_view::npos) return BadToken();
  std::string cursor, mac;
  if (!absl::WebSafeBase64Unescape(token.substr(0, dot), &cursor) ||
      !absl::WebSafeBase64Unescape(token.substr(dot + 1), &mac) || mac.size() != 16) {
    return BadToken();
  }
  std::string want = Mac(tenant, scope, cursor);
  if (CRYPTO_memcmp(want.data(), mac.data(), 16) != 0) return BadToken();
  return cursor;
}

absl::StatusOr<int> ClampPageSize(int requested, int def, int max) {
  if (requested < 0) {
    return WithField(WithReason(absl::InvalidArgumentError("page_size must not be negative"),
                                "INVALID_FIELD"),
                     "page_size");
  }
  if (requested == 0) return def;
  return requested > max ? max : requested;
}

}  // namespace crm::common
