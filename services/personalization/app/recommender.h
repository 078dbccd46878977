#pragma once
// The recommendation use cases: the engine's in-memory models, one per
// tenant, fed by events (orders, behaviour, catalog, customers, consents),
// stored through the repository so that Rebuild() after a restart gives the
// same answers.
#include <cstdint>
#include <memory>
#include <shared_mutex>
#include <string>
#include <variant>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "libs/common/clock.h"
#include "libs/events/behaviour_fact.h"
#include "libs/events/consent_fact.h"
#include "libs/events/customer_change.h"
#include "libs/events/order_fact.h"
#include "services/personalization/app/ports.h"
#include "services/personalization/domain/interests.h"
#include "services/personalization/domain/item_similarity.h"

namespace crm::personalization::app {

using Fact = std::variant<events::OrderFact, events::ProductFact, events::BehaviourFact,
                          events::CustomerChange, events::ConsentFact, events::CustomerIdentified>;

struct RecommenderSettings {
  domain::SimilarityParams similarity;  // Jaccard with locality 3
  std::int64_t half_life_seconds = 365 * 86400;
  // An interaction's weight in the customer's affinity, by its signal.
  double purchase_weight = 1.0;
  double cart_weight = 0.5;
  double view_weight = 0.25;
  double search_weight = 0.25;  // a search of a category (interests only)
};

struct ListRequest {
  std::size_t count = 10;       // 1..kMaxCount
  std::string category_prefix;  // normalized (domain::NormalizeTopic), "" for any
  bool include_owned = false;
};
inline constexpr std::size_t kMaxCount = 100;

enum class Strategy {
  kPersonalized,
  kPopularFallback,
  kNotPersonalized,
  kRelated,
  kSegmentPopular,  // no history yet: popular among a segment's members
};
enum class Reason { kBought, kViewed, kPopular, kRelated, kPopularInSegment };

struct Recommended {
  std::string sku;
  double score = 0;
  Reason reason = Reason::kPopular;
  std::string because_sku;
  std::string category_path;
};

struct RecommendationList {
  std::vector<Recommended> products;
  Strategy strategy = Strategy::kPersonalized;
  std::string segment_id;  // kSegmentPopular: the segment
};

// A customer's (or visitor's) interests: chosen topics first, then the
// inferred ones, best first (domain::InterestProfile::Top).
struct InterestsView {
  std::vector<domain::Interest> interests;
  std::vector<std::string> declined;  // topics the customer declined, in order
  bool personalized = true;           // false: objected to profiling, only their choices
};
inline constexpr std::size_t kDefaultInterestCount = 20;

// Who a decision is for: whether they objected to profiling, and, when
// asked for, their interest profile (empty when they objected) read at
// `now` (Unix seconds).
struct Audience {
  bool objected = false;
  domain::InterestProfile profile{0};
  std::int64_t now = 0;
};

class Recommender {
 public:
  // clock: the reading time of interests (nullptr: the system clock).
  explicit Recommender(PersonalizationRepository& repository, RecommenderSettings settings = {},
                       const common::Clock* clock = nullptr);
  ~Recommender();

  // Replaces the models with what the repository holds (at start, before
  // any call or event) and says what was loaded.
  struct LoadStats {
    std::size_t tenants = 0;
    std::size_t users = 0;         // customers and visitors with interactions
    std::size_t items = 0;
    std::size_t interactions = 0;  // rows read
    std::size_t pairs = 0;         // stored co-occurrence counts (both halves)
  };
  absl::StatusOr<LoadStats> Rebuild();

  // Stores what the facts say (one transaction per tenant) and applies it
  // to the models. One status per fact; a tenant's failure fails its facts
  // (the consumer delivers them again: storing is idempotent).
  std::vector<absl::Status> Apply(const std::vector<Fact>& facts);

  // NOT_FOUND (CUSTOMER_NOT_FOUND) for a customer the engine does not know.
  absl::StatusOr<RecommendationList> ForCustomer(const std::string& tenant,
                                                 const std::string& customer_id,
                                                 const ListRequest& r) const;
  absl::StatusOr<RecommendationList> ForVisitor(const std::string& tenant,
                                                const std::string& visitor_id,
                                                const ListRequest& r) const;
  // NOT_FOUND (PRODUCT_NOT_FOUND) for a sku the engine has never seen.
  absl::StatusOr<RecommendationList> Similar(const std::string& tenant, const std::string& sku,
                                             const ListRequest& r) const;
  RecommendationList ForCart(const std::string& tenant, const std::vector<std::string>& skus,
                             const ListRequest& r) const;
  // The products most popular among `members` (customer ids of the
  // tenant): each member's items with their decayed affinity, summed;
  // r's filters; at most r.count, best first (reason kPopularInSegment).
  std::vector<Recommended> PopularAmong(const std::string& tenant,
                                        const std::vector<std::string>& members,
                                        const ListRequest& r) const;

  // Interests over the catalog's category paths: each product the customer
  // viewed, carted or bought adds its affinity (the weights above, decayed)
  // to its category and the category's ancestors, each searched category
  // its search weight; the customer's choices win. NOT_FOUND
  // (CUSTOMER_NOT_FOUND) for a customer the engine does not know.
  absl::StatusOr<InterestsView> Interests(const std::string& tenant, const std::string& customer_id,
                                          std::size_t count) const;
  InterestsView VisitorInterests(const std::string& tenant, const std::string& visitor_id,
                                 std::size_t count) const;
  // The customer's (NOT_FOUND CUSTOMER_NOT_FOUND when unknown) or visitor's
  // audience, for slots and offers; the profile is built only
  // `with_interests` (it walks every product of the user).
  absl::StatusOr<Audience> CustomerAudience(const std::string& tenant,
                                            const std::string& customer_id,
                                            bool with_interests) const;
  Audience VisitorAudience(const std::string& tenant, const std::string& visitor_id,
                           bool with_interests) const;
  // The product as the catalog's events last described it (nullopt: none
  // has, though orders or views may have named it).
  std::optional<ProductRow> CatalogProduct(const std::string& tenant, const std::string& sku) const;
  // The customer chooses, declines or clears topics (domain::ApplyChoices),
  // once per idempotency key; answers Interests after the change.
  absl::StatusOr<InterestsView> ChooseTopics(const outbox::WriteMeta& meta,
                                             const std::string& customer_id,
                                             const std::vector<domain::TopicChoice>& changes,
                                             std::size_t count);

 private:
  struct Tenant;
  Tenant& TenantFor(const std::string& tenant);
  const Tenant* FindTenant(const std::string& tenant) const;
  absl::StatusOr<RecommendationList> ForUser(const Tenant* t, const std::string& user_key,
                                             bool objected, const ListRequest& r) const;

  // The interest profile of a user of `t` (under its shared lock).
  domain::InterestProfile ProfileOf(const Tenant* t, const std::string& user_key,
                                    const std::string& customer_id, bool objected) const;
  InterestsView InterestsOf(const Tenant* t, const std::string& user_key,
                            const std::string& customer_id, bool objected, std::size_t count) const;

  PersonalizationRepository& repository_;
  RecommenderSettings settings_;
  common::SystemClock system_clock_;
  const common::Clock& clock_;
  mutable absl::Mutex mu_;  // the map; each tenant has its own lock
  absl::flat_hash_map<std::string, std::unique_ptr<Tenant>> tenants_ ABSL_GUARDED_BY(mu_);
};

}  // namespace crm::personalization::app
