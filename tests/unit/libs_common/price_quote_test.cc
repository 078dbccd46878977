#include "libs/common/price_quote.h"

#include <catch2/catch.hpp>
#include <string>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "libs/common/crypto.h"
#include "libs/common/errors.h"

namespace {

using crm::common::PriceQuoteClaims;
using crm::common::PriceQuoteKey;
using crm::common::SignPriceQuote;
using crm::common::VerifyPriceQuote;

const std::string kKey = PriceQuoteKey(std::string(40, 'k'));
const absl::Time kNow = absl::FromUnixSeconds(1800000000);

PriceQuoteClaims Claims() {
  PriceQuoteClaims c;
  c.quote_id = "0b8a9a52-4b7e-4f0e-9c1e-7d0c2f7f1a11";
  c.tenant_id = "5f0c6c2e-8d3c-4c1e-9a4e-3f1f0f6a9b10";
  c.customer_id = "8d1f6a3c-2b4e-4c5d-9e6f-0a1b2c3d4e5f";
  c.sku = "SKU-1";
  c.currency_code = "EUR";
  c.unit_price_minor = 8550;
  c.list_price_minor = 9500;
  c.expire_time = kNow + absl::Minutes(15);
  return c;
}

bool Invalid(const absl::Status& s) {
  return s.code() == absl::StatusCode::kInvalidArgument &&
         crm::common::ReasonOf(s) == "PRICE_QUOTE_INVALID";
}

TEST_CASE("A signed quote verifies and carries its claims", "[common][price_quote]") {
  const std::string token = SignPriceQuote(kKey, Claims());
  CHECK(token.rfind("pq1.", 0) == 0);
  auto c = VerifyPriceQuote(kKey, token, kNow);
  REQUIRE(c.ok());
  CHECK(c->quote_id == Claims().quote_id);
  CHECK(c->tenant_id == Claims().tenant_id);
  CHECK(c->customer_id == Claims().customer_id);
  CHECK(c->sku == "SKU-1");
  CHECK(c->currency_code == "EUR");
  CHECK(c->unit_price_minor == 8550);
  CHECK(c->list_price_minor == 9500);
  CHECK(c->expire_time == kNow + absl::Minutes(15));
}

TEST_CASE("Expired, altered, forged and malformed quotes are refused", "[common][price_quote]") {
  const std::string token = SignPriceQuote(kKey, Claims());
  SECTION("at and after its expiry") {
    auto at = VerifyPriceQuote(kKey, token, kNow + absl::Minutes(15));
    CHECK(at.status().code() == absl::StatusCode::kFailedPrecondition);
    CHECK(crm::common::ReasonOf(at.status()) == "PRICE_QUOTE_EXPIRED");
    CHECK(VerifyPriceQuote(kKey, token, kNow + absl::Minutes(15) - absl::Seconds(1)).ok());
  }
  SECTION("another deployment's key") {
    CHECK(Invalid(VerifyPriceQuote(PriceQuoteKey(std::string(40, 'x')), token, kNow).status()));
    // The context key itself is not the quote key.
    CHECK(Invalid(VerifyPriceQuote(std::string(40, 'k'), token, kNow).status()));
  }
  SECTION("a lower price written into the claims") {
    std::vector<std::string> parts = absl::StrSplit(token, '.');
    std::string claims;
    REQUIRE(absl::WebSafeBase64Unescape(parts[1], &claims));
    const auto at = claims.find("\"8550\"");
    REQUIRE(at != std::string::npos);
    claims.replace(at, 6, "\"1\"");
    std::string body;
    absl::WebSafeBase64Escape(claims, &body);
    CHECK(Invalid(
        VerifyPriceQuote(kKey, absl::StrCat(parts[0], ".", body, ".", parts[2]), kNow).status()));
  }
  SECTION("malformed tokens") {
    CHECK(Invalid(VerifyPriceQuote(kKey, "", kNow).status()));
    CHECK(Invalid(VerifyPriceQuote(kKey, "pq1.abc", kNow).status()));
    CHECK(Invalid(VerifyPriceQuote(kKey, "pq2" + token.substr(3), kNow).status()));
    CHECK(Invalid(VerifyPriceQuote(kKey, token + "x", kNow).status()));
    CHECK(Invalid(VerifyPriceQuote(kKey, std::string(5000, 'a'), kNow).status()));
    // A valid MAC over claims that are not the documented JSON.
    std::string body, mac;
    absl::WebSafeBase64Escape("{\"id\": 1}", &body);
    absl::WebSafeBase64Escape(crm::common::HmacSha256(kKey, absl::StrCat("pq1.", body)), &mac);
    CHECK(Invalid(VerifyPriceQuote(kKey, absl::StrCat("pq1.", body, ".", mac), kNow).status()));
  }
}

}  // namespace
