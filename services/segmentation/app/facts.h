#pragma once
// Keeps the engine's facts from other engines' events: orders (newest
// version each, with the skus they bought), catalog products (newest version
// each, for their categories), customers (created, erased, merged, unmerged), behaviour
// events (once each) and visitors identified as customers.
#include <map>
#include <set>
#include <string>
#include <variant>
#include <vector>

#include "services/segmentation/app/ports.h"

namespace crm::segmentation::app {

using Fact = std::variant<events::OrderFact, events::CustomerChange, events::BehaviourFact,
                          events::CustomerIdentified, events::ConsentFact, events::ProductFact>;

// The customers whose facts `fact` changes, by tenant: an order's customer
// (the live segments also read the survivor of a merged one), a merge's or
// unmerge's two customers, every erased id, a behaviour event's customer, an
// identified visitor's customer. A product fact touches no customer by
// itself: see AddChangedProducts.
void AddTouchedCustomers(const Fact& fact, std::map<std::string, std::set<std::string>>& out);
// The skus whose catalog facts `fact` changes, by tenant (product facts only).
void AddChangedProducts(const Fact& fact, std::map<std::string, std::set<std::string>>& out);

class Facts {
 public:
  explicit Facts(FactRepository& repository) : repository_(repository) {}
  // One status per fact, applied in order: a run of order and behaviour
  // facts is written per tenant and kind in one transaction (each fact alone
  // when that fails) before the next customer change or visitor link, which
  // applies once per event id. INVALID_ARGUMENT for a fact without the ids,
  // currency, version or time it needs (never retried by the consumer).
  std::vector<absl::Status> Apply(const std::vector<Fact>& facts);

 private:
  FactRepository& repository_;
};

}  // namespace crm::segmentation::app
