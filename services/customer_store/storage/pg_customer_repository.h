#pragma once
// CustomerRepository over PostgreSQL (schema customer_store). Every write
// runs through the platform's unit of work (outbox::WriteOnce): one
// tenant-scoped transaction with its audit row, outbox events and stored
// answer; a write that fails is audited with its outcome in a transaction of
// its own. The use cases drive a write through CustomerTx (class Tx); this
// adapter keeps the SQL, the row mapping, the answer codecs and the event
// payloads.
#include <optional>
#include <string>
#include <vector>

#include "libs/outbox/unit_of_work.h"
#include "libs/pg/pool.h"
#include "services/customer_store/app/ports.h"
#include "services/customer_store/schema_name.h"

namespace crm::customer_store::storage {

class PgCustomerRepository final : public app::CustomerRepository,
                                   public app::ImportRepository,
                                   public app::PurchaseRepository,
                                   public app::ActivityRepository,
                                   public app::BehaviourRepository,
                                   public app::BehaviourRetentionStore {
 public:
  explicit PgCustomerRepository(pg::Pool& pool) : pool_(pool), writer_(pool, kSchema) {}
  // Named queries to prepare on every connection of the pool.
  static std::vector<pg::NamedQuery> Queries();

  absl::StatusOr<app::CustomerAnswer> Write(
      const outbox::WriteMeta& meta, const std::string& resource,
      absl::FunctionRef<absl::StatusOr<app::CustomerAnswer>(app::CustomerTx&)> work) override;
  absl::StatusOr<domain::ErasureResult> Write(
      const outbox::WriteMeta& meta, const std::string& resource,
      absl::FunctionRef<absl::StatusOr<domain::ErasureResult>(app::CustomerTx&)> work) override;
  absl::StatusOr<domain::Consent> Write(
      const outbox::WriteMeta& meta, const std::string& resource,
      absl::FunctionRef<absl::StatusOr<domain::Consent>(app::CustomerTx&)> work) override;
  absl::StatusOr<domain::Interaction> Write(
      const outbox::WriteMeta& meta, const std::string& resource,
      absl::FunctionRef<absl::StatusOr<domain::Interaction>(app::CustomerTx&)> work) override;
  absl::StatusOr<app::MergeOutcome> Write(
      const outbox::WriteMeta& meta, const std::string& resource,
      absl::FunctionRef<absl::StatusOr<app::MergeOutcome>(app::CustomerTx&)> work) override;
  absl::StatusOr<app::UnmergeOutcome> Write(
      const outbox::WriteMeta& meta, const std::string& resource,
      absl::FunctionRef<absl::StatusOr<app::UnmergeOutcome>(app::CustomerTx&)> work) override;
  absl::StatusOr<app::ResolveOutcome> Write(
      const outbox::WriteMeta& meta, const std::string& resource,
      absl::FunctionRef<absl::StatusOr<app::ResolveOutcome>(app::CustomerTx&)> work) override;

  // Behaviour writes (pg_behaviour.cc).
  absl::StatusOr<app::TrackOutcome> Write(
      const outbox::WriteMeta& meta, const std::string& resource,
      absl::FunctionRef<absl::StatusOr<app::TrackOutcome>(app::BehaviourTx&)> work) override;
  absl::StatusOr<app::IdentifyOutcome> Write(
      const outbox::WriteMeta& meta, const std::string& resource,
      absl::FunctionRef<absl::StatusOr<app::IdentifyOutcome>(app::BehaviourTx&)> work) override;
  absl::StatusOr<domain::BehaviourSettings> Write(
      const outbox::WriteMeta& meta, const std::string& resource,
      absl::FunctionRef<absl::StatusOr<domain::BehaviourSettings>(app::BehaviourTx&)> work)
      override;
  // Retention (pg_behaviour.cc).
  absl::StatusOr<domain::BehaviourSettings> BehaviourSettingsOf(const std::string& tenant) override;
  absl::StatusOr<std::vector<std::pair<std::string, domain::BehaviourSettings>>>
  TenantsWithRetention() override;
  absl::StatusOr<common::PurgeStep> DeleteBehaviourBefore(const std::string& tenant,
                                                          absl::Time cutoff, int64_t from_block,
                                                          int blocks) override;
  absl::StatusOr<int> DropEmptyBehaviourPartitions(absl::Time before) override;

  absl::StatusOr<std::optional<app::CustomerAnswer>> FindAnswer(const app::Actor& actor) override;
  absl::StatusOr<domain::Customer> Get(const std::string& tenant, const std::string& id) override;
  absl::StatusOr<app::Page<domain::Customer>> List(const std::string& tenant,
                                                   const app::ListQuery& q) override;
  absl::StatusOr<app::Page<domain::Customer>> Search(const std::string& tenant,
                                                     const app::SearchQuery& q) override;
  absl::StatusOr<std::vector<std::string>> FindOwners(
      const std::string& tenant, const std::vector<domain::Identity>& identities) override;
  absl::StatusOr<std::vector<CustomerRecord>> GetMany(const std::string& tenant,
                                                      const std::vector<std::string>& ids,
                                                      bool with_consents) override;
  absl::StatusOr<std::vector<domain::Consent>> ConsentHistory(const std::string& tenant,
                                                              const std::string& id) override;
  absl::StatusOr<app::Page<domain::Interaction>> Interactions(
      const std::string& tenant, const std::string& id, const app::InteractionQuery& q) override;
  absl::StatusOr<std::vector<domain::BehaviourEvent>> BehaviourFrom(const std::string& tenant,
                                                                    app::BehaviourOwner owner,
                                                                    const std::string& id,
                                                                    absl::Time from, bool older,
                                                                    int limit) override;
  absl::StatusOr<domain::CustomerView> LoadView(const std::string& tenant, const std::string& id,
                                                int interaction_limit) override;
  absl::StatusOr<domain::CustomerExport> LoadExport(const std::string& tenant,
                                                    const std::string& id) override;
  absl::StatusOr<domain::RefLookup> LookupRefs(
      const std::string& tenant, const std::vector<std::string>& ids,
      const std::vector<domain::IdentityKey>& keys) override;

  absl::StatusOr<app::ImportReport> Import(const app::Actor& actor, const std::string& batch_id,
                                           int64_t rows_received,
                                           std::vector<domain::ImportError> row_errors,
                                           std::vector<domain::ImportRow> rows,
                                           const app::ImportPlanner& plan,
                                           const app::ImportUpdater& apply) override;
  absl::StatusOr<Change> RecordOrder(const domain::OrderFact& fact) override;
  absl::StatusOr<bool> RecordActivity(const Activity& a) override;
  absl::StatusOr<std::vector<Change>> RecordOrders(
      const std::vector<domain::OrderFact>& facts) override;

 private:
  class Tx;  // app::CustomerTx over one outbox::WriteTx
  class BehaviourTx;  // app::BehaviourTx over one outbox::WriteTx (pg_behaviour.cc)
  static std::vector<pg::NamedQuery> BehaviourQueries();  // pg_behaviour.cc
  // Behaviour reads and erasure (pg_behaviour.cc): the newest `limit`
  // events counting for the customer (its own, those of the customers
  // merged into it, and the anonymous ones of their linked visitors) since
  // `since`; the linked visitor ids as identities; erasure of both.
  std::vector<domain::BehaviourEvent> BehaviourOf(pqxx::work& tx, const std::string& tenant,
                                                  const std::string& id, absl::Time since,
                                                  int limit);
  std::vector<domain::Identity> VisitorIdentitiesOf(pqxx::work& tx, const std::string& tenant,
                                                    const std::string& id);
  // Returns {events erased, visitor links erased}.
  std::pair<int64_t, int64_t> EraseBehaviourOf(pqxx::work& tx, const std::string& tenant,
                                               const std::string& id);
  template <typename T>
  absl::StatusOr<T> RunTx(const outbox::WriteMeta& meta, const std::string& resource,
                          const outbox::AnswerCodec<T>& codec,
                          absl::FunctionRef<absl::StatusOr<T>(app::CustomerTx&)> work);
  // One fact of the purchase projection inside `tx` (RecordOrder(s)).
  Change RecordOrderTx(pqxx::work& tx, const domain::OrderFact& f);
  // How creates and updates keep their answer: the customer and whether it
  // was created.
  outbox::AnswerCodec<app::CustomerAnswer> CustomerCodec();
  // Consents and interactions never change: a retry reads the first call's
  // record back by its id (`query`: tenant, record id, customer id).
  template <typename T>
  outbox::AnswerCodec<T> RecordCodec(const pg::NamedQuery& query, const std::string& customer_id,
                                     T (*from_row)(const pqxx::row&));
  outbox::AnswerCodec<app::MergeOutcome> MergeCodec();      // pg_merge.cc
  outbox::AnswerCodec<app::UnmergeOutcome> UnmergeCodec();  // pg_merge.cc
  static outbox::AnswerCodec<app::ResolveOutcome> ResolveCodec();  // pg_import.cc
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
  domain::RefLookup LookupRefsTx(pqxx::work& tx, const std::string& tenant,
                                 const std::vector<std::string>& ids,
                                 const std::vector<domain::IdentityKey>& keys);
  // Merge and unmerge statements of Tx (pg_merge.cc).
  app::MergeMoves MoveToSurvivor(pqxx::work& tx, const std::string& tenant,
                                 const std::string& survivor_id, const std::string& source_id,
                                 const std::vector<domain::Consent>& resolutions);
  std::string AppendMerge(pqxx::work& tx, const std::string& tenant, const app::MergeRecord& record,
                          const app::MergeMoves& moves);
  absl::StatusOr<app::LoggedMerge> LoadMerge(pqxx::work& tx, const std::string& tenant,
                                             const std::string& survivor_id,
                                             const std::string& merge_id);
  void MoveBack(pqxx::work& tx, const std::string& tenant, const app::LoggedMerge& merge);
  void MarkUnmerged(pqxx::work& tx, const std::string& tenant, const std::string& merge_id);
  // New customers in bulk (pg_import.cc).
  absl::Status InsertNewCustomers(pqxx::work& tx, const std::string& tenant,
                                  const std::vector<domain::NewCustomer>& creates);

  pg::Pool& pool_;
  outbox::TransactionalWriter writer_;
};

}  // namespace crm::customer_store::storage
