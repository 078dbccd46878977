#include "services/gateway/domain/api_key.h"

#include <catch2/catch.hpp>
#include <string>

#include "libs/common/errors.h"

namespace {

using namespace crm::gateway::domain;  // NOLINT
using crm::common::ReasonOf;

const std::string kId = "k0123456789abcdef";
const std::string kSecret(64, 'a');
const std::string kKey = "crm_" + kId + "_" + kSecret;

void RequireInvalid(const absl::StatusOr<ParsedKey>& r) {
  REQUIRE_FALSE(r.ok());
  CHECK(r.status().code() == absl::StatusCode::kUnauthenticated);
  CHECK(ReasonOf(r.status()) == "INVALID_CREDENTIALS");
}

TEST_CASE("ParseAuthorization", "[gateway][domain]") {
  SECTION("Bearer key, any case and extra spaces") {
    for (std::string h : {"Bearer " + kKey, "bearer " + kKey, "BEARER   " + kKey,
                          "  Bearer " + kKey + "  "}) {
      INFO(h);
      auto r = ParseAuthorization(h);
      REQUIRE(r.ok());
      CHECK(r->key_id == kId);
      CHECK(r->secret == kSecret);
    }
  }
  SECTION("missing credentials") {
    for (const char* h : {"", "   "}) {
      auto r = ParseAuthorization(h);
      REQUIRE_FALSE(r.ok());
      CHECK(r.status().code() == absl::StatusCode::kUnauthenticated);
      CHECK(ReasonOf(r.status()) == "MISSING_CREDENTIALS");
    }
  }
  SECTION("wrong scheme") {
    RequireInvalid(ParseAuthorization("Basic dXNlcjpwYXNz"));
    RequireInvalid(ParseAuthorization("Bearer"));
    RequireInvalid(ParseAuthorization("Bearer "));
    RequireInvalid(ParseAuthorization("Token " + kKey));
  }
  SECTION("malformed key") {
    RequireInvalid(ParseAuthorization("Bearer crm_short"));
    RequireInvalid(ParseAuthorization("Bearer " + kKey + "0"));
    RequireInvalid(ParseAuthorization("Bearer " + kKey.substr(0, kKey.size() - 1)));
  }
}

TEST_CASE("ParseKey, FormatKey and IsKeyId", "[gateway][domain]") {
  SECTION("round trip") {
    auto r = ParseKey(kKey);
    REQUIRE(r.ok());
    CHECK(FormatKey(*r) == kKey);
    ParsedKey k{"kffffffffffffffff", std::string(64, '0')};
    auto back = ParseKey(FormatKey(k));
    REQUIRE(back.ok());
    CHECK(back->key_id == k.key_id);
    CHECK(back->secret == k.secret);
  }
  SECTION("malformed") {
    std::string upper_secret = "crm_" + kId + "_" + std::string(64, 'A');
    std::string bad_prefix = "crx_" + kId + "_" + kSecret;
    std::string bad_sep = "crm_" + kId + "-" + kSecret;
    std::string bad_id = "crm_x0123456789abcdef_" + kSecret;
    std::string non_hex_id = "crm_k0123456789abcdeg_" + kSecret;
    std::string non_hex_secret = "crm_" + kId + "_" + std::string(63, 'a') + "z";
    for (const std::string& k :
         {upper_secret, bad_prefix, bad_sep, bad_id, non_hex_id, non_hex_secret, std::string()}) {
      INFO(k);
      RequireInvalid(ParseKey(k));
    }
  }
  SECTION("IsKeyId") {
    CHECK(IsKeyId(kId));
    CHECK_FALSE(IsKeyId("k0123456789abcde"));
    CHECK_FALSE(IsKeyId("k0123456789abcdef0"));
    CHECK_FALSE(IsKeyId("K0123456789abcdef"));
    CHECK_FALSE(IsKeyId("k0123456789ABCDEF"));
    CHECK_FALSE(IsKeyId(""));
  }
}

}  // namespace
