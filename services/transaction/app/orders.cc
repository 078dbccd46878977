#include "services/transaction/app/orders.h"

#include "libs/common/errors.h"
#include "libs/common/status_macros.h"

namespace crm::transaction::app {
namespace {
absl::Status RequireKey(const Actor& a) {
  if (a.idempotency_key.empty() || a.idempotency_key.size() > 128) {
    return common::InvalidField("request_id",
                                "request_id is required (1..128 characters): retries of the "
                                "same request must carry the same request_id");
  }
  return absl::OkStatus();
}
absl::Status CheckId(const std::string& id) {
  if (!common::IsUuid(id)) return common::InvalidField("order_id", "order_id must be a UUID");
  return absl::OkStatus();
}
}  // namespace

absl::Time Orders::Now() const { return absl::FromUnixMicros(absl::ToUnixMicros(clock_.Now())); }

absl::StatusOr<domain::Order> Orders::Create(const Actor& actor, domain::Order o) {
  CRM_RETURN_IF_ERROR(RequireKey(actor));
  CRM_RETURN_IF_ERROR(domain::NormalizeAndValidate(o));
  absl::Time now = Now();
  o.id = ids_.NewId();
  o.status = domain::OrderStatus::kPlaced;
  o.version = 1;
  if (o.placed_time == absl::InfinitePast()) o.placed_time = now;
  o.placed_time = absl::FromUnixMicros(absl::ToUnixMicros(o.placed_time));
  if (o.placed_time > now + absl::Minutes(5)) {
    return common::InvalidField("placed_time", "placed_time is in the future");
  }
  o.create_time = o.update_time = now;
  return repository_.Insert(actor, o);
}

absl::StatusOr<domain::Order> Orders::Get(const std::string& tenant, const std::string& id) {
  CRM_RETURN_IF_ERROR(CheckId(id));
  return repository_.Get(tenant, id);
}

absl::StatusOr<OrderPage> Orders::List(const std::string& tenant, const OrderQuery& q) {
  if (!q.customer_id.empty() && !common::IsUuid(q.customer_id)) {
    return common::InvalidField("customer_id", "customer_id must be a UUID");
  }
  int status = static_cast<int>(q.status);
  if (status < 0 || status > 5) return common::InvalidField("status", "unknown status");
  return repository_.List(tenant, q);
}

absl::StatusOr<domain::Order> Orders::Transition(const Actor& actor, const std::string& id,
                                                 domain::OrderStatus to) {
  CRM_RETURN_IF_ERROR(RequireKey(actor));
  CRM_RETURN_IF_ERROR(CheckId(id));
  int v = static_cast<int>(to);
  if (v < 1 || v > 5) return common::InvalidField("to_status", "to_status is required");
  return repository_.Transition(actor, id, to, Now());
}

}  // namespace crm::transaction::app
