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

class KeyStore {
 public:
  virtual ~KeyStore() = default;
  // Any tenant's key by id (authentication happens before the tenant is known).
  virtual absl::StatusOr<std::optional<KeyRecord>> FindKey(const std::string& key_id) = 0;
  // Creates the tenant and its first key in one transaction.
  virtual absl::Status CreateTenant(const Tenant& tenant, const KeyRecord& first_key,
                                    const std::string& principal) = 0;
  virtual absl::Status InsertKey(const KeyRecord& key, const std::string& principal) = 0;
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
