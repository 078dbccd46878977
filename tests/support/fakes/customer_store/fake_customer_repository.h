#pragma once
// In-memory CustomerRepository keeping the port's contracts (app/ports.h):
// tenant scoping (NOT_FOUND CUSTOMER_NOT_FOUND / CUSTOMER_MERGED), identity
// uniqueness per tenant (IDENTITY_TAKEN), the merge log (NOT_FOUND
// NOT_MERGED), id / (time, id) paging, and the unit of work's key
// discipline and all-or-nothing writes (FakeUnitOfWork). The use cases drive
// its writes through CustomerTx, as they drive PostgreSQL's; the fake only
// stores what they save and records what they emit ("type:customer id").
#include <atomic>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "services/customer_store/app/ports.h"
#include "tests/support/fakes/fake_unit_of_work.h"

namespace crm::testing {

class FakeCustomerRepository final : public customer_store::app::CustomerRepository {
 public:
  using Actor = customer_store::app::Actor;
  using Customer = customer_store::domain::Customer;
  using Consent = customer_store::domain::Consent;
  using Interaction = customer_store::domain::Interaction;
  using Tx = customer_store::app::CustomerTx;

  absl::StatusOr<customer_store::app::CustomerAnswer> Write(
      const outbox::WriteMeta& m, const std::string& resource,
      absl::FunctionRef<absl::StatusOr<customer_store::app::CustomerAnswer>(Tx&)> work) override;
  absl::StatusOr<customer_store::domain::ErasureResult> Write(
      const outbox::WriteMeta& m, const std::string& resource,
      absl::FunctionRef<absl::StatusOr<customer_store::domain::ErasureResult>(Tx&)> work) override;
  absl::StatusOr<Consent> Write(const outbox::WriteMeta& m, const std::string& resource,
                                absl::FunctionRef<absl::StatusOr<Consent>(Tx&)> work) override;
  absl::StatusOr<Interaction> Write(
      const outbox::WriteMeta& m, const std::string& resource,
      absl::FunctionRef<absl::StatusOr<Interaction>(Tx&)> work) override;
  absl::StatusOr<customer_store::app::MergeOutcome> Write(
      const outbox::WriteMeta& m, const std::string& resource,
      absl::FunctionRef<absl::StatusOr<customer_store::app::MergeOutcome>(Tx&)> work) override;
  absl::StatusOr<customer_store::app::UnmergeOutcome> Write(
      const outbox::WriteMeta& m, const std::string& resource,
      absl::FunctionRef<absl::StatusOr<customer_store::app::UnmergeOutcome>(Tx&)> work) override;
  absl::StatusOr<customer_store::app::ResolveOutcome> Write(
      const outbox::WriteMeta& m, const std::string& resource,
      absl::FunctionRef<absl::StatusOr<customer_store::app::ResolveOutcome>(Tx&)> work) override;

  absl::StatusOr<std::optional<customer_store::app::CustomerAnswer>> FindAnswer(
      const Actor& actor) override;
  absl::StatusOr<Customer> Get(const std::string& tenant, const std::string& id) override;
  absl::StatusOr<customer_store::app::Page<Customer>> List(
      const std::string& tenant, const customer_store::app::ListQuery& q) override;
  absl::StatusOr<customer_store::app::Page<Customer>> Search(
      const std::string& tenant, const customer_store::app::SearchQuery& q) override;
  absl::StatusOr<std::vector<std::string>> FindOwners(
      const std::string& tenant,
      const std::vector<customer_store::domain::Identity>& identities) override;
  absl::StatusOr<std::vector<CustomerRecord>> GetMany(const std::string& tenant,
                                                      const std::vector<std::string>& ids,
                                                      bool with_consents) override;
  absl::StatusOr<std::vector<Consent>> ConsentHistory(const std::string& tenant,
                                                      const std::string& id) override;
  absl::StatusOr<customer_store::app::Page<Interaction>> Interactions(
      const std::string& tenant, const std::string& id,
      const customer_store::app::InteractionQuery& q) override;
  absl::StatusOr<std::vector<customer_store::domain::BehaviourEvent>> BehaviourFrom(
      const std::string& tenant, customer_store::app::BehaviourOwner owner, const std::string& id,
      absl::Time from, bool older, int limit) override;
  absl::StatusOr<customer_store::domain::CustomerView> LoadView(const std::string& tenant,
                                                                const std::string& id,
                                                                int interaction_limit) override;
  absl::StatusOr<customer_store::domain::CustomerExport> LoadExport(
      const std::string& tenant, const std::string& id) override;
  absl::StatusOr<customer_store::domain::RefLookup> LookupRefs(
      const std::string& tenant, const std::vector<std::string>& ids,
      const std::vector<customer_store::domain::IdentityKey>& keys) override;

