#pragma once
// SLAs on tickets (docs/service-desk.md, "SLA on tickets"): the tenant's
// policy (written whole under its etag) and a ticket's SLA, evaluated from
// its stored history by the SLA clock at the moment it is asked for.
#include <optional>
#include <string>
#include <vector>

#include "libs/common/clock.h"
#include "services/service_desk/app/ports.h"

namespace crm::service_desk::app {

struct TicketSla {
  int64_t policy_version = 0;  // 0: the tenant has no policy (no metrics)
  std::vector<domain::MetricState> metrics;
  std::optional<absl::Time> next_due;
  absl::Time evaluated_at = absl::InfinitePast();
};

class Slas final {
 public:
  Slas(TicketRepository& repository, const common::Clock& clock)
      : repository_(repository), clock_(clock) {}

  // NOT_FOUND SLA_POLICY_NOT_FOUND before the first write.
  absl::StatusOr<domain::SlaPolicySpec> GetPolicy(const std::string& tenant);
  // The whole policy; if_match against its etag ("0" before the first).
  absl::StatusOr<domain::SlaPolicySpec> UpdatePolicy(const Actor& actor, domain::SlaPolicySpec spec,
                                                     const std::string& if_match);
  absl::StatusOr<TicketSla> ForTicket(const std::string& tenant, const std::string& ticket_id);

 private:
  absl::Time Now() const;

  TicketRepository& repository_;
  const common::Clock& clock_;
};

}  // namespace crm::service_desk::app
