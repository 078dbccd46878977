#pragma once
// Journeys, their enrolments and the steps each took, in PostgreSQL
// (schema/012_journeys.sql). A journey's definition is stored as written
// (JSON); an enrolment's position is its own row, written under its
// version after every step.
#include <string>
#include <vector>

#include "libs/outbox/unit_of_work.h"
#include "libs/outbox/writer.h"
#include "libs/pg/pool.h"
#include "services/delivery/app/ports.h"

namespace crm::delivery::storage {

class PgJourneyRepository final : public app::JourneyRepository {
 public:
  explicit PgJourneyRepository(pg::Pool& pool);
  static std::vector<pg::NamedQuery> Queries();

  absl::StatusOr<domain::Journey> Write(
      const outbox::WriteMeta& meta, const std::string& resource,
      absl::FunctionRef<absl::StatusOr<domain::Journey>(app::JourneyTx&)> work) override;
  absl::StatusOr<domain::Enrollment> Write(
      const outbox::WriteMeta& meta, const std::string& resource,
      absl::FunctionRef<absl::StatusOr<domain::Enrollment>(app::JourneyTx&)> work) override;

  absl::StatusOr<domain::Journey> GetJourney(const std::string& tenant,
                                             const std::string& id) override;
  absl::StatusOr<std::vector<domain::Journey>> ListJourneys(const std::string& tenant) override;
  absl::StatusOr<std::vector<domain::Journey>> ListeningJourneys(const std::string& tenant,
                                                                 domain::TriggerKind kind) override;
  absl::StatusOr<std::vector<app::EnrollmentView>> ListEnrollments(const std::string& tenant,
                                                                   const std::string& journey_id,
                                                                   const std::string& customer_id,
                                                                   int limit) override;
  absl::StatusOr<app::JourneyCounts> CountJourney(const std::string& tenant,
                                                  const std::string& journey_id) override;
  absl::StatusOr<std::vector<domain::Enrollment>> ActiveEnrollments(
      const std::string& tenant, const std::string& customer_id,
      const std::vector<std::string>& journey_ids) override;
  absl::StatusOr<std::vector<EnrollmentRef>> DueEnrollments(absl::Time now, int limit) override;
  absl::StatusOr<std::vector<domain::Enrollment>> ClaimEnrollments(
      const std::string& tenant, const std::vector<std::string>& ids, absl::Time now,
      absl::Duration lease) override;
  absl::StatusOr<bool> SaveEnrollment(const std::string& tenant, const domain::Enrollment& e,
                                      int64_t expected_version, bool entered,
                                      bool keep_lease) override;

 private:
  class Tx;
  pg::Pool& pool_;
  outbox::TransactionalWriter writer_;
};

}  // namespace crm::delivery::storage
