#pragma once
// Ports of the customer-store use cases. Adapters in storage/ implement them;
// tests/support/fakes/customer_store/ has in-memory versions.
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "services/customer_store/domain/customer.h"
#include "services/customer_store/domain/import_rules.h"
#include "services/customer_store/domain/resolve_rules.h"

namespace crm::customer_store::app {

// Who writes: recorded in the audit log with every write.
struct Actor {
  std::string tenant_id;
  std::string principal;
  std::string request_id;  // x-request-id, for the audit trail
  std::string method;
  // The client's request_id field: a repeated call with the same key
  // returns the first call's result instead of writing again.
  std::string idempotency_key;
  // Digest of the request without its request_id ("" = not checked): the
  // same key with another fingerprint is refused (IDEMPOTENCY_KEY_REUSED),
  // and a deterministic refusal is stored with the key and answered again.
  std::string fingerprint;
};

// What a customer write with an idempotency key answered, stored with the
// key so a retry answers exactly that even if the customer changed since.
struct CustomerAnswer {
  domain::Customer customer;
  bool created = false;
};

template <typename T>
struct Page {
  std::vector<T> items;
  std::string next_cursor;  // empty: no more pages
};

struct ListQuery {
  domain::LifecycleStage stage = domain::LifecycleStage::kUnspecified;  // unspecified: all
  std::string owner;  // empty: all
  std::string after_id;
  int limit = 50;
};

struct SearchQuery {
  std::string email;        // normalized
  std::string phone;        // normalized
  std::string name_prefix;  // lower-cased
  std::string external_id_source;  // with external_id
  std::string external_id;
  std::string after_id;
  int limit = 50;
};

struct InteractionQuery {
  domain::InteractionKind kind = domain::InteractionKind::kUnspecified;
  std::string before_cursor;  // "<micros>|<id>" of the last row of the previous page
  int limit = 50;
};

// Merge: what the use case decides once both customers are locked.
struct MergeDecision {
  domain::Customer merged;                       // survivor after the merge
  std::vector<std::string> filled_paths;         // profile paths filled from the source
  std::vector<domain::Consent> resolutions;      // consent records to append
};
using MergeDecider = std::function<absl::StatusOr<MergeDecision>(
    const domain::Customer& survivor, const domain::Customer& source,
    const std::vector<domain::Consent>& survivor_current,
    const std::vector<domain::Consent>& source_current)>;

struct MergeOutcome {
  domain::Customer survivor;
  std::string merge_id;
  int64_t identities_moved = 0;
  int64_t interactions_moved = 0;
  int64_t consents_moved = 0;
  std::vector<domain::Consent> resolutions;
};

// The merge log entry, enough to undo the merge exactly.
struct MergeRecord {
  std::string id;
  std::string survivor_id;
  std::string source_id;
  domain::Customer source_snapshot;   // profile + identities of the source
  domain::Customer survivor_before;   // survivor profile before the merge
  domain::Customer survivor_after;    // survivor profile right after it
  std::vector<std::string> filled_paths;
};
// Given the survivor now and the record, the survivor's profile after undo.
using UnmergeDecider =
    std::function<domain::Customer(const domain::Customer& survivor_now, const MergeRecord& record)>;

struct UnmergeOutcome {
  domain::Customer survivor;
  domain::Customer restored;
};

// Each write runs in one transaction together with its audit record and its
// outbox event. Reads and writes are tenant-scoped; another tenant's id is
// NOT_FOUND (CUSTOMER_NOT_FOUND).
class CustomerRepository {
 public:
  virtual ~CustomerRepository() = default;
  using Mutation = std::function<absl::Status(domain::Customer&)>;

