#pragma once
// Order use cases.
#include <string>

#include "absl/status/statusor.h"
#include "libs/common/clock.h"
#include "libs/common/id.h"
#include "services/transaction/app/ports.h"

namespace crm::transaction::app {

class Orders final {
 public:
  Orders(OrderRepository& repository, const common::Clock& clock, common::IdGenerator& ids)
      : repository_(repository), clock_(clock), ids_(ids) {}

  // actor.idempotency_key is required (INVALID_ARGUMENT field request_id).
  absl::StatusOr<domain::Order> Create(const Actor& actor, domain::Order o);
  absl::StatusOr<domain::Order> Get(const std::string& tenant, const std::string& id);
  absl::StatusOr<OrderPage> List(const std::string& tenant, const OrderQuery& q);
  absl::StatusOr<domain::Order> Transition(const Actor& actor, const std::string& id,
                                           domain::OrderStatus to);

 private:
  // Times are kept to the microsecond, as stored, so a replay is identical.
  absl::Time Now() const;
  OrderRepository& repository_;
  const common::Clock& clock_;
  common::IdGenerator& ids_;
};

}  // namespace crm::transaction::app
