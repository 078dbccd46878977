#pragma once
// Ports of the customer-store use cases. Adapters in storage/ implement them;
// tests/support/fakes/customer_store/ has in-memory versions.
#include <cstdint>
#include <functional>
#include <future>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "libs/common/tenant_purge.h"
#include "libs/outbox/write_port.h"
#include "services/customer_store/domain/behaviour.h"
#include "services/customer_store/domain/customer.h"
#include "services/customer_store/domain/import_rules.h"
#include "services/customer_store/domain/insights.h"
#include "services/customer_store/domain/resolve_rules.h"

namespace crm::customer_store::app {

// Who writes, under which idempotency key (the unit of work's WriteMeta):
// recorded in the audit log with every write.
using Actor = outbox::WriteMeta;

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

// Whose behaviour events a read is of.
enum class BehaviourOwner { kCustomer, kVisitor };

struct InteractionQuery {
  domain::InteractionKind kind = domain::InteractionKind::kUnspecified;
  std::string before_cursor;  // "<micros>|<id>" of the last row of the previous page
  int limit = 50;
};

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

// What a merge moved from the source to the survivor (record ids, kept in
// the merge log so the unmerge moves exactly those back).
struct MergeMoves {
  std::vector<std::string> interactions;
  std::vector<std::string> consents;
  std::vector<std::string> added_consents;  // the resolutions appended to the survivor's
};

// A merge log entry loaded for an unmerge.
struct LoggedMerge {
  MergeRecord record;
  MergeMoves moves;
  bool undone = false;
};

struct UnmergeOutcome {
  domain::Customer survivor;
  domain::Customer restored;
};

struct ResolveOutcome {
  std::vector<domain::RefResult> results;  // one per reference, by index
  int created = 0;                         // customers created by this call
  bool replayed = false;                   // answered from the request_id's first call
};

// What erasing a customer removed.
struct Erasure {
  domain::ErasureResult counts;
  // The erased customer first, then those merged into it (erased with it).
  std::vector<std::string> erased_ids;
};

// One write's transaction over the customer aggregate (its profile,
// identities, consents, interactions and merge log), as the use cases drive
// it (libs/outbox/write_port.h): load for update, save, append, emit. Every
// call acts in the write's tenant and transaction.
class CustomerTx {
 public:
  virtual ~CustomerTx() = default;
  // Load for update, with its identities: the row stays locked until the
  // write ends. NOT_FOUND CUSTOMER_MERGED (naming the survivor) or
  // CUSTOMER_NOT_FOUND.
  virtual absl::StatusOr<domain::Customer> LoadCustomer(const std::string& id) = 0;
  // The customer as this write sees it now (not locked), e.g. after a merge
  // moved identities to it; NOT_FOUND like LoadCustomer.
  virtual absl::StatusOr<domain::Customer> ReadCustomer(const std::string& id) = 0;
  // Keeps the customer from being deleted until the write ends (appends);
  // NOT_FOUND like LoadCustomer.
  virtual absl::Status LockCustomer(const std::string& id) = 0;
  // Newest first.
  virtual absl::StatusOr<std::vector<domain::Consent>> ConsentHistory(const std::string& id) = 0;
  // The customers behind `ids` (an id reads as itself or as the survivor of
  // its active merges, when that customer exists) and the owners of `keys`.
  virtual domain::RefLookup LookupRefs(const std::vector<std::string>& ids,
                                       const std::vector<domain::IdentityKey>& keys) = 0;

  // Save: the profile row of a new customer (`is_new`) or every profile
  // field of a loaded one (identities apart).
  virtual void SaveProfile(const domain::Customer& c, bool is_new) = 0;
  // The identities of `c`, replacing those of `before` (nullptr: a new
  // customer). ALREADY_EXISTS IDENTITY_TAKEN (field emails / phones /
  // external_ids) when one belongs to another customer.
  virtual absl::Status SaveIdentities(const domain::Customer& c,
                                      const domain::Customer* before) = 0;
  // New customers with their identities, in bulk (ResolveCustomerRefs);
  // ABORTED IMPORT_BATCH_CONFLICT when a concurrent writer took one of
  // their identities.
  virtual absl::Status InsertNewCustomers(const std::vector<domain::NewCustomer>& creates) = 0;

