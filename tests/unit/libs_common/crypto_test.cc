#include "libs/common/crypto.h"

#include <catch2/catch.hpp>
#include <string>

namespace {

using namespace crm::common;  // NOLINT

TEST_CASE("Sha256 and HexEncode match known vectors", "[common][crypto]") {
  CHECK(HexEncode(Sha256("abc")) ==
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  CHECK(HexEncode(Sha256("")) ==
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  CHECK(Sha256("abc").size() == 32);
  CHECK(HexEncode(std::string("\x00\x0f\xf0\xff", 4)) == "000ff0ff");
  CHECK(HexEncode("").empty());
}

TEST_CASE("ConstantTimeEquals and RandomBytes", "[common][crypto]") {
  CHECK(ConstantTimeEquals("secret", "secret"));
  CHECK_FALSE(ConstantTimeEquals("secret", "secreT"));
  CHECK_FALSE(ConstantTimeEquals("secret", "secret2"));
  CHECK_FALSE(ConstantTimeEquals("", "a"));
  CHECK(ConstantTimeEquals("", ""));
  CHECK(ConstantTimeEquals(std::string("a\0b", 3), std::string("a\0b", 3)));
  CHECK_FALSE(ConstantTimeEquals(std::string("a\0b", 3), std::string("a\0c", 3)));
  std::string a = RandomBytes(32), b = RandomBytes(32);
  CHECK(a.size() == 32);
  CHECK(a != b);
  CHECK(RandomBytes(0).empty());
}

TEST_CASE("HkdfSha256 matches RFC 5869 test case 1", "[common][crypto]") {
  const std::string ikm(22, '\x0b');
  const std::string salt("\x00\x01\x02\x03\x04\x05\x06\x07\x08\x09\x0a\x0b\x0c", 13);
  const std::string info("\xf0\xf1\xf2\xf3\xf4\xf5\xf6\xf7\xf8\xf9", 10);
  CHECK(HexEncode(HkdfSha256(ikm, salt, info, 42)) ==
        "3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865");
  CHECK(HkdfSha256(ikm, salt, "other use", 32) != HkdfSha256(ikm, salt, info, 32));
}

TEST_CASE("Aes256Gcm seals and opens only with the same key and aad", "[common][crypto]") {
  const std::string key = RandomBytes(32);
  const std::string plain = std::string("the secret\0with a NUL", 22);
  const std::string sealed = Aes256GcmSeal(key, plain, "tenant-a/key-1");
  CHECK(sealed.size() == 12 + plain.size() + 16);
  CHECK(sealed.find("the secret") == std::string::npos);
  CHECK(Aes256GcmOpen(key, sealed, "tenant-a/key-1") == plain);
  CHECK(Aes256GcmSeal(key, plain, "tenant-a/key-1") != sealed);  // a fresh nonce each time
  CHECK_FALSE(Aes256GcmOpen(key, sealed, "tenant-b/key-1").has_value());
  CHECK_FALSE(Aes256GcmOpen(RandomBytes(32), sealed, "tenant-a/key-1").has_value());
  std::string altered = sealed;
  altered[14] = static_cast<char>(altered[14] ^ 1);
  CHECK_FALSE(Aes256GcmOpen(key, altered, "tenant-a/key-1").has_value());
  CHECK_FALSE(Aes256GcmOpen(key, sealed.substr(0, 20), "tenant-a/key-1").has_value());
  CHECK(Aes256GcmOpen(key, Aes256GcmSeal(key, "", ""), "") == std::string());
}

}  // namespace
