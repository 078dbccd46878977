#pragma once
// Live segments: saved segments (CRUD with versions), their memberships kept
// current per customer as facts arrive and as time passes, and the dry run.
//
// Per tenant, in memory: the customers and their purchases, each segment's
// members (bitmaps) and the next instant each customer's memberships can
// change by time alone. The tables (segments, memberships) are the truth:
// an entered / exited event is published in the transaction that inserts or
// deletes the membership row, and only when the row really changed, so a
// restart (which rebuilds the memory from the tables and then re-evaluates
// everyone) publishes each real change exactly once.
//
// Writes of one tenant are serialized in this process (a mutex per tenant).
//
// Partitioned (domain::Ownership with several replicas): this process holds
// the customers of its partitions only, and evaluates and publishes for them.
// Every replica reads every fact (the stored facts are shared and their
// writes idempotent); a customer the facts touch that another replica holds
// is left to it. A segment or settings write is evaluated here for the
// customers held here, then each peer is told to Resync() (and does so on
// the write's own event when it was down); counts and dry runs add up the
// peers' shares (ReplicaPeers); members, a customer's segments and scores
// come from the shared tables, so any replica answers them alike.
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "libs/common/clock.h"
#include "services/segmentation/app/ports.h"
#include "services/segmentation/app/segment_ports.h"
#include "services/segmentation/domain/ownership.h"
#include "services/segmentation/domain/segment_check.h"

namespace crm::segmentation::app {

struct SegmentView {
  domain::SegmentDefinition definition;
  uint64_t member_count = 0;
};

struct SegmentPreview {
  uint64_t count = 0;
  uint64_t customers = 0;
  std::vector<std::string> sample;  // customer ids, ascending
  std::set<std::string> references;
  bool reads_time = false;
};

struct MemberPage {
  std::vector<SegmentMember> members;
  std::string next_after;  // "" at the end
  uint64_t member_count = 0;
};

// What the in-memory state holds (all tenants).
struct LiveStats {
  uint64_t tenants = 0;
  uint64_t customers = 0;
  uint64_t segments = 0;
  uint64_t memory_bytes = 0;  // customers, purchases, bitmaps, timers (estimated)
  uint64_t unreadable_segments = 0;  // saved expressions the catalog no longer accepts
  absl::Duration last_rebuild;       // the last tenant's load and re-evaluation
};

class LiveSegments {
 public:
  // `peers`: the other replicas (nullptr or empty: none); must outlive this.
  LiveSegments(SegmentRepository& segments, FactRepository& facts, ModelRepository& models,
               const common::Clock& clock,
               domain::FieldCatalog catalog = domain::FieldCatalog::Default(),
               absl::Duration refresh_every = absl::Hours(1), domain::Ownership ownership = {},
               ReplicaPeers* peers = nullptr);
  ~LiveSegments();

  absl::StatusOr<SegmentView> Create(const outbox::WriteMeta& actor,
                                     domain::SegmentDefinition draft);
  // NOT_FOUND (SEGMENT_NOT_FOUND).
  absl::StatusOr<SegmentView> Get(const std::string& tenant, const std::string& id);
  absl::StatusOr<std::vector<SegmentView>> List(const std::string& tenant,
                                                const std::string& after, int limit);
  absl::StatusOr<SegmentView> Update(const outbox::WriteMeta& actor, const std::string& id,
                                     const domain::SegmentPatch& patch,
                                     const std::string& if_match);
  absl::Status Delete(const outbox::WriteMeta& actor, const std::string& id,
                      const std::string& if_match);
  absl::StatusOr<SegmentPreview> Preview(const std::string& tenant, const std::string& expression,
                                         int sample_size);
  // Whether the customer matches each expression now, evaluated as a
  // segment's would be (an objection to profiling makes an expression that
  // reads behaviour or features false), on the replica that holds the
  // customer. NOT_FOUND (CUSTOMER_NOT_FOUND) for a customer the engine
  // does not hold (unknown, erased, merged away); INVALID_ARGUMENT (field
  // expressions) as Preview's.
  absl::StatusOr<std::vector<bool>> Match(const std::string& tenant, const std::string& customer_id,
                                          const std::vector<std::string>& expressions);
  absl::StatusOr<MemberPage> Members(const std::string& tenant, const std::string& id,
                                     const std::string& after, int limit);
  // In segment id order. NOT_FOUND (CUSTOMER_NOT_FOUND) for a customer the
  // engine does not know.
  absl::StatusOr<std::vector<CustomerSegment>> SegmentsOf(const std::string& tenant,
                                                          const std::string& customer_id);

