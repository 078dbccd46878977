#pragma once
// SegmentRepository over PostgreSQL (schema segmentation: segments,
// memberships, and the facts' tables read for the customers).
#include <string>
#include <vector>

#include "libs/outbox/unit_of_work.h"
#include "libs/pg/pool.h"
#include "services/segmentation/app/segment_ports.h"

namespace crm::segmentation::storage {

class PgSegmentRepository final : public app::SegmentRepository {
 public:
  explicit PgSegmentRepository(pg::Pool& pool);
  static std::vector<pg::NamedQuery> Queries();

  absl::StatusOr<domain::SegmentDefinition> Write(
      const outbox::WriteMeta& meta, const std::string& resource,
      absl::FunctionRef<absl::StatusOr<domain::SegmentDefinition>(app::SegmentTx&)> work) override;
  absl::StatusOr<domain::SegmentationSettings> Write(
      const outbox::WriteMeta& meta, const std::string& resource,
      absl::FunctionRef<absl::StatusOr<domain::SegmentationSettings>(app::SegmentTx&)> work)
      override;
  absl::StatusOr<domain::SegmentationSettings> Settings(const std::string& tenant) override;
  absl::StatusOr<std::optional<domain::SegmentDefinition>> Get(const std::string& tenant,
                                                               const std::string& id) override;
  absl::StatusOr<std::vector<domain::SegmentDefinition>> List(const std::string& tenant,
                                                              const std::string& after,
                                                              int limit) override;
  absl::StatusOr<std::vector<app::SegmentMember>> Members(const std::string& tenant,
                                                          const std::string& segment_id,
                                                          const std::string& after,
                                                          int limit) override;
  absl::StatusOr<std::vector<app::CustomerSegment>> SegmentsOf(
      const std::string& tenant, const std::string& customer_id) override;
  absl::StatusOr<std::vector<std::pair<std::string, std::string>>> AllMemberships(
      const std::string& tenant) override;
  absl::StatusOr<std::vector<domain::LiveCustomer>> Customers(
      const std::string& tenant, const std::optional<std::vector<std::string>>& ids) override;
  absl::StatusOr<std::vector<std::string>> TenantsWithSegments() override;
  absl::Status ApplyMemberships(const std::string& tenant,
                                const std::vector<domain::MembershipChange>& changes,
                                absl::Time at) override;
  absl::StatusOr<std::map<std::string, uint64_t>> CountMembers(
      const std::string& tenant, const std::vector<std::string>& segment_ids) override;

 private:
  class Tx;  // app::SegmentTx over one outbox::WriteTx
  pg::Pool& pool_;
  outbox::TransactionalWriter writer_;
};

}  // namespace crm::segmentation::storage
