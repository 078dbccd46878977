#pragma once
// In-memory KeyStore: keys by id, tenants by id, ListKeys ordered by
// (create_time, id), RevokeKey scoped to the tenant (API_KEY_NOT_FOUND).
// The admin writes are driven through KeyTx by the app layer, with the unit
// of work's key discipline and all-or-nothing writes (FakeUnitOfWork); the
// fake only stores what they save.
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "services/gateway/app/ports.h"
#include "tests/support/fakes/fake_unit_of_work.h"

namespace crm::testing {

class FakeKeyStore final : public gateway::app::KeyStore {
 public:
  absl::StatusOr<std::optional<gateway::app::KeyRecord>> FindKey(
      const std::string& key_id) override;
  absl::StatusOr<gateway::app::CreatedTenant> Write(
      const outbox::WriteMeta& m, const std::string& resource,
      absl::FunctionRef<absl::StatusOr<gateway::app::CreatedTenant>(gateway::app::KeyTx&)> work)
      override;
  absl::StatusOr<gateway::app::CreatedKey> Write(
      const outbox::WriteMeta& m, const std::string& resource,
      absl::FunctionRef<absl::StatusOr<gateway::app::CreatedKey>(gateway::app::KeyTx&)> work)
      override;
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
  struct State {
    std::map<std::string, gateway::app::KeyRecord> keys;
    std::map<std::string, gateway::app::Tenant> tenants;
    std::string last_principal;
  };
  class Tx;  // KeyTx over the copy of the state a write works on
  template <typename T>
  absl::StatusOr<T> Run(const outbox::WriteMeta& m,
                        absl::FunctionRef<absl::StatusOr<T>(gateway::app::KeyTx&)> work);

  FakeUnitOfWork<State> uow_;
  mutable absl::Mutex mu_;
  std::optional<absl::Status> fail_ ABSL_GUARDED_BY(mu_);
  int find_calls_ ABSL_GUARDED_BY(mu_) = 0;
  std::function<void()> after_find_ ABSL_GUARDED_BY(mu_);
};

}  // namespace crm::testing
