#pragma once
// The tenant's routing rules (docs/service-desk.md, "Routing"): read, and
// written whole under their etag (admins). Tickets::Open applies them.
#include <string>

#include "absl/status/statusor.h"
#include "libs/common/clock.h"
#include "services/service_desk/app/ports.h"

namespace crm::service_desk::app {

class Routing final {
 public:
  Routing(TicketRepository& repository, const common::Clock& clock)
      : repository_(repository), clock_(clock) {}

  absl::StatusOr<domain::RoutingRules> Get(const std::string& tenant);
  // if_match: the rules' etag ("0" before the first write; "" = last writer
  // wins). INVALID_ARGUMENT naming the field; ABORTED ETAG_MISMATCH.
  absl::StatusOr<domain::RoutingRules> Update(const Actor& actor, domain::RoutingRules rules,
                                              const std::string& if_match);

 private:
  TicketRepository& repository_;
  const common::Clock& clock_;
};

}  // namespace crm::service_desk::app
