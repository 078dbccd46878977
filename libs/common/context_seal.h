#pragma once
// The gateway's proof that it authenticated a call's tenant context. Internal
// services trust tenant, principal and roles only when the seal verifies with
// the deployment's context key (CRM_CONTEXT_KEY), so a caller that reaches a
// service port directly cannot forge a tenant.
//
//   seal = "v1." <expiry, unix seconds> "." hex(HMAC-SHA256(key,
//          "v1\n" expiry "\n" tenant "\n" principal "\n" roles))
//
// Seals are short-lived: a verifier refuses an expired seal and one whose
// expiry lies further ahead than `max_lifetime` (a stolen seal is useless
// minutes later, whatever expiry its maker wrote).
#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace crm::common {

inline constexpr size_t kMinContextKeyBytes = 32;
// How long a seal made now stays valid, and the longest a verifier accepts.
inline constexpr absl::Duration kContextSealLifetime = absl::Seconds(120);
inline constexpr absl::Duration kContextSealMaxLifetime = absl::Seconds(300);

struct SealedContext {
  absl::string_view tenant_id;
  absl::string_view principal;
  absl::string_view roles;
};

std::string SealContext(absl::string_view key, const SealedContext& c, absl::Time expires);

// UNAUTHENTICATED (reason INVALID_TENANT_CONTEXT) unless `seal` was made with
// `key` for exactly these fields and is current at `now`.
absl::Status VerifyContextSeal(absl::string_view key, const SealedContext& c,
                               absl::string_view seal, absl::Time now,
                               absl::Duration max_lifetime = kContextSealMaxLifetime);

}  // namespace crm::common
