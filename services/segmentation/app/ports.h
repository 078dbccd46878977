#pragma once
// What the segmentation use cases need from storage.
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "libs/common/status_macros.h"
#include "libs/common/tenant_purge.h"
#include "libs/events/behaviour_fact.h"
#include "libs/events/consent_fact.h"
#include "libs/events/customer_change.h"
#include "libs/events/order_fact.h"
#include "libs/outbox/write_port.h"
#include "services/segmentation/domain/behaviour.h"
#include "services/segmentation/domain/clv_model.h"
#include "services/segmentation/domain/consents.h"
#include "services/segmentation/domain/live_features.h"
#include "services/segmentation/domain/purchases.h"

namespace crm::segmentation::app {

// One refit's transaction: reads the tenant's purchases, stores the model.
class ModelTx {
 public:
  virtual ~ModelTx() = default;
  virtual absl::StatusOr<std::vector<domain::PurchaseRecord>> LoadPurchases() = 0;
  virtual void Save(const domain::ClvModel& m) = 0;
  virtual void EmitRefitted(const domain::ClvModel& m) = 0;
};

struct TenantModel {
  std::string tenant_id;
  domain::ClvModel model;
};

class ModelRepository : public outbox::UnitOfWork<ModelTx, domain::ClvModel> {
 public:
  virtual absl::StatusOr<std::optional<domain::ClvModel>> GetClvModel(
      const std::string& tenant) = 0;
  // Across tenants (the refit scheduler): up to `limit` models fitted before
  // `fitted_before`, oldest first.
  virtual absl::StatusOr<std::vector<TenantModel>> ModelsFittedBefore(absl::Time fitted_before,
                                                                      int limit) = 0;
};

// The facts the engine keeps from other engines' events, in its own schema.
class FactRepository {
 public:
  virtual ~FactRepository() = default;
  // Every order of the tenant, any status (callers filter).
  virtual absl::StatusOr<std::vector<domain::PurchaseRecord>> Purchases(
      const std::string& tenant) = 0;
  // One customer's orders (as the survivor of merges), any status.
  virtual absl::StatusOr<std::vector<domain::PurchaseRecord>> PurchasesOf(
      const std::string& tenant, const std::string& customer_id) = 0;
  // Whether the tenant has this customer (created, not erased) or orders of it.
  virtual absl::StatusOr<bool> KnowsCustomer(const std::string& tenant,
                                             const std::string& customer_id) = 0;

  // One tenant's order facts in one transaction; a fact older than the
  // version kept is ignored.
  virtual absl::Status RecordOrders(const std::string& tenant,
                                    const std::vector<events::OrderFact>& facts) = 0;
  // Applies a customer change once per event id (a replay changes nothing).
  // created / updated keep the customer's profile fields (the newest version
  // wins; events without a profile keep none).
  // Behaviour follows customers as orders do: a merge makes the source's
  // behaviour count for the survivor, an unmerge gives the restored customer
  // its own back, an erasure deletes the customers' behaviour and visitor
  // links.
  virtual absl::Status ApplyCustomerChange(const events::CustomerChange& change) = 0;

  // One tenant's behaviour facts in one transaction, each once per event id
  // (a replay changes nothing). A fact counts for the customer it names, or,
  // anonymous, for the customer its visitor is linked to (if any, also when
  // the link came first); either way for the survivor of a merge.
  virtual absl::Status RecordBehaviour(const std::string& tenant,
                                       const std::vector<events::BehaviourFact>& facts) = 0;
  // customer.identified, once per event id: links the visitor to the
  // customer (a visitor's first link stays) and makes the visitor's
  // anonymous facts count for it.
  virtual absl::Status LinkVisitor(const events::CustomerIdentified& link) = 0;
  // behaviour.settings_updated: keeps the tenant's retention of behaviour
  // (SegmentationSettings::behaviour_retention_days) unless a newer version
  // is kept.
  virtual absl::Status RecordBehaviourRetention(const events::BehaviourRetention& r) = 0;
  // The tenants that keep behaviour for a limited time, with their
  // retention in days (read across tenants).
  virtual absl::StatusOr<std::vector<std::pair<std::string, int64_t>>>
  TenantsWithBehaviourRetention() = 0;
  // Deletes the tenant's behaviour facts that occurred before `cutoff` in
  // the window of `blocks` heap blocks from `from_block` (one transaction;
  // common/tenant_purge.h).
  virtual absl::StatusOr<common::PurgeStep> PurgeBehaviour(const std::string& tenant,
                                                           absl::Time cutoff, int64_t from_block,
                                                           int blocks) = 0;
  // A consent.recorded: the customer's status for the channel and purpose,
  // unless a newer one is kept (a replayed older event changes nothing).
  // Erasure deletes the customer's consents.
  virtual absl::Status RecordConsent(const events::ConsentFact& consent) = 0;
  // The kept consents of these customers (all of the tenant's with nullopt).
  virtual absl::StatusOr<std::vector<domain::CustomerConsent>> Consents(
      const std::string& tenant, const std::optional<std::vector<std::string>>& customer_ids) = 0;
  // One tenant's product facts in one transaction; the newest version of a
  // product wins.
  virtual absl::Status RecordProducts(const std::string& tenant,
                                      const std::vector<events::ProductFact>& facts) = 0;
  // sku -> category path ("Music/Jazz") of the tenant's products that have one.
  virtual absl::StatusOr<domain::SkuCategories> ProductCategories(const std::string& tenant) = 0;
  // The kept profiles of these customers (all of the tenant's with nullopt).
  virtual absl::StatusOr<std::vector<domain::CustomerProfile>> Profiles(
      const std::string& tenant, const std::optional<std::vector<std::string>>& customer_ids) = 0;
  // Every behaviour fact of the tenant that counts for a customer (anonymous
  // ones are left out), ordered by customer, then time: what rebuilds the
  // in-memory state. Reads the whole tenant (one query).
  virtual absl::StatusOr<std::vector<domain::CustomerEvent>> Behaviour(
      const std::string& tenant) = 0;
  // The behaviour facts that count for these customers, by customer and
  // time (none for a customer merged into another: they count for the
  // survivor). Ids that are not UUIDs match nothing.
  virtual absl::StatusOr<std::vector<domain::CustomerEvent>> BehaviourOf(
      const std::string& tenant, const std::vector<std::string>& customer_ids) = 0;

  // What the live segments read of these customers besides their purchases
  // (Consents, Profiles, BehaviourOf), in one read where the store can: the
  // default makes the three calls.
  struct CustomerFacts {
    std::vector<domain::CustomerConsent> consents;
    std::vector<domain::CustomerProfile> profiles;
    std::vector<domain::CustomerEvent> behaviour;
  };
  virtual absl::StatusOr<CustomerFacts> FactsOf(const std::string& tenant,
                                                const std::vector<std::string>& customer_ids) {
    CustomerFacts out;
    CRM_ASSIGN_OR_RETURN(out.consents, Consents(tenant, customer_ids));
    CRM_ASSIGN_OR_RETURN(out.profiles, Profiles(tenant, customer_ids));
    CRM_ASSIGN_OR_RETURN(out.behaviour, BehaviourOf(tenant, customer_ids));
    return out;
  }
};

}  // namespace crm::segmentation::app
