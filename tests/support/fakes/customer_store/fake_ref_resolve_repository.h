#pragma once
// In-memory RefResolveRepository honouring the contract of app/ports.h:
// tenant-scoped lookups (ids read as themselves, or as their survivor after
// a merge; identities as their owner), the plan decided over that lookup,
// the customers it creates stored with their identities, a plan that
// creates without `write` is INTERNAL, and strict idempotency with write
// and a key (same fingerprint: the stored outcome, replayed; another:
// INVALID_ARGUMENT IDEMPOTENCY_KEY_REUSED).
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "services/customer_store/app/ports.h"

namespace crm::testing {

class FakeRefResolveRepository final : public customer_store::app::RefResolveRepository {
 public:
  absl::StatusOr<customer_store::app::ResolveOutcome> ResolveRefs(
      const customer_store::app::Actor& actor, const std::string& fingerprint,
      const std::vector<std::string>& ids,
      const std::vector<customer_store::domain::IdentityKey>& keys, bool write,
      const customer_store::app::ResolvePlanner& plan) override;

  // Seeds a customer of a tenant with its identities.
  void AddCustomer(const std::string& tenant, const std::string& id,
                   const std::vector<customer_store::domain::IdentityKey>& keys = {});
  // `source` now reads as `survivor`.
  void Merge(const std::string& tenant, const std::string& source, const std::string& survivor);
  int calls() const;
  int customers_created() const;

 private:
  struct Stored {
    std::string fingerprint;
    customer_store::app::ResolveOutcome outcome;
  };
  struct TenantData {
    std::map<std::string, std::string> reads_as;  // id -> itself or survivor
    std::map<customer_store::domain::IdentityKey, std::string> owners;
    std::map<std::string, Stored> answers;  // idempotency key -> answer
  };
  mutable absl::Mutex mu_;
  std::map<std::string, TenantData> tenants_ ABSL_GUARDED_BY(mu_);
  int calls_ ABSL_GUARDED_BY(mu_) = 0;
  int created_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace crm::testing
