#pragma once
// The webhook signature header (docs/delivery.md, "Webhooks"):
//   X-CRM-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>
// A receiver recomputes v1 over the raw body with its endpoint's secret,
// compares in constant time, and refuses a t older than its replay window
// (we suggest 5 minutes).
#include <cstdint>
#include <string>

#include "absl/strings/string_view.h"

namespace crm::delivery::domain {

std::string WebhookSignature(absl::string_view secret, int64_t unix_seconds,
                             absl::string_view body);

}  // namespace crm::delivery::domain
