#pragma once
// Opaque page tokens bound to the tenant and the query: base64url(cursor) "."
// base64url(HMAC-SHA256(secret, tenant | scope | cursor)[0..16]). A token
// from another tenant, another query or tampered with is INVALID_ARGUMENT
// (INVALID_PAGE_TOKEN), never a silent first page.
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace crm::common {

class PageTokenCodec final {
 public:
  explicit PageTokenCodec(std::string secret) : secret_(std::move(secret)) {}
  std::string Encode(absl::string_view tenant, absl::string_view scope,
                     absl::string_view cursor) const;
  absl::StatusOr<std::string> Decode(absl::string_view tenant, absl::string_view scope,
                                     absl::string_view token) const;

 private:
  std::string Mac(absl::string_view tenant, absl::string_view scope,
                  absl::string_view cursor) const;
  std::string secret_;
};

// Clamps a requested page size: 0 -> def, above max -> max, negative -> error.
absl::StatusOr<int> ClampPageSize(int requested, int def, int max);

}  // namespace crm::common
