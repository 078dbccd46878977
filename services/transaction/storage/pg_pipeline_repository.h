#pragma once
// PipelineRepository over PostgreSQL (schema txn, migration 006_pipeline.sql).
#include <string>
#include <utility>
#include <vector>

#include "libs/outbox/unit_of_work.h"
#include "libs/pg/pool.h"
#include "services/transaction/app/pipeline_ports.h"
#include "services/transaction/schema_name.h"
#include "services/transaction/storage/pg_order_repository.h"

namespace crm::transaction::storage {

class PgPipelineRepository final : public app::PipelineRepository {
 public:
  // `orders` writes the order of a won opportunity in the move's transaction
  // (nullptr: closing with an order is UNIMPLEMENTED).
  PgPipelineRepository(pg::Pool& pool, PgOrderRepository* orders)
      : pool_(pool), writer_(pool, kSchema), orders_(orders) {}
  // The repository's own named queries. The transactional writer's queries
  // ("txn.insert_audit"...) are registered once by
  // PgProductRepository::Queries().
  static std::vector<pg::NamedQuery> Queries();

  absl::StatusOr<domain::Lead> Write(
      const outbox::WriteMeta& meta, const std::string& resource,
      absl::FunctionRef<absl::StatusOr<domain::Lead>(app::PipelineTx&)> work) override;
  absl::StatusOr<app::Conversion> Write(
      const outbox::WriteMeta& meta, const std::string& resource,
      absl::FunctionRef<absl::StatusOr<app::Conversion>(app::PipelineTx&)> work) override;
  absl::StatusOr<domain::Opportunity> Write(
      const outbox::WriteMeta& meta, const std::string& resource,
      absl::FunctionRef<absl::StatusOr<domain::Opportunity>(app::PipelineTx&)> work) override;
  absl::StatusOr<domain::StageProbabilities> Write(
      const outbox::WriteMeta& meta, const std::string& resource,
      absl::FunctionRef<absl::StatusOr<domain::StageProbabilities>(app::PipelineTx&)> work)
      override;

  absl::StatusOr<bool> KeyUsed(const app::Actor& actor) override;
  absl::StatusOr<domain::Lead> GetLead(const std::string& tenant, const std::string& id) override;
  absl::StatusOr<app::LeadPage> ListLeads(const std::string& tenant,
                                          const app::LeadQuery& q) override;
  absl::StatusOr<domain::Opportunity> GetOpportunity(const std::string& tenant,
                                                     const std::string& id) override;
  absl::StatusOr<app::OpportunityPage> ListOpportunities(const std::string& tenant,
                                                         const app::OpportunityQuery& q) override;
  absl::StatusOr<std::vector<domain::StageChange>> StageHistory(const std::string& tenant,
                                                                const std::string& id) override;

  absl::StatusOr<domain::StageProbabilities> GetProbabilities(const std::string& tenant) override;

  absl::StatusOr<app::PipelineErasure> EraseCustomerData(
      const app::Actor& actor, const std::string& consumer, const std::string& event_id,
      const std::vector<std::string>& customer_ids, absl::Time now) override;

  absl::StatusOr<std::vector<domain::ForecastItem>> ForecastItems(
      const std::string& tenant, const app::ForecastQuery& q) override;

 private:
  class Tx;  // app::PipelineTx over one outbox::WriteTx
  template <typename T>
  absl::StatusOr<T> RunTx(const outbox::WriteMeta& meta, const std::string& resource,
                          const outbox::AnswerCodec<T>& codec,
                          absl::FunctionRef<absl::StatusOr<T>(app::PipelineTx&)> work);
  absl::StatusOr<domain::Lead> LoadLead(pqxx::work& tx, const std::string& tenant,
                                        const std::string& id, bool for_update);
  absl::StatusOr<domain::Opportunity> LoadOpportunity(pqxx::work& tx, const std::string& tenant,
                                                      const std::string& id, bool for_update);
  absl::StatusOr<domain::StageProbabilities> LoadProbabilities(pqxx::work& tx,
                                                               const std::string& tenant);
  void EmitLead(pqxx::work& tx, const outbox::WriteMeta& meta, const char* type,
                const domain::Lead& l);
  void EmitOpportunity(pqxx::work& tx, const outbox::WriteMeta& meta, const char* type,
                       const domain::Opportunity& o, domain::OpportunityStage from);

  pg::Pool& pool_;
  outbox::TransactionalWriter writer_;
  PgOrderRepository* orders_;
};

}  // namespace crm::transaction::storage
