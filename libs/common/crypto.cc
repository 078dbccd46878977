#include "libs/common/crypto.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <openssl/sha.h>

#include <memory>
#include <stdexcept>

namespace crm::common {

std::string Sha256(absl::string_view data) {
  unsigned char out[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(data.data()), data.size(), out);
  return std::string(reinterpret_cast<char*>(out), sizeof out);
}

std::string HmacSha256(absl::string_view key, absl::string_view data) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(data.data()), data.size(), out, &len);
  return std::string(reinterpret_cast<char*>(out), len);
}

std::string HmacSha1(absl::string_view key, absl::string_view data) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha1(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(data.data()), data.size(), out, &len);
  return std::string(reinterpret_cast<char*>(out), len);
}

std::string RandomBytes(size_t n) {
  std::string out(n, '\0');
  if (RAND_bytes(reinterpret_cast<unsigned char*>(out.data()), static_cast<int>(n)) != 1) {
    throw std::runtime_error("RAND_bytes failed");
  }
  return out;
}

std::string HexEncode(absl::string_view raw) {
  static const char* kHex = "0123456789abcdef";
  std::string out;
  out.reserve(raw.size() * 2);
  for (unsigned char c : raw) {
    out.push_back(kHex[c >> 4]);
    out.push_back(kHex[c & 0xf]);
  }
  return out;
}

bool ConstantTimeEquals(absl::string_view a, absl::string_view b) {
  return a.size() == b.size() && CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

std::string HkdfSha256(absl::string_view ikm, absl::string_view salt, absl::string_view info,
                       size_t length) {
  if (length == 0 || length > 255 * 32) throw std::invalid_argument("HKDF length");
  const std::string prk = HmacSha256(salt.empty() ? std::string(32, '\0') : std::string(salt), ikm);
  std::string okm, block;
  for (unsigned char i = 1; okm.size() < length; ++i) {
    block = HmacSha256(prk, block + std::string(info) + static_cast<char>(i));
    okm += block;
  }
  okm.resize(length);
  return okm;
}

namespace {
constexpr size_t kGcmNonce = 12;
constexpr size_t kGcmTag = 16;
using CipherCtx = std::unique_ptr<EVP_CIPHER_CTX, decltype(&EVP_CIPHER_CTX_free)>;

const unsigned char* Bytes(absl::string_view s) {
  return reinterpret_cast<const unsigned char*>(s.data());
}

// A context for AES-256-GCM with key and nonce set, the aad fed in.
CipherCtx GcmContext(bool encrypt, absl::string_view key, absl::string_view nonce,
                     absl::string_view aad) {
  if (key.size() != 32) throw std::invalid_argument("AES-256-GCM needs a 32-byte key");
  CipherCtx ctx(EVP_CIPHER_CTX_new(), &EVP_CIPHER_CTX_free);
  int len = 0;
  if (!ctx ||
      EVP_CipherInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, nullptr, nullptr, encrypt) != 1 ||
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_IVLEN, kGcmNonce, nullptr) != 1 ||
      EVP_CipherInit_ex(ctx.get(), nullptr, nullptr, Bytes(key), Bytes(nonce), encrypt) != 1 ||
      EVP_CipherUpdate(ctx.get(), nullptr, &len, Bytes(aad), static_cast<int>(aad.size())) != 1) {
    throw std::runtime_error("AES-256-GCM setup failed");
  }
  return ctx;
}
}  // namespace

std::string Aes256GcmSeal(absl::string_view key, absl::string_view plaintext,
                          absl::string_view aad) {
  const std::string nonce = RandomBytes(kGcmNonce);
  CipherCtx ctx = GcmContext(true, key, nonce, aad);
  std::string out = nonce;
  out.resize(kGcmNonce + plaintext.size() + kGcmTag);
  auto* data = reinterpret_cast<unsigned char*>(out.data()) + kGcmNonce;
  int len = 0, tail = 0;
  if (EVP_EncryptUpdate(ctx.get(), data, &len, Bytes(plaintext),
                        static_cast<int>(plaintext.size())) != 1 ||
      EVP_EncryptFinal_ex(ctx.get(), data + len, &tail) != 1 ||
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_GET_TAG, kGcmTag, data + plaintext.size()) != 1) {
    throw std::runtime_error("AES-256-GCM encryption failed");
  }
  return out;
}

std::optional<std::string> Aes256GcmOpen(absl::string_view key, absl::string_view sealed,
                                         absl::string_view aad) {
  if (key.size() != 32 || sealed.size() < kGcmNonce + kGcmTag) return std::nullopt;
  const absl::string_view nonce = sealed.substr(0, kGcmNonce);
  const absl::string_view data = sealed.substr(kGcmNonce, sealed.size() - kGcmNonce - kGcmTag);
  std::string tag(sealed.substr(sealed.size() - kGcmTag));
  CipherCtx ctx = GcmContext(false, key, nonce, aad);
  std::string out(data.size(), '\0');
  int len = 0, tail = 0;
  if (EVP_DecryptUpdate(ctx.get(), reinterpret_cast<unsigned char*>(out.data()), &len, Bytes(data),
                        static_cast<int>(data.size())) != 1 ||
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_TAG, kGcmTag, tag.data()) != 1 ||
      EVP_DecryptFinal_ex(ctx.get(), reinterpret_cast<unsigned char*>(out.data()) + len, &tail) !=
          1) {
    return std::nullopt;  // wrong key, wrong aad or altered bytes
  }
  return out;
}

}  // namespace crm::common
