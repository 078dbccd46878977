#pragma once
// Batch resolution of customer references for other engines
// (ResolveCustomerRefs). No gRPC or SQL types here.
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "libs/common/clock.h"
#include "libs/common/id.h"
#include "services/customer_store/app/ports.h"
#include "services/customer_store/domain/resolve_rules.h"

namespace crm::customer_store::app {

class CustomerResolver final {
 public:
  CustomerResolver(CustomerRepository& repository, const common::Clock& clock,
                   common::IdGenerator& ids)
      : repository_(repository), clock_(clock), ids_(ids) {}

  // More than domain::kMaxResolveRefs references: INVALID_ARGUMENT (field
  // refs). create_missing needs actor.idempotency_key (INVALID_ARGUMENT
  // field request_id). Malformed references answer kInvalid on their own.
  absl::StatusOr<ResolveOutcome> Resolve(const Actor& actor,
                                         const std::vector<domain::RefQuery>& refs,
                                         bool create_missing, const std::string& fingerprint);

 private:
  CustomerRepository& repository_;
  const common::Clock& clock_;
  common::IdGenerator& ids_;
};

}  // namespace crm::customer_store::app
