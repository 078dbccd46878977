#include "services/transaction/app/order_money.h"

#include "libs/common/errors.h"
#include "libs/common/status_macros.h"
#include "libs/common/text.h"

namespace crm::transaction::app {
namespace {

absl::Status CheckUuid(const char* field, const std::string& id) {
  if (!common::IsUuid(id)) {
    return common::InvalidField(field, std::string(field) + " must be a UUID");
  }
  return absl::OkStatus();
}

}  // namespace

absl::Time OrderMoney::Now() const {
  return absl::FromUnixMicros(absl::ToUnixMicros(clock_.Now()));
}

absl::StatusOr<domain::Payment> OrderMoney::RecordPayment(const Actor& actor,
                                                          const std::string& order_id,
                                                          domain::Payment p) {
  CRM_RETURN_IF_ERROR(RequireRequestId(actor));
  CRM_RETURN_IF_ERROR(CheckUuid("order_id", order_id));
  CRM_RETURN_IF_ERROR(domain::ValidateNewPayment(p));
  p.id = ids_.NewId();
  p.order_id = order_id;
  p.version = 1;
  p.create_time = p.update_time = Now();
  return repository_.RecordPayment(actor, p);
}

absl::StatusOr<domain::Payment> OrderMoney::UpdatePaymentStatus(const Actor& actor,
                                                                const std::string& order_id,
                                                                const std::string& payment_id,
                                                                domain::PaymentStatus to) {
  CRM_RETURN_IF_ERROR(RequireRequestId(actor));
  CRM_RETURN_IF_ERROR(CheckUuid("order_id", order_id));
  CRM_RETURN_IF_ERROR(CheckUuid("payment_id", payment_id));
  int v = static_cast<int>(to);
  if (v < 1 || v > 4) return common::InvalidField("status", "status is required");
  return repository_.UpdatePaymentStatus(actor, order_id, payment_id, to, Now());
}

absl::StatusOr<std::vector<domain::Payment>> OrderMoney::ListPayments(
    const std::string& tenant, const std::string& order_id) {
  CRM_RETURN_IF_ERROR(CheckUuid("order_id", order_id));
  return repository_.ListPayments(tenant, order_id);
}

absl::StatusOr<domain::Return> OrderMoney::CreateReturn(
    const Actor& actor, const std::string& order_id,
    const std::vector<domain::ReturnLineRequest>& lines, const std::string& reason) {
  CRM_RETURN_IF_ERROR(RequireRequestId(actor));
  CRM_RETURN_IF_ERROR(CheckUuid("order_id", order_id));
  CRM_RETURN_IF_ERROR(common::CheckStorableText("reason", reason));
  if (reason.size() > 500) return common::InvalidField("reason", "reason is at most 500 characters");
  if (lines.empty()) return common::InvalidField("lines", "a return needs at least one line");
  if (lines.size() > static_cast<size_t>(domain::kMaxOrderLines)) {
    return common::InvalidField("lines", "a return has at most one entry per order line");
  }
  domain::Return r;
  r.id = ids_.NewId();
  r.order_id = order_id;
  r.reason = reason;
  r.create_time = Now();
  return repository_.CreateReturn(actor, r, lines);
}

absl::StatusOr<std::vector<domain::Return>> OrderMoney::ListReturns(const std::string& tenant,
                                                                    const std::string& order_id) {
  CRM_RETURN_IF_ERROR(CheckUuid("order_id", order_id));
  return repository_.ListReturns(tenant, order_id);
}

absl::StatusOr<domain::Refund> OrderMoney::CreateRefund(const Actor& actor,
                                                        const std::string& order_id,
                                                        domain::Refund r) {
  CRM_RETURN_IF_ERROR(RequireRequestId(actor));
  CRM_RETURN_IF_ERROR(CheckUuid("order_id", order_id));
  if (!r.return_id.empty()) CRM_RETURN_IF_ERROR(CheckUuid("return_id", r.return_id));
  r.id = ids_.NewId();
  r.order_id = order_id;
  r.version = 1;
  r.create_time = r.update_time = Now();
  return repository_.CreateRefund(actor, r);
}

absl::StatusOr<domain::Refund> OrderMoney::UpdateRefundStatus(const Actor& actor,
                                                              const std::string& order_id,
                                                              const std::string& refund_id,
                                                              domain::RefundStatus to) {
  CRM_RETURN_IF_ERROR(RequireRequestId(actor));
  CRM_RETURN_IF_ERROR(CheckUuid("order_id", order_id));
  CRM_RETURN_IF_ERROR(CheckUuid("refund_id", refund_id));
  int v = static_cast<int>(to);
  if (v < 1 || v > 3) return common::InvalidField("status", "status is required");
  return repository_.UpdateRefundStatus(actor, order_id, refund_id, to, Now());
}

absl::StatusOr<std::vector<domain::Refund>> OrderMoney::ListRefunds(const std::string& tenant,
                                                                    const std::string& order_id) {
  CRM_RETURN_IF_ERROR(CheckUuid("order_id", order_id));
  return repository_.ListRefunds(tenant, order_id);
}

}  // namespace crm::transaction::app
