#pragma once
// Authentication (API key -> principal, with a short-lived cache so
// revocation takes effect within the TTL), authorization by the permission
// table, per-key rate limits, and the admin use cases (tenants, keys).
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "libs/common/clock.h"
#include "services/gateway/app/ports.h"
#include "services/gateway/domain/token_bucket.h"

namespace crm::gateway::app {

struct Principal {
  std::string tenant_id;
  std::string key_id;
  std::vector<domain::Role> roles;
  int rate_limit_per_second = 0;
};

struct AccessOptions {
  absl::Duration key_cache_ttl = absl::Seconds(5);
  int default_rate_per_second = 100;
  double burst_seconds = 2.0;  // bucket size = rate * burst_seconds
  // Key lookups in the store (cache misses) per second and replica; beyond
  // it, requests whose key is not cached are refused (RATE_LIMITED, retry in
  // a second), so a flood of random key ids cannot hammer PostgreSQL.
  int max_key_lookups_per_second = 1000;
  // Unknown key ids are remembered (for the cache TTL) up to this many; the
  // negative cache is dropped when full, the cache of real keys never is.
  size_t max_unknown_cached = 10000;
};

inline constexpr char kRetryAfterPayload[] = "crm.retry_after_ms";

class Access final {
 public:
  Access(KeyStore& keys, RateLimiter& limiter, const common::Clock& clock, AccessOptions options)
      : keys_(keys), limiter_(limiter), clock_(clock), options_(options) {}

  // UNAUTHENTICATED (MISSING_CREDENTIALS / INVALID_CREDENTIALS) unless the
  // header carries a known, unexpired, unrevoked key whose secret matches.
  absl::StatusOr<Principal> Authenticate(absl::string_view authorization);
  // PERMISSION_DENIED (PERMISSION_DENIED_FOR_ROLE) unless one of p's roles
  // is admitted by `policy`, the access policy `full_method` declares (its
  // name is for the message).
  absl::Status Authorize(const Principal& p, absl::string_view full_method,
                         domain::AccessPolicy policy) const;
  // RESOURCE_EXHAUSTED (RATE_LIMITED) with the retry delay in the
  // kRetryAfterPayload payload. Tokens are taken from the shared bucket in
  // small leases (rate / 50, at least 1) and spent locally; a lease unused
  // for a second is dropped. When the shared store fails, this replica's own
  // bucket per key decides (same rate and burst, per replica): a looser
  // limit while Redis is down, never no limit.
  absl::Status Admit(const Principal& p);
  // One more token for a principal already admitted (a message on a relayed
  // stream) from the local lease: true when taken without I/O; false means
  // "call Admit on a thread that may block".
  bool TakeLeasedToken(const Principal& p);

  // The whole admission (authenticate, authorize, admit) when it needs no
  // I/O: the key is in the cache and a leased token is left. nullopt means
  // "run Authenticate/Authorize/Admit on a thread that may block".
  std::optional<absl::StatusOr<Principal>> AdmitWithoutIo(absl::string_view authorization,
                                                          absl::string_view full_method,
                                                          domain::AccessPolicy policy);
  // Forget a key now (this replica); others forget it within the cache TTL.
  void Forget(const std::string& key_id);

 private:
  struct CacheEntry {
    std::optional<KeyRecord> key;
    absl::Time fetched;
  };
  struct Lease {
    int tokens = 0;
    absl::Time taken;
  };
  static absl::StatusOr<Principal> Verify(const std::optional<KeyRecord>& key,
                                          absl::string_view secret, absl::Time now);
  absl::StatusOr<std::optional<KeyRecord>> Lookup(const std::string& key_id);
  bool TakeLeaseLocked(const std::string& key_id, absl::Time now)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  KeyStore& keys_;
  RateLimiter& limiter_;
  const common::Clock& clock_;
  AccessOptions options_;
  absl::Mutex mu_;
  std::map<std::string, CacheEntry> cache_ ABSL_GUARDED_BY(mu_);     // known keys
  std::map<std::string, absl::Time> unknown_ ABSL_GUARDED_BY(mu_);   // ids with no key
  // Bumped by Forget: a lookup that raced a Forget does not cache its answer
  // (it may have read the key before the revoke committed).
  uint64_t forget_generation_ ABSL_GUARDED_BY(mu_) = 0;
  absl::Time lookup_window_ ABSL_GUARDED_BY(mu_) = absl::InfinitePast();
  int lookups_in_window_ ABSL_GUARDED_BY(mu_) = 0;
  std::map<std::string, Lease> leases_ ABSL_GUARDED_BY(mu_);
  domain::LocalTokenBuckets local_buckets_ ABSL_GUARDED_BY(mu_);
  bool shared_limiter_down_ ABSL_GUARDED_BY(mu_) = false;  // logged on change only
};

class Admin final {
 public:
  Admin(KeyStore& keys, Access& access, const common::Clock& clock)
      : keys_(keys), access_(access), clock_(clock) {}

  // `w` carries the call's audit and idempotency fields; Admin sets its
  // tenant, principal and method from the caller.
  absl::StatusOr<CreatedTenant> CreateTenant(const Principal& caller, WriteContext w,
                                             const std::string& display_name);
  absl::StatusOr<CreatedKey> CreateKey(const Principal& caller, WriteContext w,
                                       const std::string& display_name,
                                       std::vector<domain::Role> roles, absl::Time expire_time,
                                       int rate_limit_per_second);
  absl::StatusOr<std::vector<KeyRecord>> ListKeys(const Principal& caller,
                                                  const std::string& after_key_id, int limit);
  absl::StatusOr<KeyRecord> RevokeKey(const Principal& caller, const std::string& key_id);

  // A new key record + secret for a tenant (no I/O).
  static CreatedKey NewKey(const std::string& tenant_id, const std::string& display_name,
                           std::vector<domain::Role> roles, absl::Time now);

 private:
  KeyStore& keys_;
  Access& access_;
  const common::Clock& clock_;
};

}  // namespace crm::gateway::app
