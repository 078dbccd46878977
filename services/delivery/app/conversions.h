#pragma once
// Conversions (docs/delivery.md, "Conversions"): what an order of the
// transaction engine does to the messages that may have caused it. Credit
// goes to the message the customer last clicked (or, when the tenant counts
// opens, opened) within the attribution window before the order was placed
// (once per order: a later version of the order updates its revenue, never
// moves its credit); every campaign row that reached, or in the holdout
// did not reach, the customer within the window before the order counts it
// as an order after exposure (the lift over the holdout). A cancelled order
// takes both back. Every step is an upsert keyed by (order, message, kind),
// so a redelivered event changes nothing.
#include <string>

#include "absl/status/statusor.h"
#include "services/delivery/app/policy_cache.h"
#include "services/delivery/app/ports.h"

namespace crm::delivery::app {

class Conversions final {
 public:
  Conversions(DeliveryRepository& repository, PolicyCache& policies)
      : repository_(repository), policies_(policies) {}

  absl::StatusOr<ConversionResult> Record(const std::string& tenant, const OrderConversion& order);

 private:
  DeliveryRepository& repository_;
  PolicyCache& policies_;
};

}  // namespace crm::delivery::app
