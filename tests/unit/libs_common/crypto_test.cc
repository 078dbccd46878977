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

}  // namespace
