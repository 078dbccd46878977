#include "tests/support/fakes/customer_store/fake_ref_resolve_repository.h"

#include "libs/common/errors.h"

namespace crm::testing {

namespace app = customer_store::app;
namespace domain = customer_store::domain;

absl::StatusOr<app::ResolveOutcome> FakeRefResolveRepository::ResolveRefs(
    const app::Actor& actor, const std::string& fingerprint, const std::vector<std::string>& ids,
    const std::vector<domain::IdentityKey>& keys, bool write, const app::ResolvePlanner& plan) {
  absl::MutexLock lock(&mu_);
  ++calls_;
  TenantData& t = tenants_[actor.tenant_id];
  const bool keyed = write && !actor.idempotency_key.empty();
  if (keyed) {
    auto it = t.answers.find(actor.idempotency_key);
    if (it != t.answers.end()) {
      if (it->second.fingerprint != fingerprint) {
        return common::WithField(
            common::WithReason(
                absl::InvalidArgumentError("request_id was used with another request"),
                "IDEMPOTENCY_KEY_REUSED"),
            "request_id");
      }
      app::ResolveOutcome replay = it->second.outcome;
      replay.replayed = true;
      return replay;
    }
  }
  domain::RefLookup lookup;
  for (const auto& id : ids) {
    auto it = t.reads_as.find(id);
    if (it != t.reads_as.end()) lookup.ids[id] = it->second;
  }
  for (const auto& k : keys) {
    auto it = t.owners.find(k);
    if (it != t.owners.end()) lookup.owners[k] = it->second;
  }
  domain::ResolvePlan p = plan(lookup);
  if (!p.creates.empty() && !write) {
    return common::WithReason(absl::InternalError("a read-only resolution planned creates"),
                              "INTERNAL_ERROR");
  }
  for (const domain::NewCustomer& n : p.creates) {
    t.reads_as[n.customer.id] = n.customer.id;
    for (const auto& k : domain::IdentityKeysOf(n.customer)) t.owners[k] = n.customer.id;
    ++created_;
  }
  app::ResolveOutcome out;
  out.results = std::move(p.results);
  out.created = static_cast<int>(p.creates.size());
  if (keyed) t.answers[actor.idempotency_key] = Stored{fingerprint, out};
  return out;
}

void FakeRefResolveRepository::AddCustomer(const std::string& tenant, const std::string& id,
                                           const std::vector<domain::IdentityKey>& keys) {
  absl::MutexLock lock(&mu_);
  TenantData& t = tenants_[tenant];
  t.reads_as[id] = id;
  for (const auto& k : keys) t.owners[k] = id;
}

void FakeRefResolveRepository::Merge(const std::string& tenant, const std::string& source,
                                     const std::string& survivor) {
  absl::MutexLock lock(&mu_);
  tenants_[tenant].reads_as[source] = survivor;
}

int FakeRefResolveRepository::calls() const {
  absl::MutexLock lock(&mu_);
  return calls_;
}

int FakeRefResolveRepository::customers_created() const {
  absl::MutexLock lock(&mu_);
  return created_;
}

}  // namespace crm::testing
