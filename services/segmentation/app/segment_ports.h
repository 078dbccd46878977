#pragma once
// What the live segments need from storage: the saved segments (written
// through the unit of work), their members, and the customers' facts.
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "libs/outbox/write_port.h"
#include "services/segmentation/domain/consents.h"
#include "services/segmentation/domain/live_features.h"
#include "services/segmentation/domain/live_index.h"
#include "services/segmentation/domain/segment_def.h"

namespace crm::segmentation::app {

// One segment write's transaction.
class SegmentTx {
 public:
  virtual ~SegmentTx() = default;
  // For update; nullopt when the tenant has no such segment.
  virtual absl::StatusOr<std::optional<domain::SegmentDefinition>> Load(const std::string& id) = 0;
  // Every segment of the tenant (the reference graph), locked against
  // concurrent segment writes of the tenant.
  virtual absl::StatusOr<std::vector<domain::SegmentDefinition>> LoadAll() = 0;
  virtual void Save(const domain::SegmentDefinition& s) = 0;  // insert or update
  virtual void Delete(const std::string& id) = 0;            // with its members
  // Membership rows in or out; publishes segment.entered / segment.exited
  // for each row that really changed.
  virtual absl::Status ApplyMemberships(const std::vector<domain::MembershipChange>& changes,
                                        absl::Time at) = 0;
  // segment.created / segment.updated / segment.deleted.
  virtual void Emit(const std::string& type, const domain::SegmentDefinition& s) = 0;
  // The tenant's settings, locked for update (the defaults, version 0, when
  // never written); saved; segmentation.settings_updated.
  virtual absl::StatusOr<domain::SegmentationSettings> LoadSettings() = 0;
  virtual void SaveSettings(const domain::SegmentationSettings& s) = 0;
  virtual void EmitSettings(const domain::SegmentationSettings& s) = 0;
};

// The tenant's settings (the defaults, version 0, when never written).
class SettingsReader {
 public:
  virtual ~SettingsReader() = default;
  virtual absl::StatusOr<domain::SegmentationSettings> Settings(const std::string& tenant) = 0;
};

struct SegmentMember {
  std::string customer_id;
  absl::Time enter_time;
  int64_t segment_version = 0;
};

struct CustomerSegment {
  std::string segment_id;
  std::string display_name;
  absl::Time enter_time;
};

class SegmentRepository
    : public outbox::UnitOfWork<SegmentTx, domain::SegmentDefinition, domain::SegmentationSettings>,
      public SettingsReader {
 public:
  virtual absl::StatusOr<std::optional<domain::SegmentDefinition>> Get(const std::string& tenant,
                                                                       const std::string& id) = 0;
  // In id order, ids after `after`.
  virtual absl::StatusOr<std::vector<domain::SegmentDefinition>> List(const std::string& tenant,
                                                                      const std::string& after,
                                                                      int limit) = 0;
  // In customer id order, ids after `after` ("" from the start).
  virtual absl::StatusOr<std::vector<SegmentMember>> Members(const std::string& tenant,
                                                             const std::string& segment_id,
                                                             const std::string& after,
                                                             int limit) = 0;
  virtual absl::StatusOr<std::vector<CustomerSegment>> SegmentsOf(
      const std::string& tenant, const std::string& customer_id) = 0;
  // Every membership row of the tenant: (segment id, customer id).
  virtual absl::StatusOr<std::vector<std::pair<std::string, std::string>>> AllMemberships(
      const std::string& tenant) = 0;
  // The tenant's customers (known, not erased, not merged into another)
  // with their counted purchases: all of them, or those among `ids` and the
  // survivors of those merged.
  virtual absl::StatusOr<std::vector<domain::LiveCustomer>> Customers(
      const std::string& tenant, const std::optional<std::vector<std::string>>& ids) = 0;
  // Across tenants: those with at least one segment.
  virtual absl::StatusOr<std::vector<std::string>> TenantsWithSegments() = 0;
  // Live re-evaluation's writes (no idempotency key: applied once by the
  // rows' state), in a tenant transaction of their own.
  virtual absl::Status ApplyMemberships(const std::string& tenant,
                                        const std::vector<domain::MembershipChange>& changes,
                                        absl::Time at) = 0;
  // Member rows per segment among `segment_ids` (every replica's customers).
  virtual absl::StatusOr<std::map<std::string, uint64_t>> CountMembers(
      const std::string& tenant, const std::vector<std::string>& segment_ids) = 0;
};

// One replica's dry run over the customers it holds.
struct LocalPreview {
  uint64_t count = 0;
  uint64_t customers = 0;
  std::vector<std::string> sample;  // the smallest matching ids, ascending
};

// The other replicas of a partitioned engine (domain::Ownership), in
// ordinal order without this one. Each call asks every one of them and
// fails with the first that does not answer.
class ReplicaPeers {
 public:
  virtual ~ReplicaPeers() = default;
  virtual int size() const = 0;
  // Member counts of `segment_ids` over the customers the others hold; with
  // `sync`, each first reads the tenant's segments, settings and model
  // again and re-evaluates its customers where they changed (after a write
  // on this replica).
  virtual absl::StatusOr<std::map<std::string, uint64_t>> Counts(
      const std::string& tenant, const std::vector<std::string>& segment_ids, bool sync) = 0;
  // The expressions for the customer, from the peer that holds it
  // (NOT_FOUND CUSTOMER_NOT_FOUND when none does).
  virtual absl::StatusOr<std::vector<bool>> Match(const std::string& tenant,
                                                  const std::string& customer_id,
                                                  const std::vector<std::string>& expressions) = 0;
  virtual absl::StatusOr<std::vector<LocalPreview>> Previews(const std::string& tenant,
                                                             const std::string& expression,
                                                             int sample_size) = 0;
};

}  // namespace crm::segmentation::app
