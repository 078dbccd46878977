#pragma once
// Thin wrappers over OpenSSL for hashing, randomness, key derivation and
// authenticated encryption.
#include <optional>
#include <string>

#include "absl/strings/string_view.h"

namespace crm::common {

std::string Sha256(absl::string_view data);            // 32 raw bytes
std::string HmacSha256(absl::string_view key, absl::string_view data);  // 32 raw bytes
// Only to check signatures a third party makes with it (Twilio's
// X-Twilio-Signature); never for our own.
std::string HmacSha1(absl::string_view key, absl::string_view data);  // 20 raw bytes
std::string RandomBytes(size_t n);                      // CSPRNG
std::string HexEncode(absl::string_view raw);           // lower-case
bool ConstantTimeEquals(absl::string_view a, absl::string_view b);

// HKDF-SHA256 (RFC 5869): `length` (1..8160) bytes of key material derived
// from the secret `ikm`; `info` separates the uses of one secret.
std::string HkdfSha256(absl::string_view ikm, absl::string_view salt, absl::string_view info,
                       size_t length);

// AES-256-GCM with a 32-byte `key`: nonce (12 random bytes) || ciphertext ||
// tag (16 bytes). `aad` is authenticated, not encrypted: what the sealed
// data belongs to, so it cannot be moved elsewhere. A random nonce per seal
// is safe far below 2^32 seals under one key.
std::string Aes256GcmSeal(absl::string_view key, absl::string_view plaintext,
                          absl::string_view aad);
// nullopt unless `sealed` was made by Aes256GcmSeal with this key and aad.
std::optional<std::string> Aes256GcmOpen(absl::string_view key, absl::string_view sealed,
                                         absl::string_view aad);

}  // namespace crm::common
