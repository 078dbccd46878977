#pragma once
// In-memory CustomerRepository honouring the contracts of app/ports.h:
// tenant scoping, identity uniqueness per tenant, etag checks, no-op updates,
// request_id replay, version + 1 on update, id / (time, id) paging.
#include <map>
#include <optional>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "services/customer_store/app/ports.h"

namespace crm::testing {

class FakeCustomerRepository final : public customer_store::app::CustomerRepository {
 public:
  using Customer = customer_store::domain::Customer;

  absl::StatusOr<Customer> Insert(const customer_store::app::Actor& actor,
                                  const Customer& c) override;
  absl::StatusOr<std::optional<customer_store::app::CustomerAnswer>> FindAnswer(
      const customer_store::app::Actor& actor) override;
  absl::StatusOr<Customer> Get(const std::string& tenant, const std::string& id) override;
  absl::StatusOr<Customer> Update(const customer_store::app::Actor& actor, const std::string& id,
                                  const std::string& if_match, const Mutation& mutate) override;
  absl::StatusOr<customer_store::domain::ErasureResult> Erase(
      const customer_store::app::Actor& actor, const std::string& id,
      const std::string& if_match) override;
  absl::StatusOr<customer_store::app::Page<Customer>> List(
      const std::string& tenant, const customer_store::app::ListQuery& q) override;
  absl::StatusOr<customer_store::app::Page<Customer>> Search(
      const std::string& tenant, const customer_store::app::SearchQuery& q) override;
  absl::StatusOr<std::vector<std::string>> FindOwners(
      const std::string& tenant,
      const std::vector<customer_store::domain::Identity>& identities) override;
  absl::StatusOr<customer_store::domain::Consent> AppendConsent(
      const customer_store::app::Actor& actor, const std::string& id,
      const customer_store::domain::Consent& c) override;
  absl::StatusOr<std::vector<customer_store::domain::Consent>> ConsentHistory(
      const std::string& tenant, const std::string& id) override;
  absl::StatusOr<customer_store::domain::Interaction> AppendInteraction(
      const customer_store::app::Actor& actor, const std::string& id,
      const customer_store::domain::Interaction& i) override;
  absl::StatusOr<customer_store::app::Page<customer_store::domain::Interaction>> Interactions(
      const std::string& tenant, const std::string& id,
      const customer_store::app::InteractionQuery& q) override;
  absl::StatusOr<customer_store::domain::CustomerView> LoadView(const std::string& tenant,
                                                                const std::string& id,
                                                                int interaction_limit) override;
  absl::StatusOr<customer_store::domain::CustomerExport> LoadExport(
      const std::string& tenant, const std::string& id) override;

  // Every call fails with `s` until cleared with std::nullopt.
  void FailWith(std::optional<absl::Status> s);

  // Counters for assertions.
  int calls() const;        // every port call
  int writes() const;       // rows actually written (insert, real update, appends, erase)
  int load_view_calls() const;
  int update_calls() const;
  std::string last_method() const;

 private:
  using IdentityKey = std::tuple<int, std::string, std::string>;  // kind, source, value
  struct TenantData {
    std::map<std::string, Customer> customers;  // by id (ordered = paging order)
    std::map<IdentityKey, std::pair<std::string, absl::Time>> identities;  // -> owner, created
    struct Request {
      std::string method;
      std::string fingerprint;
      customer_store::app::CustomerAnswer answer;
    };
    std::map<std::string, Request> requests;  // by idempotency key
    std::map<std::string, std::vector<customer_store::domain::Consent>> consents;
    std::map<std::string, std::vector<customer_store::domain::Interaction>> interactions;
  };

  absl::Status Enter(const char* method) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // The request stored with actor's key (nullptr when none); the key's
  // misuse (another method or fingerprint) as an error.
  absl::StatusOr<const TenantData::Request*> Previous(const TenantData& t,
                                                      const customer_store::app::Actor& actor)
      const ABSL_SHARED_LOCKS_REQUIRED(mu_);
  absl::Status WriteIdentities(TenantData& t, const Customer& c, absl::Time now)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  std::vector<customer_store::domain::Identity> IdentitiesOfLocked(const TenantData& t,
                                                                  const std::string& id) const
      ABSL_SHARED_LOCKS_REQUIRED(mu_);
  std::vector<customer_store::domain::Interaction> SortedInteractions(
      const TenantData& t, const std::string& id) const ABSL_SHARED_LOCKS_REQUIRED(mu_);

  mutable absl::Mutex mu_;
  std::map<std::string, TenantData> tenants_ ABSL_GUARDED_BY(mu_);
  std::optional<absl::Status> fail_ ABSL_GUARDED_BY(mu_);
  int calls_ ABSL_GUARDED_BY(mu_) = 0;
  int writes_ ABSL_GUARDED_BY(mu_) = 0;
  int load_view_calls_ ABSL_GUARDED_BY(mu_) = 0;
  int update_calls_ ABSL_GUARDED_BY(mu_) = 0;
  std::string last_method_ ABSL_GUARDED_BY(mu_);
};

}  // namespace crm::testing