  // IDENTITY_TAKEN (ALREADY_EXISTS) when an identity belongs to another customer.
  // With actor.idempotency_key set, a repeated call answers what the first
  // call answered (its stored CustomerAnswer or refusal); the key used by
  // another method is INVALID_ARGUMENT, with another fingerprint
  // IDEMPOTENCY_KEY_REUSED.
  virtual absl::StatusOr<domain::Customer> Insert(const Actor& actor,
                                                  const domain::Customer& c) = 0;
  // The answer Insert or Update stored with actor.idempotency_key; nullopt
  // when the key is unused (or expired); the stored refusal, or the key's
  // misuse (another method or fingerprint), as an error.
  virtual absl::StatusOr<std::optional<CustomerAnswer>> FindAnswer(const Actor& actor) = 0;
  virtual absl::StatusOr<domain::Customer> Get(const std::string& tenant,
                                               const std::string& id) = 0;
  // Locks the row, checks if_match (when non-empty; mismatch is ABORTED with
  // ETAG_MISMATCH), runs the mutation and writes the result with version + 1.
  // A mutation that changes nothing writes nothing and returns the row.
  // With actor.idempotency_key set, claims it like Insert.
  virtual absl::StatusOr<domain::Customer> Update(const Actor& actor, const std::string& id,
                                                  const std::string& if_match,
                                                  const Mutation& mutate) = 0;
  virtual absl::StatusOr<domain::ErasureResult> Erase(const Actor& actor, const std::string& id,
                                                      const std::string& if_match) = 0;
  virtual absl::StatusOr<Page<domain::Customer>> List(const std::string& tenant,
                                                      const ListQuery& q) = 0;
  virtual absl::StatusOr<Page<domain::Customer>> Search(const std::string& tenant,
                                                        const SearchQuery& q) = 0;
  // Distinct ids of the customers owning any of the identities.
  virtual absl::StatusOr<std::vector<std::string>> FindOwners(
      const std::string& tenant, const std::vector<domain::Identity>& identities) = 0;
  // Both appends honour actor.idempotency_key like Insert.
  virtual absl::StatusOr<domain::Consent> AppendConsent(const Actor& actor, const std::string& id,
                                                        const domain::Consent& c) = 0;
  virtual absl::StatusOr<std::vector<domain::Consent>> ConsentHistory(const std::string& tenant,
                                                                      const std::string& id) = 0;
  virtual absl::StatusOr<domain::Interaction> AppendInteraction(const Actor& actor,
                                                                const std::string& id,
                                                                const domain::Interaction& i) = 0;
  virtual absl::StatusOr<Page<domain::Interaction>> Interactions(const std::string& tenant,
                                                                 const std::string& id,
                                                                 const InteractionQuery& q) = 0;
  virtual absl::StatusOr<domain::CustomerView> LoadView(const std::string& tenant,
                                                        const std::string& id,
                                                        int interaction_limit) = 0;
  virtual absl::StatusOr<domain::CustomerExport> LoadExport(const std::string& tenant,
                                                            const std::string& id) = 0;
};

// Merge and unmerge, each in one transaction with the merge log, audit row
// and outbox event. Both customers are locked before `decide` runs.
class MergeRepository {
 public:
  virtual ~MergeRepository() = default;
  // NOT_FOUND (CUSTOMER_NOT_FOUND / CUSTOMER_MERGED) when either is absent.
  virtual absl::StatusOr<MergeOutcome> Merge(const Actor& actor, const std::string& survivor_id,
                                             const std::string& source_id,
                                             const MergeDecider& decide) = 0;
  // NOT_FOUND (NOT_MERGED) for an unknown merge of this survivor;
  // FAILED_PRECONDITION (NOT_MERGED) when it was already undone.
  virtual absl::StatusOr<UnmergeOutcome> Unmerge(const Actor& actor,
                                                 const std::string& survivor_id,
                                                 const std::string& merge_id,
                                                 const UnmergeDecider& decide) = 0;
};

struct ImportReport {
  std::string batch_id;
  int64_t rows_received = 0;
  int64_t created = 0;
  int64_t updated = 0;
  int64_t failed = 0;
  std::vector<domain::ImportError> errors;  // at most kMaxImportErrorsReported
  bool replayed = false;
  std::vector<std::string> updated_ids;  // not stored; for cache invalidation
};
using ImportPlanner = std::function<domain::ImportPlan(
    const std::vector<domain::ImportRow>& rows,
    const std::map<domain::IdentityKey, std::string>& owners)>;
using ImportUpdater =
    std::function<absl::Status(const domain::ImportRow& row, domain::Customer& existing)>;

// A batch is one transaction: staged with COPY, then set-based inserts and
// updates, the identities, one outbox event per customer, one audit row and
// the stored report. A completed batch id returns its report (replayed).
class ImportRepository {
 public:
  virtual ~ImportRepository() = default;
  virtual absl::StatusOr<ImportReport> Import(const Actor& actor, const std::string& batch_id,
                                              int64_t rows_received,
                                              std::vector<domain::ImportError> row_errors,
                                              std::vector<domain::ImportRow> rows,
                                              const ImportPlanner& plan,
                                              const ImportUpdater& apply) = 0;
};

struct ResolveOutcome {
  std::vector<domain::RefResult> results;  // one per reference, by index
  int created = 0;                         // customers created by this call
  bool replayed = false;                   // answered from the request_id's first call
};
// Decides a batch once the database has answered its lookups.
using ResolvePlanner = std::function<domain::ResolvePlan(const domain::RefLookup&)>;

// Batch resolution of customer references (ResolveCustomerRefs) in one
// transaction and a fixed number of statements: the customers behind `ids`
// (following active merges to the survivor), the owners of `keys`, then
// `plan`, then the customers it creates with their identities, one
// customer.created event each and the audit row. `write` false: read only
// (a plan that creates is then INTERNAL). With write and
// actor.idempotency_key the call is strictly idempotent by the key and
// `fingerprint` (a replay answers the stored results; another fingerprint
// is IDEMPOTENCY_KEY_REUSED). A concurrent writer taking one of the new
// identities fails the call with ABORTED (retry it).
class RefResolveRepository {
 public:
  virtual ~RefResolveRepository() = default;
  virtual absl::StatusOr<ResolveOutcome> ResolveRefs(const Actor& actor,
                                                     const std::string& fingerprint,
                                                     const std::vector<std::string>& ids,
                                                     const std::vector<domain::IdentityKey>& keys,
                                                     bool write, const ResolvePlanner& plan) = 0;
};

// The purchase projection fed by order events.
class PurchaseRepository {
 public:
  virtual ~PurchaseRepository() = default;
  // Records the fact if it is newer than what is stored for the order (so a
  // repeated or late event changes nothing), and on the first fact of an
  // order adds a purchase entry to the customer's timeline (when the customer
  // exists). Says whether anything changed and whose 360 view shows the
  // order now: the fact's customer, or the survivor its customer was merged
  // into (merges are followed at read time, so an unmerge takes purchases
  // back exactly).
  struct Change {
    bool changed = false;
    std::string view_owner;
  };
  virtual absl::StatusOr<Change> RecordOrder(const domain::OrderFact& fact) = 0;
  // RecordOrder() of each fact, in order, in ONE transaction: facts of one
  // tenant (the caller groups them). Any error rolls back all of them (the
  // caller then records them one by one). The default records them one by
  // one, for stores without transactions (fakes).
  virtual absl::StatusOr<std::vector<Change>> RecordOrders(
      const std::vector<domain::OrderFact>& facts) {
    std::vector<Change> out;
    out.reserve(facts.size());
    for (const domain::OrderFact& f : facts) {
      absl::StatusOr<Change> c = RecordOrder(f);
      if (!c.ok()) return c.status();
      out.push_back(*std::move(c));
    }
    return out;
  }
};

// Read-through cache of the serialized 360 view. A cache that fails is
// skipped (the view is served from the repository), never an error.
class ViewCache {
 public:
  virtual ~ViewCache() = default;
  struct Lookup {
    std::optional<std::string> hit;
    std::string generation;  // pass back to Put
    bool usable = false;     // false when the cache could not be read
  };
  virtual Lookup Get(const std::string& tenant, const std::string& id) = 0;
  // Stored only as of `generation`: a Put racing an Invalidate is never served.
  virtual void Put(const std::string& tenant, const std::string& id,
                   const std::string& generation, const std::string& bytes) = 0;
  virtual void Invalidate(const std::string& tenant, const std::string& id) = 0;
};

}  // namespace crm::customer_store::app
