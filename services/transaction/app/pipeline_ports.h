#pragma once
// Port of the sales pipeline's use cases: leads, opportunities, their stage
// history, the tenant's stage probabilities, and the forecast's input.
//
// Contracts every implementation keeps (PgPipelineRepository, the fake in
// tests/support/fakes/transaction):
// - every query is tenant-scoped; another tenant's lead or opportunity is
//   NOT_FOUND (LEAD_NOT_FOUND / OPPORTUNITY_NOT_FOUND);
// - every write is one transaction with its audit row and its outbox events;
// - writes are strictly idempotent by actor.idempotency_key +
//   actor.fingerprint: the same key with the same fingerprint answers the
//   first call's answer (result or deterministic refusal) and writes
//   nothing; another fingerprint is INVALID_ARGUMENT IDEMPOTENCY_KEY_REUSED;
//   another method INVALID_ARGUMENT on request_id.
#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "libs/outbox/write_port.h"
#include "services/transaction/app/ports.h"
#include "services/transaction/domain/pipeline.h"

namespace crm::transaction::app {

struct LeadQuery {
  domain::LeadStatus status = domain::LeadStatus::kUnspecified;  // unspecified = all
  std::string owner;                                             // "" = all
  std::string before_cursor;  // "<created micros>|<id>"
  int limit = 50;
};

struct LeadPage {
  std::vector<domain::Lead> items;
  std::string next_cursor;
};

struct OpportunityQuery {
  domain::OpportunityStage stage = domain::OpportunityStage::kUnspecified;  // = all
  std::string owner;
  std::string customer_id;
  std::string before_cursor;  // "<created micros>|<id>"
  int limit = 50;
};

struct OpportunityPage {
  std::vector<domain::Opportunity> items;
  std::string next_cursor;
};

struct Conversion {
  domain::Lead lead;
  domain::Opportunity opportunity;
  bool customer_created = false;
};

// What the forecast needs to read: open opportunities whose expected close
// date is in [from, to] and won opportunities closed (UTC day) in [from, to].
struct ForecastQuery {
  std::string owner;          // "" = all
  std::string currency_code;  // "" = all
  absl::CivilDay from;
  absl::CivilDay to;
};

// A stage move (domain::ApplyStageMove); with an order, the order is
// written in the same transaction as the move, booked to the opportunity's
// customer as it is under the row lock.
using StageMove = domain::StageMove;

// What erasing a customer's pipeline data changed.
struct PipelineErasure {
  bool applied = false;  // false: the event had been handled before
  int leads = 0;         // leads whose personal fields were cleared
  int opportunities = 0;
};

// One write's transaction over the pipeline, as the use cases drive it
// (libs/outbox/write_port.h): load for update, save, append, emit. Every
// call acts in the write's tenant and transaction.
class PipelineTx {
 public:
  virtual ~PipelineTx() = default;
  // Load for update: the row stays locked until the write ends. NOT_FOUND
  // LEAD_NOT_FOUND / OPPORTUNITY_NOT_FOUND.
  virtual absl::StatusOr<domain::Lead> LoadLead(const std::string& id) = 0;
  virtual absl::StatusOr<domain::Opportunity> LoadOpportunity(const std::string& id) = 0;
  // The stored probabilities (the defaults for stages never set), locked
  // against concurrent updates of the tenant's.
  virtual absl::StatusOr<domain::StageProbabilities> LoadProbabilities() = 0;
  // Save: a new row (`is_new`) or every field of a loaded one.
  virtual void SaveLead(const domain::Lead& l, bool is_new) = 0;
  virtual void SaveOpportunity(const domain::Opportunity& o, bool is_new) = 0;
  virtual void SaveProbabilities(const std::vector<std::pair<int, int>>& changes,
                                 absl::Time now) = 0;
  // Append: a row of the opportunity's stage history.
  virtual void AppendStageChange(const std::string& opportunity_id,
                                 const domain::StageChange& change) = 0;
  // The orders' port in this transaction, for the order of a won close
  // (app::WriteNewOrder: the same rules and refusals as CreateOrder);
  // nullptr when orders are not configured.
  virtual OrderTx* Orders() = 0;
  // Emit: an outbox event, committed with the write. `from`: the stage
  // before a move (unspecified: not a move).
  virtual void EmitLead(const char* type, const domain::Lead& l) = 0;
  virtual void EmitOpportunity(const char* type, const domain::Opportunity& o,
                               domain::OpportunityStage from) = 0;
  virtual void EmitProbabilities(const domain::StageProbabilities& p) = 0;
};

// The pipeline's storage: its writes run through PipelineTx (Run<T>, once
// per idempotency key, with the answer T stored with the key), its reads
// below.
class PipelineRepository
    : public outbox::UnitOfWork<PipelineTx, domain::Lead, Conversion, domain::Opportunity,
                                domain::StageProbabilities> {
 public:
  // Whether actor.idempotency_key was used before (by any call): the write
  // will then be answered from the key, so nothing needs checking first.
  virtual absl::StatusOr<bool> KeyUsed(const Actor& actor) = 0;
  virtual absl::StatusOr<domain::Lead> GetLead(const std::string& tenant,
                                               const std::string& id) = 0;
  virtual absl::StatusOr<LeadPage> ListLeads(const std::string& tenant, const LeadQuery& q) = 0;
  virtual absl::StatusOr<domain::Opportunity> GetOpportunity(const std::string& tenant,
                                                             const std::string& id) = 0;
  virtual absl::StatusOr<OpportunityPage> ListOpportunities(const std::string& tenant,
                                                            const OpportunityQuery& q) = 0;
  // Oldest first; NOT_FOUND when the opportunity is absent.
  virtual absl::StatusOr<std::vector<domain::StageChange>> StageHistory(
      const std::string& tenant, const std::string& id) = 0;

  // The defaults for stages the tenant never set.
  virtual absl::StatusOr<domain::StageProbabilities> GetProbabilities(
      const std::string& tenant) = 0;

  // GDPR erasure (customer.erased), in one transaction: records event_id as
  // processed for `consumer` (libs/events MarkProcessed; seen before:
  // nothing else happens, applied false); applies domain::ErasePersonalData
  // to every lead converted into and every opportunity of `customer_ids`
  // (version + 1, lead.updated / opportunity.updated for those that
  // changed) and to the answers stored with the idempotency keys of those
  // leads and opportunities (a replay must not bring the data back); one
  // audit row.
  virtual absl::StatusOr<PipelineErasure> EraseCustomerData(
      const Actor& actor, const std::string& consumer, const std::string& event_id,
      const std::vector<std::string>& customer_ids, absl::Time now) = 0;

  // RESOURCE_EXHAUSTED beyond kMaxForecastItems opportunities.
  virtual absl::StatusOr<std::vector<domain::ForecastItem>> ForecastItems(
      const std::string& tenant, const ForecastQuery& q) = 0;
};

inline constexpr int kMaxForecastItems = 200'000;

}  // namespace crm::transaction::app
