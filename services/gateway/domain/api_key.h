#pragma once
// API key format: "crm_<key id>_<secret>", key id "k" + 16 hex characters,
// secret 64 hex characters (256 random bits). Pure parsing; generation and
// hashing take their randomness and digest from libs/common/crypto.
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace crm::gateway::domain {

struct ParsedKey {
  std::string key_id;
  std::string secret;
};

// From an Authorization header value; only the Bearer scheme is accepted.
absl::StatusOr<ParsedKey> ParseAuthorization(absl::string_view header);
absl::StatusOr<ParsedKey> ParseKey(absl::string_view key);
bool IsKeyId(absl::string_view id);
std::string FormatKey(const ParsedKey& k);

}  // namespace crm::gateway::domain
