#include "services/personalization/api/fact_events.h"

#include "libs/events/batch_read.h"
#include "libs/events/behaviour_event.h"
#include "libs/events/consent_event.h"
#include "libs/events/customer_event.h"
#include "libs/events/order_event.h"

namespace crm::personalization::api {

std::vector<absl::Status> HandleFactBatch(app::Recommender& recommender,
                                          const std::vector<events::Event>& batch) {
  std::vector<absl::Status> out(batch.size());
  std::vector<app::Fact> facts;
  std::vector<std::size_t> where;
  for (std::size_t i = 0; i < batch.size(); ++i) {
    // The first decoder of the event's kind reads it; other events stay OK.
    static_cast<void>(
        events::ReadFact(events::OrderFactOf, batch, i, facts, where, out[i]) ||
        events::ReadFact(events::ProductFactOf, batch, i, facts, where, out[i]) ||
        events::ReadFacts(events::BehaviourFactsOf, batch, i, facts, where, out[i]) ||
        events::ReadFact(events::CustomerChangeOf, batch, i, facts, where, out[i]) ||
        events::ReadFact(events::CustomerIdentifiedOf, batch, i, facts, where, out[i]) ||
        events::ReadFact(events::ConsentFactOf, batch, i, facts, where, out[i]));
  }
  std::vector<absl::Status> applied = recommender.Apply(facts);
  for (std::size_t k = 0; k < where.size(); ++k) {
    // An event of several facts (a behaviour batch) fails with its first failing fact.
    if (out[where[k]].ok()) out[where[k]] = std::move(applied[k]);
  }
  return out;
}

}  // namespace crm::personalization::api
