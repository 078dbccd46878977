#pragma once
// What the personalization engine keeps of the events it reads, and the port
// that stores it (storage/pg_personalization_repository.h) so the models can
// be rebuilt after a restart. Every row is idempotent by its natural key, so
// an event delivered twice changes nothing.
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "libs/outbox/write_port.h"
#include "services/personalization/domain/interests.h"
#include "services/personalization/domain/offers.h"
#include "services/personalization/domain/pricing.h"
#include "services/personalization/domain/slots.h"
#include "services/personalization/domain/templates.h"

namespace crm::personalization::app {

// One customer's (or visitor's) interaction with a product.
struct InteractionRow {
  std::string user_key;  // the customer id, or VisitorKey(visitor id)
  std::string sku;
  std::string source;  // "order:<order id>" or "event:<behaviour event id>"; one row per (source, sku)
  domain::Signal signal = domain::Signal::kView;
  absl::Time time = absl::InfinitePast();
  std::string topic;  // a search's category path (sku ""); "" for the others
};

struct ProductRow {
  std::string sku;
  std::string category_path;  // joined by "/", "" when none
  bool active = true;
  std::int64_t version = 0;  // the newest version wins
  // The list price (-1: not known, from events before prices) and unit cost.
  std::int64_t price_minor = -1;
  std::string currency_code;
  std::optional<std::int64_t> cost_minor;
};

// A customer's newest recorded status of purpose "profiling" on one channel.
struct ProfilingConsentRow {
  std::string customer_id;
  std::string channel;
  std::string status;  // opted_in, opted_out, pending, unknown
  absl::Time time = absl::InfinitePast();
};

// The topics a customer chose or declined themselves (their interests'
// explicit half, domain/interests.h).
struct ChosenTopics {
  std::string customer_id;
  absl::flat_hash_map<std::string, bool> topics;  // normalized topic -> interested
  std::int64_t version = 0;                       // +1 per write; 0: never written
  absl::Time update_time = absl::InfinitePast();
};

// One write of a customer's chosen topics.
class InterestTx {
 public:
  virtual ~InterestTx() = default;
  // The customer's chosen topics, locked for update (none, version 0, when
  // never written); NOT_FOUND (CUSTOMER_NOT_FOUND) for a customer the engine
  // does not know or that was erased.
  virtual absl::StatusOr<ChosenTopics> LoadChosen(const std::string& customer_id) = 0;
  virtual void SaveChosen(const ChosenTopics& c) = 0;
};

// A history that moves between users, after the batch's interactions are
// stored (docs/personalization.md, "Identities").
struct HistoryMove {
  enum class Kind {
    kIdentified,  // visitor `from` (a visitor id) is customer `to` from now on
    kMerged,      // customer `from` was merged into customer `to`
    kUnmerged,    // customer `to` was restored from customer `from`
  };
  Kind kind = Kind::kIdentified;
  std::string from;
  std::string to;
};

// What one tenant's events of a consumer read say, in event order.
struct TenantBatch {
  std::vector<InteractionRow> interactions;
  std::vector<ProductRow> products;
  std::vector<std::string> known_customers;
  std::vector<std::string> erased_customers;  // with their interactions and consents
  std::vector<ProfilingConsentRow> consents;
  std::vector<HistoryMove> moves;
  // Purchases no longer counted: an order cancelled (skus empty: all its
  // rows) or lines returned in full, by source ("order:<id>").
  std::vector<std::pair<std::string, std::vector<std::string>>> unlearned;
};

// One user's whole stored history, in stored order (after a move).
struct UserHistory {
  std::string user_key;
  std::vector<InteractionRow> rows;
};

// Which rows of a TenantBatch changed anything (a redelivered event's rows do not).
struct StoredBatch {
  std::vector<bool> new_interactions;
  // Per interaction, the user it was stored for: its own, or the customer
  // its visitor is linked to.
  std::vector<std::string> stored_users;
  std::vector<bool> newer_products;
  std::vector<bool> newer_consents;
  // The histories the moves and the unlearned purchases changed, each as it
  // is now (a user listed once, with its final rows).
  std::vector<UserHistory> moved;
  std::vector<std::string> merged_away;  // customers merged into another: no longer known
};

// Everything stored, for the rebuild at start.
class StoredRows {
 public:
  virtual ~StoredRows() = default;
  virtual void Product(const std::string& tenant, const ProductRow& p) = 0;
  virtual void Customer(const std::string& tenant, const std::string& customer_id) = 0;
  virtual void Consent(const std::string& tenant, const ProfilingConsentRow& c) = 0;
  virtual void Chosen(const std::string& tenant, const ChosenTopics& c) = 0;
  // In the order they were stored (the order the engine learnt them), after
  // every product, customer and consent.
  virtual void Interaction(const std::string& tenant, const InteractionRow& r) = 0;
};

class PersonalizationRepository : public outbox::UnitOfWork<InterestTx, ChosenTopics> {
 public:
  // One transaction for the tenant's batch; an erased customer's chosen
  // topics go with their other rows.
  virtual absl::StatusOr<StoredBatch> Store(const std::string& tenant, const TenantBatch& b) = 0;
  // Every tenant's rows (read across tenants, read only).
  virtual absl::Status Load(StoredRows& rows) = 0;
};

// One write's transaction of a definition kept by id (content slots,
// message templates; app/definitions.h).
template <typename T>
class DefinitionTx {
 public:
  virtual ~DefinitionTx() = default;
  // For update; nullopt when the tenant has no such definition.
  virtual absl::StatusOr<std::optional<T>> Load(const std::string& id) = 0;
  virtual absl::StatusOr<std::size_t> Count() = 0;  // the tenant's
  virtual void Save(const T& d) = 0;                // insert or update
  virtual void Delete(const std::string& id) = 0;
};

template <typename T>
class DefinitionRepository : public outbox::UnitOfWork<DefinitionTx<T>, T> {
 public:
  // Every tenant's (read across tenants, at start): (tenant, definition).
  virtual absl::StatusOr<std::vector<std::pair<std::string, T>>> LoadAll() = 0;
  // One as stored now (nullopt when none).
  virtual absl::StatusOr<std::optional<T>> Current(const std::string& tenant,
                                                   const std::string& id) = 0;
};

// The tenants' content slots (the definitions; decisions are not stored).
using SlotRepository = DefinitionRepository<domain::Slot>;
using TemplateRepository = DefinitionRepository<domain::MessageTemplate>;

// The segmentation engine's evaluation of a customer against expressions
// of the segment language (its MatchCustomer), in request order.
class SegmentationPeer {
 public:
  virtual ~SegmentationPeer() = default;
  virtual absl::StatusOr<std::vector<bool>> Match(const std::string& tenant,
                                                  const std::string& customer_id,
                                                  const std::vector<std::string>& expressions) = 0;
  // The customer's P(alive) under the tenant's CLV model (GetCustomerScores);
  // nullopt when the tenant has no model; NOT_FOUND for a customer it does
  // not know.
  virtual absl::StatusOr<std::optional<double>> PAlive(const std::string& tenant,
                                                       const std::string& customer_id) = 0;
  // The customer's live segments with the time they entered each
  // (GetCustomerSegments); NOT_FOUND for a customer it does not know.
  virtual absl::StatusOr<std::vector<std::pair<std::string, absl::Time>>> Segments(
      const std::string& tenant, const std::string& customer_id) = 0;
  // Up to `limit` members of a segment, in the engine's member order
  // (ListSegmentMembers); NOT_FOUND (SEGMENT_NOT_FOUND).
  virtual absl::StatusOr<std::vector<std::string>> Members(const std::string& tenant,
                                                           const std::string& segment_id,
                                                           std::size_t limit) = 0;
};

// One next-best-offer decision: logged (personalization.offer_decisions; a
// call's decisions in one offers.presented event) so that delivery can
// attribute a conversion to it.
struct OfferDecision {
  std::string decision_id;
  domain::Offer offer;  // as decided (its version)
  int rank = 0;         // 1-based within the answer
  double expected_value = 0;
  double relevance = 0;
  double p_alive = 1;
  std::string reason;  // "ranked", or "not_personalized" (objected to profiling)
  absl::Time decide_time = absl::InfinitePast();
};

struct NextBestOffers {
  std::vector<OfferDecision> decisions;
  bool personalized = true;     // false: objected to profiling
  bool rules_evaluated = true;  // false: segmentation did not answer; ruled offers left out
};

// One offer write's, or one next-best-offer call's, transaction.
class OfferTx {
 public:
  virtual ~OfferTx() = default;
  virtual absl::StatusOr<std::optional<domain::Offer>> LoadOffer(const std::string& offer_id) = 0;
  virtual absl::StatusOr<std::size_t> CountOffers() = 0;  // the tenant's, retired included
  virtual void SaveOffer(const domain::Offer& o) = 0;
  // One presentation of a capped offer to the customer, if neither of its
  // caps is reached (atomic under concurrency); false, nothing changed,
  // otherwise. Offers without caps are not counted here (their
  // presentations are their logged decisions).
  virtual absl::StatusOr<bool> ClaimPresentation(const domain::Offer& o,
                                                 const std::string& customer_id) = 0;
  // The call's decisions (rows) and one offers.presented event listing them.
  virtual void LogDecisions(const std::string& customer_id,
                            const std::vector<OfferDecision>& decisions) = 0;
};

class OfferRepository : public outbox::UnitOfWork<OfferTx, domain::Offer, NextBestOffers> {
 public:
  // Every tenant's offers (at start): (tenant, offer).
  virtual absl::StatusOr<std::vector<std::pair<std::string, domain::Offer>>> LoadAllOffers() = 0;
  virtual absl::StatusOr<std::optional<domain::Offer>> CurrentOffer(
      const std::string& tenant, const std::string& offer_id) = 0;
  // How many times the offer was presented (its logged decisions; an
  // erased customer's are gone).
  virtual absl::StatusOr<std::int64_t> Presented(const std::string& tenant,
                                                 const std::string& offer_id) = 0;
};

// One price policy write's transaction.
class PriceTx {
 public:
  virtual ~PriceTx() = default;
  // For update; nullopt when the tenant never wrote one.
  virtual absl::StatusOr<std::optional<domain::PricePolicy>> LoadPolicy() = 0;
  virtual void SavePolicy(const domain::PricePolicy& p) = 0;
};

// Why a quote has its price.
enum class QuoteReason { kTier, kNoTier, kNotPersonalized, kRulesUnavailable };

// One personal price quote as given (its signed token is not kept).
struct QuoteRecord {
  std::string quote_id;
  std::string customer_id;
  std::string sku;
  std::string currency_code;
  domain::PriceQuote price;
  QuoteReason reason = QuoteReason::kNoTier;
  std::string tier;         // "" when none
  std::string explanation;  // domain::ExplainQuote
  absl::Time quote_time = absl::InfinitePast();
  absl::Time expire_time = absl::InfinitePast();
};

class PriceRepository : public outbox::UnitOfWork<PriceTx, domain::PricePolicy> {
 public:
  // Every tenant's policy (at start): (tenant, policy).
  virtual absl::StatusOr<std::vector<std::pair<std::string, domain::PricePolicy>>>
  LoadAllPolicies() = 0;
  virtual absl::StatusOr<std::optional<domain::PricePolicy>> CurrentPolicy(
      const std::string& tenant) = 0;
  virtual absl::Status LogQuote(const std::string& tenant, const QuoteRecord& q) = 0;
};

// A customer's profile as customer-store holds it now: the fields message
// templates read (docs/api.md, "Message templates").
struct CustomerProfile {
  std::string customer_id;
  std::string given_name;
  std::string family_name;
  std::string display_name;
  std::string email;  // the first, "" when none
  std::string phone;  // the first, "" when none
  std::string locale;
  std::string time_zone;
  std::string city;
  std::string country;
  std::string lifecycle_stage;                    // "customer", "lead", ... ("" when unset)
  std::map<std::string, std::string> attributes;  // each value as text
  int birthday_month = 0;                         // 0: no birthday
  int birthday_day = 0;
};

class CustomerProfiles {
 public:
  virtual ~CustomerProfiles() = default;
  // NOT_FOUND (CUSTOMER_NOT_FOUND) for a customer the tenant does not have.
  virtual absl::StatusOr<CustomerProfile> Get(const std::string& tenant,
                                              const std::string& customer_id) = 0;
  // The profiles of these customers by id, read at once; a customer the
  // tenant does not have is absent.
  virtual absl::StatusOr<std::map<std::string, CustomerProfile>> GetMany(
      const std::string& tenant, const std::vector<std::string>& customer_ids) = 0;
};

inline std::string VisitorKey(const std::string& visitor_id) { return "visitor:" + visitor_id; }

}  // namespace crm::personalization::app