  // Facts about these customers changed (in storage): re-evaluate them.
  absl::Status Touch(const std::string& tenant, const std::vector<std::string>& customer_ids);
  // The tenant's settings (the defaults until first written).
  absl::StatusOr<domain::SegmentationSettings> GetSettings(const std::string& tenant);
  // Applies `patch` (etag `if_match`, "" = last writer wins) under the unit
  // of work; a change re-evaluates every customer under the new settings and
  // publishes the enters and exits in the same transaction.
  absl::StatusOr<domain::SegmentationSettings> UpdateSettings(const outbox::WriteMeta& actor,
                                                              const domain::SettingsPatch& patch,
                                                              const std::string& if_match);
  // Catalog facts of these skus changed (in storage): their categories are
  // read again and the customers who bought them re-evaluated.
  absl::Status ProductsChanged(const std::string& tenant, const std::vector<std::string>& skus);
  // The tenant's features moved (a refit): re-evaluate everyone.
  absl::Status Refresh(const std::string& tenant);
  // Re-evaluates the customers whose time-driven change is due, in every
  // loaded tenant; refreshes tenants whose features are older than
  // refresh_every. Returns the number of customers re-evaluated.
  absl::StatusOr<int> Tick();
  // Loads every tenant that has segments (at start).
  absl::Status LoadAll();
  LiveStats Stats();

  // ---- One replica's share (what peers ask each other) ----
  // Member counts of `segment_ids` over the customers held here; Resync()
  // first when `sync`.
  absl::StatusOr<std::map<std::string, uint64_t>> CountsHere(
      const std::string& tenant, const std::vector<std::string>& segment_ids, bool sync);
  // The dry run over the customers held here (errors as Preview's).
  absl::StatusOr<SegmentPreview> PreviewHere(const std::string& tenant,
                                             const std::string& expression, int sample_size);
  // Match over the customers held here: nullopt when the customer is not
  // one of them.
  absl::StatusOr<std::optional<std::vector<bool>>> MatchHere(
      const std::string& tenant, const std::string& customer_id,
      const std::vector<std::string>& expressions);
  // Reads the tenant's segments, settings and model again and re-evaluates
  // the customers held here where they changed (a write on another replica).
  absl::Status Resync(const std::string& tenant);
  // Drops from memory the behaviour of the tenant's customers that occurred
  // before `cutoff` (purged from the table by the retention job; it already
  // counted in no window). Returns how many events it dropped.
  int64_t ForgetBehaviourBefore(const std::string& tenant, absl::Time cutoff);
  // Tells the peers to Resync() the tenant (after a write here); a peer that
  // does not answer catches up from the write's event.
  void SyncPeers(const std::string& tenant);
  // Whether other replicas hold part of the customers.
  bool partitioned() const { return !ownership_.all(); }

