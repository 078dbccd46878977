#pragma once
// Thin wrappers over OpenSSL for hashing and randomness.
#include <string>

#include "absl/strings/string_view.h"

namespace crm::common {

std::string Sha256(absl::string_view data);            // 32 raw bytes
std::string HmacSha256(absl::string_view key, absl::string_view data);  // 32 raw bytes
std::string RandomBytes(size_t n);                      // CSPRNG
std::string HexEncode(absl::string_view raw);           // lower-case
bool ConstantTimeEquals(absl::string_view a, absl::string_view b);

}  // namespace crm::common
