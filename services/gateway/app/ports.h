#pragma once
// Ports of the gateway's access control: where keys live and how requests
// are rate limited.
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "libs/outbox/write_port.h"
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

// Who writes, for the audit trail, and the call's idempotency (the unit of
// work's WriteMeta): tenant_id is the caller's tenant, the scope of the
// idempotency key ("" for the bootstrap tool); principal the caller's key id.
using WriteContext = outbox::WriteMeta;

// One admin write's transaction, as the use cases drive it
// (libs/outbox/write_port.h).
class KeyTx {
 public:
  virtual ~KeyTx() = default;
  // Save: a new tenant, written in its own scope, with its audit row there
  // (CreateTenant) when the caller's tenant is another.
  virtual void SaveTenant(const Tenant& t) = 0;
  // Save: a new key, created by the write's principal, in the tenant the
  // write is in (after SaveTenant: the new tenant, whose first key gets its
  // own audit row there, CreateApiKey); a key of another tenant is refused
  // (the row policy).
  virtual void SaveKey(const KeyRecord& k) = 0;
};

// Where keys live. Its writes run through KeyTx (Run<T>) and take effect
// exactly once per idempotency key: with w.idempotency_key, the key is
// claimed in w.tenant_id in the write's own transaction; a repeat with the
// same fingerprint answers the first call's answer (the same tenant, key
// and secret) or its refusal, and writes nothing; another fingerprint is
// INVALID_ARGUMENT IDEMPOTENCY_KEY_REUSED (field request_id), another
// method INVALID_ARGUMENT on request_id. Keys and stored answers expire
// after the idempotency key TTL.
class KeyStore : public outbox::UnitOfWork<KeyTx, CreatedTenant, CreatedKey> {
 public:
  // Any tenant's key by id (authentication happens before the tenant is known).
  virtual absl::StatusOr<std::optional<KeyRecord>> FindKey(const std::string& key_id) = 0;
  // Keys of one tenant ordered by (create_time, id), after the cursor key id.
  virtual absl::StatusOr<std::vector<KeyRecord>> ListKeys(const std::string& tenant_id,
                                                          const std::string& after_key_id,
                                                          int limit) = 0;
  // NOT_FOUND (API_KEY_NOT_FOUND) for an id of another tenant.
  virtual absl::StatusOr<KeyRecord> RevokeKey(const std::string& tenant_id,
                                              const std::string& key_id, absl::Time now,
                                              const std::string& principal) = 0;
};

// The admin writes, written once over KeyTx. A tenant with its first key in
// one transaction; w.tenant_id "" (the bootstrap tool) audits in the new
// tenant. Returns what the call answers (`created`, or the first call's
// answer on a replay).
absl::StatusOr<CreatedTenant> WriteTenant(KeyStore& keys, const WriteContext& w,
                                          const CreatedTenant& created);
// A key of w.tenant_id (created.key.tenant_id must equal it).
absl::StatusOr<CreatedKey> WriteKey(KeyStore& keys, const WriteContext& w,
                                    const CreatedKey& created);

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