  // Seeding (not writes): a customer with its identities and consent
  // history, replacing one with the same id; `source` now reads as its
  // survivor (an active merge; the source's row is gone).
  void Put(const std::string& tenant, const Customer& c, std::vector<Consent> history = {});
  void MarkMerged(const std::string& tenant, const std::string& source,
                  const std::string& survivor);
  // Replaces the profile of a stored customer, version + 1 (an edit made
  // outside the use cases under test).
  void Edit(const std::string& tenant, const Customer& c);
  // Behaviour events counting for the customer (as tracked and stitched).
  void PutBehaviour(const std::string& tenant, const std::string& id,
                    std::vector<customer_store::domain::BehaviourEvent> events);
  int behaviour_reads() const;  // BehaviourFrom calls
  // The stored customer with its identities.
  std::optional<Customer> Find(const std::string& tenant, const std::string& id) const;
  // Consent history of a customer, in append order.
  std::vector<Consent> History(const std::string& tenant, const std::string& id) const;

  // Every call fails with `s` until cleared with std::nullopt.
  void FailWith(std::optional<absl::Status> s);

  // Counters for assertions.
  int calls() const;   // every port call (reads and writes)
  int writes() const;  // writes that saved, appended or erased something
  int load_view_calls() const;
  int loads_for_update() const;  // CustomerTx::LoadCustomer
  int merge_calls() const;
  int unmerge_calls() const;
  int customers_created() const;  // by CustomerTx::InsertNewCustomers
  std::vector<std::string> events() const;

  using IdentityKey = std::tuple<int, std::string, std::string>;  // kind, source, value
  struct StoredIdentity {
    std::string owner;
    absl::Time created;
    int position = 0;
  };
  struct TenantData {
    std::map<std::string, Customer> customers;  // profiles, by id (ordered = paging order)
    std::map<IdentityKey, StoredIdentity> identities;
    std::map<std::string, std::vector<Consent>> consents;  // append order
    std::map<std::string, std::vector<Interaction>> interactions;
    std::map<std::string, customer_store::app::LoggedMerge> merges;  // by merge id
    std::map<std::string, std::string> merged_into;  // active merges: source -> survivor
    std::map<std::string, std::vector<customer_store::domain::BehaviourEvent>> behaviour;
  };
  struct State {
    std::map<std::string, TenantData> tenants;
    std::vector<std::string> events;  // "type:customer id"
    int writes = 0;
    int created = 0;
    int next_merge = 1;
    int behaviour_reads = 0;
  };

 private:
  class FakeTx;
  template <typename T>
  absl::StatusOr<T> Run(const outbox::WriteMeta& m, absl::FunctionRef<absl::StatusOr<T>(Tx&)> work);
  absl::Status Enter() const;

  FakeUnitOfWork<State> uow_;
  mutable absl::Mutex mu_;
  std::optional<absl::Status> fail_ ABSL_GUARDED_BY(mu_);
  mutable std::atomic<int> calls_{0};
  mutable std::atomic<int> load_view_calls_{0};
  std::atomic<int> loads_for_update_{0};
  std::atomic<int> merge_calls_{0};
  std::atomic<int> unmerge_calls_{0};
};

}  // namespace crm::testing
