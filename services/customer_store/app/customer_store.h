#pragma once
// Use cases of engine 1. No gRPC, SQL or Redis types here.
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "libs/common/clock.h"
#include "libs/common/id.h"
#include "services/customer_store/app/ports.h"
#include "services/customer_store/domain/customer.h"
#include "services/customer_store/domain/timeline.h"

namespace crm::customer_store::app {

inline constexpr int kDefaultViewInteractions = 20;
inline constexpr int kMaxViewInteractions = 100;
inline constexpr int kVisitRead = 1000;
inline constexpr int kMaxVisitReads = 20;
inline constexpr int kMaxBatchGet = 500;

struct UpsertResult {
  domain::Customer customer;
  bool created = false;
};

// GetVisit: a visitor id or a customer id (one), the instant (InfinitePast:
// now) and how many of the visit's newest events (0: the default).
struct VisitQuery {
  std::string visitor_id;
  std::string customer_id;
  absl::Time at = absl::InfinitePast();
  int event_limit = 0;
};

class CustomerStore final {
 public:
  CustomerStore(CustomerRepository& repository, ViewCache& cache, const common::Clock& clock,
                common::IdGenerator& ids)
      : repository_(repository), cache_(cache), clock_(clock), ids_(ids) {}

  absl::StatusOr<domain::Customer> Create(const Actor& actor, domain::Customer c);
  absl::StatusOr<domain::Customer> Get(const std::string& tenant, const std::string& id);
  // Up to kMaxBatchGet customers by id (BatchGetCustomers): those that
  // exist, with their current consents when asked; the others in `missing`.
  struct Batch {
    std::vector<CustomerRepository::CustomerRecord> found;  // consents: current ones
    std::vector<std::string> missing;
  };
  absl::StatusOr<Batch> BatchGet(const std::string& tenant, const std::vector<std::string>& ids,
                                 bool with_consents);
  absl::StatusOr<domain::Customer> Update(const Actor& actor, const std::string& id,
                                          const domain::Customer& patch,
                                          const std::vector<std::string>& paths,
                                          const std::string& if_match);
  absl::StatusOr<domain::ErasureResult> Erase(const Actor& actor, const std::string& id,
                                              const std::string& if_match);
  absl::StatusOr<Page<domain::Customer>> List(const std::string& tenant, const ListQuery& q);
  // Exactly one of email, phone, name_prefix (raw; normalized here).
  absl::StatusOr<Page<domain::Customer>> Search(const std::string& tenant, SearchQuery q);
  // present_paths: the non-identity fields the caller set (patch semantics);
  // identities are added to the existing ones.
  absl::StatusOr<UpsertResult> Upsert(const Actor& actor, domain::Customer c,
                                      const std::vector<std::string>& present_paths);
  absl::StatusOr<std::vector<domain::Consent>> Consents(const std::string& tenant,
                                                        const std::string& id,
                                                        bool include_history);
  absl::StatusOr<domain::Consent> RecordConsent(const Actor& actor, const std::string& id,
                                                domain::Consent c);
  // The timeline: stored interactions and visits (sessions of behaviour
  // events, kind WEB_VISIT, domain/timeline.h) merged newest first. A visit
  // is read from at most kMaxVisitReads reads of kVisitRead events on each
  // side of the page boundary (a longer one is counted from those).
  absl::StatusOr<Page<domain::Interaction>> Interactions(const std::string& tenant,
                                                         const std::string& id,
                                                         const InteractionQuery& q);
  // The visit running at q.at (domain::VisitAt) from one read on each side
  // of it (kVisitRead events: a longer visit is `partial`).
  absl::StatusOr<domain::Visit> VisitAt(const std::string& tenant, const VisitQuery& q);
  absl::StatusOr<domain::Interaction> AddInteraction(const Actor& actor, const std::string& id,
                                                     domain::Interaction i);
  // The serialized 360 view, through the cache for the default size.
  absl::StatusOr<std::string> ViewBytes(
      const std::string& tenant, const std::string& id, int interaction_limit,
      const std::function<std::string(const domain::CustomerView&)>& serialize);
  absl::StatusOr<domain::CustomerExport> Export(const std::string& tenant, const std::string& id);

 private:
  absl::Status CheckId(const std::string& id) const;
  // The newest `limit` visits before the cursor; .second: more exist.
  absl::StatusOr<std::pair<std::vector<domain::Interaction>, bool>> VisitsBefore(
      const std::string& tenant, const std::string& id, const domain::TimelineCursor& cursor,
      int limit);

  CustomerRepository& repository_;
  ViewCache& cache_;
  const common::Clock& clock_;
  common::IdGenerator& ids_;
};

}  // namespace crm::customer_store::app