  // Append: a consent record or an interaction of the customer; the
  // write's key names the new record from then on.
  virtual void AppendConsent(const std::string& customer_id, const domain::Consent& c) = 0;
  virtual void AppendInteraction(const std::string& customer_id, const domain::Interaction& i) = 0;

  // Merge: moves the source's identities, interactions and consents to the
  // survivor and appends `resolutions` to the survivor's consent history.
  virtual MergeMoves MoveToSurvivor(const std::string& survivor_id, const std::string& source_id,
                                    const std::vector<domain::Consent>& resolutions) = 0;
  // Deletes a merged source's row (its moved records stay with the survivor).
  virtual void DeleteMergedSource(const std::string& source_id) = 0;
  // Appends the merge log entry (record.id is ignored); returns the merge id.
  virtual std::string AppendMerge(const MergeRecord& record, const MergeMoves& moves) = 0;
  // Unmerge: the merge log entry, locked; NOT_FOUND NOT_MERGED when there is
  // none with this id for this survivor.
  virtual absl::StatusOr<LoggedMerge> LoadMerge(const std::string& survivor_id,
                                                const std::string& merge_id) = 0;
  // Moves back what the merge moved to the restored source (its row saved
  // before) and removes the consent records the merge added.
  virtual void MoveBack(const LoggedMerge& merge) = 0;
  virtual void MarkUnmerged(const std::string& merge_id) = 0;

  // Erasure: deletes the customer with its identities, interactions,
  // purchases (its own and those of the customers merged into it) and
  // merge-log entries; remembers it and those merged into it as erased (so
  // late order events are dropped). Consent records stay as proof of
  // consent.
  virtual Erasure EraseCustomer(const std::string& id) = 0;
  // Forgets the answers stored with idempotency keys that name one of
  // `customer_ids` (a retry then answers the customer as it is: not found).
  virtual void ForgetStoredAnswers(const std::vector<std::string>& customer_ids) = 0;

