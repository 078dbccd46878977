#pragma once
// In-memory KeyStore: keys by id, tenants by id, ListKeys ordered by
// (create_time, id), RevokeKey scoped to the tenant (API_KEY_NOT_FOUND).
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "services/gateway/app/ports.h"

namespace crm::testing {

class FakeKeyStore final : public gateway::app::KeyStore {
 public:
  absl::StatusOr<std::optional<gateway::app::KeyRecord>> FindKey(
      const std::string& key_id) override;
  absl::StatusOr<gateway::app::CreatedTenant> CreateTenant(
      const gateway::app::WriteContext& w, const gateway::app::CreatedTenant& created) override;
  absl::StatusOr<gateway::app::CreatedKey> InsertKey(
      const gateway::app::WriteContext& w, const gateway::app::CreatedKey& created) override;
  absl::StatusOr<std::vector<gateway::app::KeyRecord>> ListKeys(const std::string& tenant_id,
                                                                const std::string& after_key_id,
                                                                int limit) override;
  absl::StatusOr<gateway::app::KeyRecord> RevokeKey(const std::string& tenant_id,
                                                    const std::string& key_id, absl::Time now,
                                                    const std::string& principal) override;

  // Test helpers.
  void Put(const gateway::app::KeyRecord& key);  // insert or replace directly
  void FailWith(std::optional<absl::Status> s);
  // Runs after FindKey has read its answer, outside the store's lock (to
  // interleave a concurrent revoke with a lookup).
  void AfterFind(std::function<void()> hook);
  int find_calls() const;
  std::optional<gateway::app::KeyRecord> Key(const std::string& key_id) const;
  std::optional<gateway::app::Tenant> TenantOf(const std::string& tenant_id) const;
  std::string last_principal() const;

 private:
  // The first answer of an idempotency key (by tenant and key), like the
  // platform's idempotency table: method, fingerprint, answer.
  struct Claim {
    std::string method;
    std::string fingerprint;
    std::optional<gateway::app::CreatedTenant> tenant;
    std::optional<gateway::app::CreatedKey> key;
  };
  // nullptr when w's key is unused (or w has none); the misuse errors.
  absl::StatusOr<const Claim*> Previous(const gateway::app::WriteContext& w) const
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  mutable absl::Mutex mu_;
  std::map<std::pair<std::string, std::string>, Claim> claims_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, gateway::app::KeyRecord> keys_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, gateway::app::Tenant> tenants_ ABSL_GUARDED_BY(mu_);
  std::optional<absl::Status> fail_ ABSL_GUARDED_BY(mu_);
  int find_calls_ ABSL_GUARDED_BY(mu_) = 0;
  std::function<void()> after_find_ ABSL_GUARDED_BY(mu_);
  std::string last_principal_ ABSL_GUARDED_BY(mu_);
};

}  // namespace crm::testing
