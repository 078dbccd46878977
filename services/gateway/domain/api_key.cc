#include "services/gateway/domain/api_key.h"

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "libs/common/errors.h"

namespace crm::gateway::domain {
namespace {
absl::Status Invalid() {
  return common::WithReason(
      absl::UnauthenticatedError("the API key is malformed: expected crm_<id>_<secret>"),
      "INVALID_CREDENTIALS");
}
bool IsLowerHex(absl::string_view s) {
  for (char c : s) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}
}  // namespace

bool IsKeyId(absl::string_view id) {
  return id.size() == 17 && id[0] == 'k' && IsLowerHex(id.substr(1));
}

absl::StatusOr<ParsedKey> ParseKey(absl::string_view key) {
  // crm_ + 17 + _ + 64
  if (key.size() != 4 + 17 + 1 + 64 || !absl::StartsWith(key, "crm_") || key[21] != '_') {
    return Invalid();
  }
  ParsedKey p{std::string(key.substr(4, 17)), std::string(key.substr(22))};
  if (!IsKeyId(p.key_id) || !IsLowerHex(p.secret)) return Invalid();
  return p;
}

absl::StatusOr<ParsedKey> ParseAuthorization(absl::string_view header) {
  absl::string_view h = absl::StripAsciiWhitespace(header);
  if (h.empty()) {
    return common::WithReason(
        absl::UnauthenticatedError("missing credentials: send Authorization: Bearer <API key>"),
        "MISSING_CREDENTIALS");
  }
  if (h.size() > 7 && absl::EqualsIgnoreCase(h.substr(0, 7), "bearer ")) {
    h = absl::StripLeadingAsciiWhitespace(h.substr(7));
  } else {
    return common::WithReason(
        absl::UnauthenticatedError("unsupported authorization scheme: use Bearer <API key>"),
        "INVALID_CREDENTIALS");
  }
  return ParseKey(h);
}

std::string FormatKey(const ParsedKey& k) { return absl::StrCat("crm_", k.key_id, "_", k.secret); }

}  // namespace crm::gateway::domain