  // Emit: an outbox event, committed with the write.
  // customer.created / customer.updated (id and version).
  virtual void EmitCustomer(const char* type, const domain::Customer& c) = 0;
  virtual void EmitErased(const Erasure& e) = 0;
  virtual void EmitConsent(const std::string& customer_id, const domain::Consent& c) = 0;
  virtual void EmitInteraction(const std::string& customer_id, const domain::Interaction& i) = 0;
  virtual void EmitMerged(const std::string& survivor_id, const std::string& source_id,
                          const std::string& merge_id) = 0;
  virtual void EmitUnmerged(const std::string& survivor_id, const std::string& restored_id,
                            const std::string& merge_id) = 0;
};

// The customer aggregate's storage: its writes run through CustomerTx
// (Run<T>, once per idempotency key, in one transaction with the audit row
// and the outbox events, the answer T stored with the key; a refusal writes
// nothing), its reads below. Reads and writes are tenant-scoped; another
// tenant's id is NOT_FOUND (CUSTOMER_NOT_FOUND).
//
// Keys: a repeated call with actor.idempotency_key answers what the first
// call answered (its stored answer or, with a fingerprint, its
// deterministic refusal); the key used by another method is
// INVALID_ARGUMENT, with another fingerprint IDEMPOTENCY_KEY_REUSED. An
// append's retry reads its record back; the key of an append naming another
// customer's record is IDEMPOTENCY_KEY_REUSED.
class CustomerRepository
    : public outbox::UnitOfWork<CustomerTx, CustomerAnswer, domain::ErasureResult, domain::Consent,
                                domain::Interaction, MergeOutcome, UnmergeOutcome, ResolveOutcome> {
 public:
  // The answer a create or update stored with actor.idempotency_key;
  // nullopt when the key is unused (or expired) or its answer was
  // forgotten; the stored refusal, or the key's misuse (another method or
  // fingerprint), as an error.
  virtual absl::StatusOr<std::optional<CustomerAnswer>> FindAnswer(const Actor& actor) = 0;
  virtual absl::StatusOr<domain::Customer> Get(const std::string& tenant,
                                               const std::string& id) = 0;
  // The customers of `ids` (well-formed, distinct) that exist, in one read,
  // each with its consent history newest first when `with_consents`.
  struct CustomerRecord {
    domain::Customer customer;
    std::vector<domain::Consent> consent_history;
  };
  virtual absl::StatusOr<std::vector<CustomerRecord>> GetMany(const std::string& tenant,
                                                              const std::vector<std::string>& ids,
                                                              bool with_consents) = 0;
  virtual absl::StatusOr<Page<domain::Customer>> List(const std::string& tenant,
                                                      const ListQuery& q) = 0;
  virtual absl::StatusOr<Page<domain::Customer>> Search(const std::string& tenant,
                                                        const SearchQuery& q) = 0;
  // Distinct ids of the customers owning any of the identities.
  virtual absl::StatusOr<std::vector<std::string>> FindOwners(
      const std::string& tenant, const std::vector<domain::Identity>& identities) = 0;
  virtual absl::StatusOr<std::vector<domain::Consent>> ConsentHistory(const std::string& tenant,
                                                                      const std::string& id) = 0;
  virtual absl::StatusOr<Page<domain::Interaction>> Interactions(const std::string& tenant,
                                                                 const std::string& id,
                                                                 const InteractionQuery& q) = 0;
  // Behaviour events of `id`: for kCustomer those counting for the customer
  // (its own, those of the customers merged into it and the anonymous ones
  // of their visitors; none for an unknown customer), for kVisitor every
  // event tracked with that visitor id. At most `limit` that occurred at or
  // before `from`, newest first (`older`), or after it, oldest first.
  virtual absl::StatusOr<std::vector<domain::BehaviourEvent>> BehaviourFrom(
      const std::string& tenant, BehaviourOwner owner, const std::string& id, absl::Time from,
      bool older, int limit) = 0;
  virtual absl::StatusOr<domain::CustomerView> LoadView(const std::string& tenant,
                                                        const std::string& id,
                                                        int interaction_limit) = 0;
  virtual absl::StatusOr<domain::CustomerExport> LoadExport(const std::string& tenant,
                                                            const std::string& id) = 0;
  // CustomerTx::LookupRefs in a read-only transaction of its own.
  virtual absl::StatusOr<domain::RefLookup> LookupRefs(
      const std::string& tenant, const std::vector<std::string>& ids,
      const std::vector<domain::IdentityKey>& keys) = 0;
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

// Timeline entries other engines' events add (delivery's messages).
class ActivityRepository {
 public:
  virtual ~ActivityRepository() = default;
  struct Activity {
    std::string tenant_id;
    std::string id;  // UUID: the entry's, so an event read twice adds it once
    std::string customer_id;
    domain::InteractionKind kind = domain::InteractionKind::kUnspecified;
    std::string channel;
    absl::Time time = absl::InfinitePast();
    std::string actor;
    std::string summary;
    std::string payload_json;  // an object
    std::string source;
  };
  // Adds the entry unless it exists or the customer does not (erased);
  // true when added.
  virtual absl::StatusOr<bool> RecordActivity(const Activity& a) = 0;
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
  // Invalidate of each id (an adapter may do it in one round trip).
  virtual void InvalidateMany(const std::string& tenant, const std::vector<std::string>& ids) {
    for (const std::string& id : ids) Invalidate(tenant, id);
  }
};

// Who reads the view, forwarded to the engines the view asks (the same
// tenant, principal, roles, request id and trace as the caller's call).
struct Caller {
  std::string tenant_id;
  std::string principal;
  std::string roles;
  std::string request_id;
  std::string traceparent;
  // The caller's own deadline: no call made for it outlives it.
  absl::Time deadline = absl::InfiniteFuture();
};

// What the segmentation engine knows of a customer: the 360 view's "scores"
// and "segments" sections. Each call starts at once and answers through its
// future, within the adapter's deadline (DEADLINE_EXCEEDED past it).
// NOT_FOUND: the engine has not seen the customer (no data yet, not an
// error of the view); UNAVAILABLE: it could not be reached; UNIMPLEMENTED:
// the deployed engine does not serve the call; other codes: a refusal.
class CustomerInsights {
 public:
  virtual ~CustomerInsights() = default;
  virtual std::future<absl::StatusOr<domain::CustomerScores>> ScoresOf(
      const Caller& caller, const std::string& customer_id) = 0;
  virtual std::future<absl::StatusOr<std::vector<domain::SegmentMembership>>> SegmentsOf(
      const Caller& caller, const std::string& customer_id) = 0;
};

// What TrackEvents answers per event.
struct TrackResult {
  int index = 0;
  bool accepted = false;
  std::string event_id;     // accepted
  std::string customer_id;  // accepted: the resolved customer ("" when anonymous)
  std::string reason;       // refused: crm.common.v1.ErrorReason name
  std::string field;
  std::string message;
};
struct TrackOutcome {
  std::vector<TrackResult> results;  // one per event, in request order
  int accepted = 0;
  int refused = 0;
};
struct IdentifyOutcome {
  std::string customer_id;
  std::string visitor_id;
  bool linked = false;         // false: linked to this customer before
  int64_t earlier_events = 0;  // anonymous events of the visitor stored before the link
};

// One behaviour write's transaction (TrackEvents, IdentifyCustomer).
class BehaviourTx {
 public:
  virtual ~BehaviourTx() = default;
  // The customers behind `ids` (itself, or the survivor of its active
  // merges) and the owners of identity `keys` (CustomerTx::LookupRefs).
  virtual domain::RefLookup LookupRefs(const std::vector<std::string>& ids,
                                       const std::vector<domain::IdentityKey>& keys) = 0;
  // Visitor id -> the customer it is linked to (absent when anonymous).
  virtual std::map<std::string, std::string> VisitorOwners(
      const std::vector<std::string>& visitor_ids) = 0;
  // Keeps the customer from being deleted until the write ends; NOT_FOUND
  // CUSTOMER_MERGED / CUSTOMER_NOT_FOUND.
  virtual absl::Status LockCustomer(const std::string& id) = 0;
  // LockCustomer for many: the ids that exist (and stay until the write
  // ends); one erased meanwhile is missing from the answer.
  virtual std::set<std::string> LockCustomers(const std::set<std::string>& ids) = 0;
  // Append: the accepted events of a batch, at once (append-only table).
  virtual void AppendEvents(const std::vector<domain::BehaviourEvent>& events) = 0;
  // Links the visitor to the customer; false when the visitor is linked
  // already (to anyone).
  virtual bool LinkVisitor(const std::string& customer_id, const std::string& visitor_id) = 0;
  // Events of the visitor stored without a customer.
  virtual int64_t CountAnonymousEvents(const std::string& visitor_id) = 0;
  // Emit: one behaviour.<type> event per stored event, in order.
  virtual void EmitEvents(const std::vector<domain::BehaviourEvent>& events) = 0;
  virtual void EmitIdentified(const IdentifyOutcome& o) = 0;
  // The tenant's behaviour settings, locked for the write (the defaults,
  // version 0, when never written).
  virtual domain::BehaviourSettings LoadSettings() = 0;
  virtual void SaveSettings(const domain::BehaviourSettings& s) = 0;
  // behaviour.settings_updated (docs/events.md).
  virtual void EmitSettings(const domain::BehaviourSettings& s) = 0;
};

// Behaviour writes: Run<T> as CustomerRepository's (once per idempotency
// key, with the audit row and outbox events, in one transaction).
class BehaviourRepository : public outbox::UnitOfWork<BehaviourTx, TrackOutcome, IdentifyOutcome,
                                                      domain::BehaviourSettings> {};

// What the retention job reads and deletes.
class BehaviourRetentionStore {
 public:
  virtual ~BehaviourRetentionStore() = default;
  // The tenant's settings (the defaults, version 0, when never written).
  virtual absl::StatusOr<domain::BehaviourSettings> BehaviourSettingsOf(
      const std::string& tenant) = 0;
  // Every tenant that set a retention (retention_days > 0), read across
  // tenants, in tenant order.
  virtual absl::StatusOr<std::vector<std::pair<std::string, domain::BehaviourSettings>>>
  TenantsWithRetention() = 0;
  // Deletes the tenant's events that occurred before `cutoff` in the
  // window of `blocks` heap blocks from `from_block` of every monthly
  // partition, in one tenant transaction (common/tenant_purge.h).
  virtual absl::StatusOr<common::PurgeStep> DeleteBehaviourBefore(const std::string& tenant,
                                                                  absl::Time cutoff,
                                                                  int64_t from_block,
                                                                  int blocks) = 0;
  // Drops the monthly partitions ending at or before `before` that hold no
  // event of any tenant; returns how many.
  virtual absl::StatusOr<int> DropEmptyBehaviourPartitions(absl::Time before) = 0;
};

}  // namespace crm::customer_store::app