 private:
  struct Tenant;
  struct Compiled;
  struct Outcome;
  Tenant& TenantOf(const std::string& tenant);
  // The writes and reads of this replica alone (the public ones add the
  // peers' shares).
  absl::StatusOr<SegmentView> CreateHere(const outbox::WriteMeta& actor,
                                         domain::SegmentDefinition draft);
  absl::StatusOr<SegmentView> UpdateHere(const outbox::WriteMeta& actor, const std::string& id,
                                         const domain::SegmentPatch& patch,
                                         const std::string& if_match);
  absl::StatusOr<SegmentView> GetHere(const std::string& tenant, const std::string& id);
  absl::StatusOr<std::vector<SegmentView>> ListHere(const std::string& tenant,
                                                    const std::string& after, int limit);
  absl::Status DeleteHere(const outbox::WriteMeta& actor, const std::string& id,
                          const std::string& if_match);
  absl::StatusOr<domain::SegmentationSettings> UpdateSettingsHere(
      const outbox::WriteMeta& actor, const domain::SettingsPatch& patch,
      const std::string& if_match);
  // Adds the peers' members to the counts of `views` (each peer Resync()s
  // first when `sync`); when a peer does not answer, the counts are the
  // stored membership rows'.
  absl::Status Gather(const std::string& tenant, std::vector<SegmentView>& views, bool sync);
  // Gather of one view (an error passes through).
  absl::StatusOr<SegmentView> Gathered(const std::string& tenant, absl::StatusOr<SegmentView> here,
                                       bool sync);
  bool HasPeers() const { return peers_ != nullptr && peers_->size() > 0; }
  // Loads what is not loaded yet: the segments, and the customers once the
  // tenant has a segment.
  absl::Status ReadyLocked(const std::string& tenant, Tenant& t);
  absl::Status LoadCustomersLocked(const std::string& tenant, Tenant& t);
  // The tenant's model and RFM breakpoints over the customers held now
  // (partitioned: over every customer of the tenant, read from the tables).
  // `others` (partitioned): the other replicas' customers, just read.
  absl::Status RebuildContextLocked(const std::string& tenant, Tenant& t,
                                    const std::vector<domain::LiveCustomer>* others = nullptr);
  Compiled CompileAll(const std::vector<domain::SegmentDefinition>& defs);
  // The memberships of customers `which` under `segments` (pure: `t` is
  // only read), against the members `t` holds; with `only`, of those
  // segments alone (the others' memberships as `t` holds them).
  Outcome EvaluateLocked(const Tenant& t, const Compiled& segments,
                         const std::vector<uint32_t>& which, absl::Time now,
                         const std::set<std::string>* only = nullptr) const;
  void CommitLocked(Tenant& t, const Outcome& outcome);
  absl::Status ReevaluateLocked(const std::string& tenant, Tenant& t,
                                const std::vector<uint32_t>& which);
  std::vector<uint32_t> EveryoneLocked(const Tenant& t) const;
  // Whether customer `i` may not be profiled under the tenant's settings.
  static bool NoProfilingLocked(const Tenant& t, uint32_t i);
  absl::StatusOr<domain::SegmentDefinition> CheckedDraft(domain::SegmentDefinition draft) const;
  absl::StatusOr<SegmentView> Written(const std::string& tenant, Tenant& t,
                                      absl::StatusOr<domain::SegmentDefinition> written, bool ran,
                                      std::vector<domain::SegmentDefinition> all,
                                      Outcome outcome);

  // Partitioned, the customers another replica holds are left out (moved
  // to `others` when given: purchases only).
  absl::StatusOr<std::vector<domain::LiveCustomer>> CustomersOf(
      const std::string& tenant, const std::optional<std::vector<std::string>>& ids,
      std::vector<domain::LiveCustomer>* others = nullptr);

  SegmentRepository& segments_;
  FactRepository& facts_;
  ModelRepository& models_;
  const common::Clock& clock_;
  const domain::FieldCatalog catalog_;
  const absl::Duration refresh_every_;
  const domain::Ownership ownership_;
  ReplicaPeers* const peers_;
  absl::Mutex mu_;
  std::map<std::string, std::unique_ptr<Tenant>> tenants_ ABSL_GUARDED_BY(mu_);
  absl::Duration last_rebuild_ ABSL_GUARDED_BY(mu_);
};

}  // namespace crm::segmentation::app
