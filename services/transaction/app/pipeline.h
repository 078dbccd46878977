#pragma once
// Sales pipeline use cases: leads, their conversion, opportunities and their
// stages, stage probabilities, the weighted forecast.
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "libs/common/clock.h"
#include "libs/common/id.h"
#include "services/transaction/app/customer_directory.h"
#include "services/transaction/app/orders.h"
#include "services/transaction/app/pipeline_ports.h"

namespace crm::transaction::app {

class Pipeline final {
 public:
  // `directory` may be null: ConvertLead then needs an explicit customer_id.
  Pipeline(PipelineRepository& repository, Orders& orders, CustomerDirectory* directory,
           const common::Clock& clock, common::IdGenerator& ids)
      : repository_(repository),
        orders_(orders),
        directory_(directory),
        clock_(clock),
        ids_(ids) {}

  // Every write requires actor.idempotency_key (INVALID_ARGUMENT on
  // request_id) and an empty owner becomes actor.principal.
  absl::StatusOr<domain::Lead> CreateLead(const Actor& actor, domain::Lead l);
  absl::StatusOr<domain::Lead> GetLead(const std::string& tenant, const std::string& id);
  absl::StatusOr<LeadPage> ListLeads(const std::string& tenant, const LeadQuery& q);
  absl::StatusOr<domain::Lead> UpdateLead(const Actor& actor, const std::string& id,
                                          const domain::Lead& patch,
                                          const std::vector<std::string>& paths,
                                          const std::string& if_match);
  // customer_id "" = resolve (or create) the customer through the directory
  // by the lead's email and phone (idempotency key "<key>/customer"); a
  // given customer_id is checked like CreateOpportunity's.
  absl::StatusOr<Conversion> ConvertLead(const Actor& actor, const std::string& lead_id,
                                         const std::string& customer_id,
                                         domain::Opportunity opportunity);

  absl::StatusOr<domain::Opportunity> CreateOpportunity(const Actor& actor,
                                                        domain::Opportunity o);
  absl::StatusOr<domain::Opportunity> GetOpportunity(const std::string& tenant,
                                                     const std::string& id);
  absl::StatusOr<OpportunityPage> ListOpportunities(const std::string& tenant,
                                                    const OpportunityQuery& q);
  absl::StatusOr<domain::Opportunity> UpdateOpportunity(const Actor& actor, const std::string& id,
                                                        const domain::Opportunity& patch,
                                                        const std::vector<std::string>& paths,
                                                        const std::string& if_match);
  absl::StatusOr<domain::Opportunity> MoveStage(const Actor& actor, const std::string& id,
                                                domain::OpportunityStage to,
                                                const std::string& if_match);
  // Won or lost. With `order` (won only): the order is validated by
  // Orders::Prepare (currency defaults to the opportunity's) and written by
  // the repository in the move's transaction, linked as order_id. A retry
  // replays the close; a concurrent close creates no order.
  absl::StatusOr<domain::Opportunity> Close(const Actor& actor, const std::string& id, bool won,
                                            const std::string& close_reason,
                                            const std::string& if_match,
                                            std::optional<domain::Order> order);
  absl::StatusOr<std::vector<domain::StageChange>> StageHistory(const std::string& tenant,
                                                                const std::string& id);

  absl::StatusOr<domain::StageProbabilities> GetProbabilities(const std::string& tenant);
  absl::StatusOr<domain::StageProbabilities> UpdateProbabilities(
      const Actor& actor, const std::vector<std::pair<int, int>>& changes);

  // customer.erased (event `event_id`, consumer group `consumer`): the
  // personal data of the pipeline records of `customer_ids` (the erased
  // customer and those merged into it) is erased, once per event
  // (PipelineRepository::EraseCustomerData). INVALID_ARGUMENT for ids that
  // are not UUIDs.
  absl::StatusOr<PipelineErasure> EraseCustomer(const std::string& tenant,
                                                const std::string& consumer,
                                                const std::string& event_id,
                                                const std::vector<std::string>& customer_ids);

  // owner "" = every owner; currency "" = every currency (one row each).
  absl::StatusOr<std::vector<domain::ForecastRow>> Forecast(const std::string& tenant,
                                                            const std::string& owner,
                                                            const std::string& currency_code,
                                                            const domain::ForecastRange& range);

 private:
  absl::Time Now() const;  // to the microsecond, as stored
  // The customer a given customer_id reads as in customer-store (itself, or
  // the survivor of a merge), FAILED_PRECONDITION CUSTOMER_NOT_FOUND (field
  // customer_id) when the tenant has none; skipped for a replay (the key
  // was used) and without a directory.
  absl::StatusOr<std::string> CheckCustomer(const Actor& actor, const std::string& customer_id);
  // The stage move's write (MoveStage, Close): under the row lock the etag
  // and the move are checked, the stage (and a won close's order) saved, a
  // history row appended and the move's events emitted.
  absl::StatusOr<domain::Opportunity> WriteStageMove(const Actor& actor, const std::string& id,
                                                     const StageMove& move);
  PipelineRepository& repository_;
  Orders& orders_;
  CustomerDirectory* directory_;
  const common::Clock& clock_;
  common::IdGenerator& ids_;
};

}  // namespace crm::transaction::app
