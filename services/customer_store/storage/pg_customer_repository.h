#pragma once
// CustomerRepository over PostgreSQL (schema customer_store). Every write
// runs in one tenant-scoped transaction with its audit row and outbox event;
// a write that fails is audited with its outcome in a transaction of its own.
#include <optional>
#include <string>
#include <vector>

#include "libs/outbox/unit_of_work.h"
#include "libs/pg/pool.h"
#include "services/customer_store/app/ports.h"
#include "services/customer_store/schema_name.h"

namespace crm::customer_store::storage {

// The writer's metadata of a call.
outbox::WriteMeta MetaOf(const app::Actor& a);

class PgCustomerRepository final : public app::CustomerRepository,
                                   public app::MergeRepository,
                                   public app::ImportRepository,
                                   public app::PurchaseRepository,
                                   public app::RefResolveRepository {
 public:
  explicit PgCustomerRepository(pg::Pool& pool) : pool_(pool), writer_(pool, kSchema) {}
  // Named queries to prepare on every connection of the pool.
  static std::vector<pg::NamedQuery> Queries();

  absl::StatusOr<domain::Customer> Insert(const app::Actor& actor,
                                          const domain::Customer& c) override;
  absl::StatusOr<std::optional<app::CustomerAnswer>> FindAnswer(const app::Actor& actor) override;
  absl::StatusOr<domain::Customer> Get(const std::string& tenant, const std::string& id) override;
  absl::StatusOr<domain::Customer> Update(const app::Actor& actor, const std::string& id,
                                          const std::string& if_match,
                                          const Mutation& mutate) override;
  absl::StatusOr<domain::ErasureResult> Erase(const app::Actor& actor, const std::string& id,
                                              const std::string& if_match) override;
  absl::StatusOr<app::Page<domain::Customer>> List(const std::string& tenant,
                                                   const app::ListQuery& q) override;
  absl::StatusOr<app::Page<domain::Customer>> Search(const std::string& tenant,
                                                     const app::SearchQuery& q) override;
  absl::StatusOr<std::vector<std::string>> FindOwners(
      const std::string& tenant, const std::vector<domain::Identity>& identities) override;
  absl::StatusOr<domain::Consent> AppendConsent(const app::Actor& actor, const std::string& id,
                                                const domain::Consent& c) override;
  absl::StatusOr<std::vector<domain::Consent>> ConsentHistory(const std::string& tenant,
                                                              const std::string& id) override;
  absl::StatusOr<domain::Interaction> AppendInteraction(const app::Actor& actor,
                                                        const std::string& id,
                                                        const domain::Interaction& i) override;
  absl::StatusOr<app::Page<domain::Interaction>> Interactions(
      const std::string& tenant, const std::string& id, const app::InteractionQuery& q) override;
  absl::StatusOr<domain::CustomerView> LoadView(const std::string& tenant, const std::string& id,
                                                int interaction_limit) override;
  absl::StatusOr<domain::CustomerExport> LoadExport(const std::string& tenant,
                                                    const std::string& id) override;
  absl::StatusOr<app::MergeOutcome> Merge(const app::Actor& actor, const std::string& survivor_id,
                                          const std::string& source_id,
                                          const app::MergeDecider& decide) override;
  absl::StatusOr<app::ImportReport> Import(const app::Actor& actor, const std::string& batch_id,
                                           int64_t rows_received,
                                           std::vector<domain::ImportError> row_errors,
                                           std::vector<domain::ImportRow> rows,
                                           const app::ImportPlanner& plan,
                                           const app::ImportUpdater& apply) override;
  absl::StatusOr<Change> RecordOrder(const domain::OrderFact& fact) override;
  absl::StatusOr<std::vector<Change>> RecordOrders(
      const std::vector<domain::OrderFact>& facts) override;
  absl::StatusOr<app::ResolveOutcome> ResolveRefs(const app::Actor& actor,
                                                  const std::string& fingerprint,
                                                  const std::vector<std::string>& ids,
                                                  const std::vector<domain::IdentityKey>& keys,
                                                  bool write,
                                                  const app::ResolvePlanner& plan) override;
  absl::StatusOr<app::UnmergeOutcome> Unmerge(const app::Actor& actor,
                                              const std::string& survivor_id,
                                              const std::string& merge_id,
                                              const app::UnmergeDecider& decide) override;

 private:
  // One fact of the purchase projection inside `tx` (RecordOrder(s)).
  Change RecordOrderTx(pqxx::work& tx, const domain::OrderFact& f);
  // One write of `actor` through the shared unit of work
  // (libs/outbox/unit_of_work.h).
  template <typename T>
  absl::StatusOr<T> WriteOnce(const app::Actor& actor, const std::string& resource,
                              const outbox::AnswerCodec<T>& codec,
                              absl::FunctionRef<absl::StatusOr<T>(const outbox::WriteTx&)> work) {
    return outbox::WriteOnce(writer_, MetaOf(actor), resource, codec, work);
  }
  // How Insert and Update keep their answer: the customer (and for an
  // upsert, whether it was created).
  outbox::AnswerCodec<domain::Customer> CustomerCodec(bool created);
  // Consents and interactions never change: a retry reads the first call's
  // record back by its id (`query`: tenant, record id, customer id).
  template <typename T>
  outbox::AnswerCodec<T> RecordCodec(const pg::NamedQuery& query, const std::string& customer_id,
                                     T (*from_row)(const pqxx::row&));
  outbox::AnswerCodec<app::MergeOutcome> MergeCodec();      // pg_merge.cc
  outbox::AnswerCodec<app::UnmergeOutcome> UnmergeCodec();  // pg_merge.cc
  absl::StatusOr<domain::Customer> LoadCustomer(pqxx::work& tx, const std::string& tenant,
                                                const std::string& id, bool for_update);
  absl::Status LoadIdentities(pqxx::work& tx, const std::string& tenant,
                              std::vector<domain::Customer*> customers);
  absl::Status WriteIdentities(pqxx::work& tx, const std::string& tenant, const domain::Customer& c,
                               const domain::Customer* before);
  static std::vector<pg::NamedQuery> MergeQueries();   // pg_merge.cc
  static std::vector<pg::NamedQuery> ImportQueries();  // pg_import.cc
  // NOT_FOUND: CUSTOMER_MERGED (naming the survivor) or CUSTOMER_NOT_FOUND.
  absl::Status NotFoundOrMerged(pqxx::work& tx, const std::string& tenant, const std::string& id);
  // A retried append whose record is not the customer's: the customer is
  // gone (NotFoundOrMerged) or the key named another customer's record.
  absl::Status GoneOrReused(pqxx::work& tx, const std::string& tenant, const std::string& id);
  void InsertProfile(pqxx::work& tx, const std::string& tenant, const domain::Customer& c);
  void WriteProfile(pqxx::work& tx, const std::string& tenant, const domain::Customer& c);
  absl::StatusOr<std::vector<domain::Consent>> ConsentHistoryTx(pqxx::work& tx,
                                                                const std::string& tenant,
                                                                const std::string& id);

  pg::Pool& pool_;
  outbox::TransactionalWriter writer_;
};

}  // namespace crm::customer_store::storage
