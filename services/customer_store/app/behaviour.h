#pragma once
// Behaviour events: TrackEvents (a batch validated per event, subjects
// resolved, the accepted events stored and published in one write) and
// IdentifyCustomer (an anonymous visitor id linked to a customer).
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "libs/common/clock.h"
#include "libs/common/id.h"
#include "services/customer_store/app/ports.h"
#include "services/customer_store/domain/behaviour.h"

namespace crm::customer_store::app {

class BehaviourTracker {
 public:
  BehaviourTracker(BehaviourRepository& repository, ViewCache& cache, const common::Clock& clock,
                   common::IdGenerator& ids)
      : repository_(repository), cache_(cache), clock_(clock), ids_(ids) {}

  // 1..kMaxTrackBatch events (else INVALID_ARGUMENT INVALID_FIELD events).
  // Each event is validated (domain::ValidateBehaviour) and its subject
  // resolved: a customer id must name a customer of the tenant (a merged id
  // reads as its survivor; else refused CUSTOMER_NOT_FOUND), an email or
  // external id must be owned by one (else CUSTOMER_NOT_RESOLVED), a
  // visitor id alone is stored anonymous unless it is linked to a customer.
  // The accepted events are stored and published in one write; a batch
  // with none accepted still answers its results (and writes the audit row).
  absl::StatusOr<TrackOutcome> Track(const Actor& actor,
                                     const std::vector<domain::BehaviourInput>& events);

  // Links `visitor_id` to the customer (customer.identified, once per link).
  absl::StatusOr<IdentifyOutcome> Identify(const Actor& actor, const std::string& customer_id,
                                           const std::string& visitor_id);

 private:
  BehaviourRepository& repository_;
  ViewCache& cache_;
  const common::Clock& clock_;
  common::IdGenerator& ids_;
};

}  // namespace crm::customer_store::app
