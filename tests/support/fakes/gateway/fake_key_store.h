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
  absl::Status CreateTenant(const gateway::app::Tenant& tenant,
                            const gateway::app::KeyRecord& first_key,
                            const std::string& principal) override;
  absl::Status InsertKey(const gateway::app::KeyRecord& key, const std::string& principal) override;
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
  mutable absl::Mutex mu_;
  std::map<std::string, gateway::app::KeyRecord> keys_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, gateway::app::Tenant> tenants_ ABSL_GUARDED_BY(mu_);
  std::optional<absl::Status> fail_ ABSL_GUARDED_BY(mu_);
  int find_calls_ ABSL_GUARDED_BY(mu_) = 0;
  std::function<void()> after_find_ ABSL_GUARDED_BY(mu_);
  std::string last_principal_ ABSL_GUARDED_BY(mu_);
};

}  // namespace crm::testing
