#pragma once
// Ports of the gateway's access control: where keys live and how requests
// are rate limited.
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "services/gateway/domain/permissions.h"

namespace crm::gateway::app {

struct KeyRecord {
  std::string id;
  std::string tenant_id;
  std::string display_name;
  std::vector<domain::Role> roles;
  std::string secret_sha256;  // raw 32 bytes
  int rate_limit_per_second = 0;
  absl::Time create_time = absl::InfinitePast();
  absl::Time expire_time = absl::InfiniteFuture();  // never
  absl::Time revoke_time = absl::InfiniteFuture();  // not revoked
};

struct Tenant {
  std::string id;
  std::string display_name;
  absl::Time create_time = absl::InfinitePast();
};

struct CreatedKey {
  KeyRecord key;
  std::string secret;  // full "crm_..." key, shown once
};

struct CreatedTenant {
  Tenant tenant;
  CreatedKey admin_key;
};

// Who writes, for the audit trail, and the call's idempotency.
struct WriteContext {
  std::string tenant_id;   // the caller's tenant: scope of the idempotency key
  std::string principal;   // the caller's key id
  std::string request_id;  // x-request-id
  std::string method;
  std::string idempotency_key;  // the request's request_id field, "" if none
  std::string fingerprint;      // digest of the request body without its request_id
};

// Writes take effect exactly once per idempotency key: with
// w.idempotency_key, the key is claimed in w.tenant_id in the write's own
// transaction; a repeat with the same fingerprint answers the first call's
// answer (the same tenant, key and secret) or its refusal, and writes
// nothing; another fingerprint is INVALID_ARGUMENT IDEMPOTENCY_KEY_REUSED
// (field request_id), another method INVALID_ARGUMENT on request_id. Keys
// and stored answers expire after the idempotency key TTL.
class KeyStore {
 public:
  virtual ~KeyStore() = default;
  // Any tenant's key by id (authentication happens before the tenant is known).
  virtual absl::StatusOr<std::optional<KeyRecord>> FindKey(const std::string& key_id) = 0;
  // Creates the tenant and its first key in one transaction; returns what
  // the call answers (`created`, or the first call's answer on a replay).
  // w.tenant_id "" (the bootstrap tool) audits in the new tenant.
  virtual absl::StatusOr<CreatedTenant> CreateTenant(const WriteContext& w,
                                                     const CreatedTenant& created) = 0;
  // A key of w.tenant_id (created.key.tenant_id must equal it).
  virtual absl::StatusOr<CreatedKey> InsertKey(const WriteContext& w,
                                               const CreatedKey& created) = 0;
  // Keys of one tenant ordered by (create_time, id), after the cursor key id.
  virtual absl::StatusOr<std::vector<KeyRecord>> ListKeys(const std::string& tenant_id,
                                                          const std::string& after_key_id,
                                                          int limit) = 0;
  // NOT_FOUND (API_KEY_NOT_FOUND) for an id of another tenant.
  virtual absl::StatusOr<KeyRecord> RevokeKey(const std::string& tenant_id,
                                              const std::string& key_id, absl::Time now,
                                              const std::string& principal) = 0;
};

struct RateDecision {
  bool allowed = true;
  absl::Duration retry_after = absl::ZeroDuration();  // when nothing was granted
  int granted = 1;                                    // tokens taken (1..want when allowed)
};

class RateLimiter {
 public:
  virtual ~RateLimiter() = default;
  // Token bucket per key shared by every gateway replica: `rate` tokens per
  // second, bucket of `burst`. Takes up to `want` tokens at once (a replica
  // spends them locally: fewer round trips, never more than the bucket held).
  virtual absl::StatusOr<RateDecision> Take(const std::string& key_id, int rate, int burst,
                                            int want) = 0;
};

}  // namespace crm::gateway::app
