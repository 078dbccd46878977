#include "libs/common/price_quote.h"

#include <nlohmann/json.hpp>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "libs/common/crypto.h"
#include "libs/common/errors.h"

namespace crm::common {
namespace {

constexpr absl::string_view kVersion = "pq1";

absl::Status Invalid(absl::string_view why) {
  return WithReason(absl::InvalidArgumentError(absl::StrCat(
                        "price_quote ", why, ": ask QuotePrice for a quote and cite its token")),
                    "PRICE_QUOTE_INVALID");
}

std::string Mac(absl::string_view key, absl::string_view signed_part) {
  std::string out;
  absl::WebSafeBase64Escape(HmacSha256(key, signed_part), &out);
  return out;
}

}  // namespace

std::string PriceQuoteKey(absl::string_view context_key) {
  return HkdfSha256(context_key, "", "crm price quote v1", 32);
}

std::string SignPriceQuote(absl::string_view key, const PriceQuoteClaims& c) {
  // Integers as strings: JSON numbers are doubles to many readers.
  const std::string claims =
      nlohmann::json{{"id", c.quote_id},
                     {"tenant", c.tenant_id},
                     {"customer", c.customer_id},
                     {"sku", c.sku},
                     {"currency", c.currency_code},
                     {"price", absl::StrCat(c.unit_price_minor)},
                     {"list", absl::StrCat(c.list_price_minor)},
                     {"exp", absl::StrCat(absl::ToUnixSeconds(c.expire_time))}}
          .dump();
  std::string body;
  absl::WebSafeBase64Escape(claims, &body);
  const std::string signed_part = absl::StrCat(kVersion, ".", body);
  return absl::StrCat(signed_part, ".", Mac(key, signed_part));
}

absl::StatusOr<PriceQuoteClaims> VerifyPriceQuote(absl::string_view key, absl::string_view token,
                                                  absl::Time now) {
  if (token.size() > kMaxPriceQuoteTokenBytes) return Invalid("is too long to be a quote");
  std::vector<absl::string_view> parts = absl::StrSplit(token, '.');
  if (parts.size() != 3 || parts[0] != kVersion) return Invalid("is not a price quote token");
  const std::string signed_part = absl::StrCat(parts[0], ".", parts[1]);
  if (!ConstantTimeEquals(Mac(key, signed_part), parts[2])) {
    return Invalid("is not signed by this deployment or was altered");
  }
  std::string claims;
  if (!absl::WebSafeBase64Unescape(parts[1], &claims)) return Invalid("is malformed");
  PriceQuoteClaims c;
  std::int64_t exp = 0;
  try {
    const nlohmann::json j = nlohmann::json::parse(claims);
    c.quote_id = j.at("id").get<std::string>();
    c.tenant_id = j.at("tenant").get<std::string>();
    c.customer_id = j.at("customer").get<std::string>();
    c.sku = j.at("sku").get<std::string>();
    c.currency_code = j.at("currency").get<std::string>();
    if (!absl::SimpleAtoi(j.at("price").get<std::string>(), &c.unit_price_minor) ||
        !absl::SimpleAtoi(j.at("list").get<std::string>(), &c.list_price_minor) ||
        !absl::SimpleAtoi(j.at("exp").get<std::string>(), &exp)) {
      return Invalid("is malformed");
    }
  } catch (const nlohmann::json::exception&) {
    return Invalid("is malformed");
  }
  c.expire_time = absl::FromUnixSeconds(exp);
  if (now >= c.expire_time) {
    return WithReason(absl::FailedPreconditionError(absl::StrCat(
                          "price_quote ", c.quote_id, " expired at ",
                          absl::FormatTime(absl::RFC3339_sec, c.expire_time, absl::UTCTimeZone()),
                          ": ask QuotePrice for a new quote")),
                      "PRICE_QUOTE_EXPIRED");
  }
  return c;
}

}  // namespace crm::common
