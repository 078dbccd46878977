#pragma once
// Personal price quotes: made and signed by personalization (QuotePrice),
// honoured by transaction when an order line cites one. The token carries
// what was quoted and an HMAC-SHA256 over it, under a key derived (HKDF)
// from the deployment's CRM_CONTEXT_KEY for this one use, so a frontend
// holding a token can neither forge nor alter one, and a quote is bound to
// its tenant, customer, sku and currency and void after its expiry.
//
//   token = "pq1." base64url(JSON claims) "." base64url(HMAC(key, "pq1." base64url(claims)))
#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace crm::common {

inline constexpr std::size_t kMaxPriceQuoteTokenBytes = 2048;

struct PriceQuoteClaims {
  std::string quote_id;  // UUID
  std::string tenant_id;
  std::string customer_id;
  std::string sku;
  std::string currency_code;
  std::int64_t unit_price_minor = 0;              // the quoted price of one unit
  std::int64_t list_price_minor = 0;              // the list price it was quoted against
  absl::Time expire_time = absl::InfinitePast();  // whole seconds
};

// The quote-signing key of a deployment's context key.
std::string PriceQuoteKey(absl::string_view context_key);

std::string SignPriceQuote(absl::string_view key, const PriceQuoteClaims& c);

// The claims of a token signed with `key`: INVALID_ARGUMENT
// (PRICE_QUOTE_INVALID) for a token that is not one (malformed, altered,
// another key); FAILED_PRECONDITION (PRICE_QUOTE_EXPIRED) at or after its
// expiry. The caller checks the claims against the order it prices.
absl::StatusOr<PriceQuoteClaims> VerifyPriceQuote(absl::string_view key, absl::string_view token,
                                                  absl::Time now);

}  // namespace crm::common
