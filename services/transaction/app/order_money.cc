#include "services/transaction/app/order_money.h"

#include "absl/strings/str_cat.h"
#include "libs/common/errors.h"
#include "libs/common/status_macros.h"
#include "libs/common/text.h"
#include "services/transaction/domain/order_money.h"

namespace crm::transaction::app {
namespace {

absl::Status CheckUuid(const char* field, const std::string& id) {
  if (!common::IsUuid(id)) {
    return common::InvalidField(field, std::string(field) + " must be a UUID");
  }
  return absl::OkStatus();
}

// The order's change (domain::ApplyOrderChange) saved and announced.
void SaveOrderChange(OrderTx& tx, domain::Order& o, domain::OrderStatus before, absl::Time now) {
  const std::string event = domain::ApplyOrderChange(o, before, now);
  tx.SaveOrder(o, false);
  tx.EmitOrder(event, o);
}

std::string PaymentEvent(const domain::Payment& p) {
  return absl::StrCat("payment.", domain::PaymentStatusName(p.status));
}
std::string RefundEvent(const domain::Refund& r) {
  return absl::StrCat("refund.", domain::RefundStatusName(r.status));
}

}  // namespace

absl::StatusOr<domain::Payment> WriteNewPayment(OrderTx& tx, const domain::Payment& p) {
  CRM_ASSIGN_OR_RETURN(domain::Order o, tx.LoadOrder(p.order_id));
  const domain::OrderStatus before = o.status;
  CRM_ASSIGN_OR_RETURN(bool changed, domain::ApplyNewPayment(o, p));
  if (changed) SaveOrderChange(tx, o, before, p.create_time);
  tx.SavePayment(p, true);
  tx.EmitPayment(PaymentEvent(p), o, p);
  return p;
}

absl::StatusOr<domain::Payment> WritePaymentStatus(OrderTx& tx, const std::string& order_id,
                                                   const std::string& payment_id,
                                                   domain::PaymentStatus to, absl::Time now) {
  // Order first, then payment: the same lock order as a new payment.
  CRM_ASSIGN_OR_RETURN(domain::Order o, tx.LoadOrder(order_id));
  const domain::OrderStatus before = o.status;
  CRM_ASSIGN_OR_RETURN(domain::Payment p, tx.LoadPayment(order_id, payment_id));
  CRM_ASSIGN_OR_RETURN(bool changed, domain::ApplyPaymentStatus(o, p, to, now));
  if (changed) SaveOrderChange(tx, o, before, now);
  tx.SavePayment(p, false);
  tx.EmitPayment(PaymentEvent(p), o, p);
  return p;
}

absl::StatusOr<domain::Return> WriteNewReturn(OrderTx& tx, const domain::Return& r,
                                              const std::vector<domain::ReturnLineRequest>& lines) {
  CRM_ASSIGN_OR_RETURN(domain::Order o, tx.LoadOrder(r.order_id));
  const domain::OrderStatus before = o.status;
  domain::Return out = r;
  CRM_RETURN_IF_ERROR(domain::ApplyNewReturn(o, out, lines));
  tx.AppendReturn(out, o);
  tx.EmitReturn(o, out);
  SaveOrderChange(tx, o, before, out.create_time);
  return out;
}

absl::StatusOr<domain::Refund> WriteNewRefund(OrderTx& tx, const domain::Refund& r) {
  CRM_ASSIGN_OR_RETURN(domain::Order o, tx.LoadOrder(r.order_id));
  const domain::OrderStatus before = o.status;
  // Under the order's row lock: no refund or return of it can come in between.
  std::vector<domain::Refund> refunds = tx.LoadRefunds(o.id);
  CRM_ASSIGN_OR_RETURN(bool changed, domain::ApplyNewRefund(o, r, refunds, tx.LoadReturns(o.id)));
  tx.SaveRefund(r, true);
  if (changed) SaveOrderChange(tx, o, before, r.create_time);
  tx.EmitRefund(RefundEvent(r), o, r);
  return r;
}

absl::StatusOr<domain::Refund> WriteRefundStatus(OrderTx& tx, const std::string& order_id,
                                                 const std::string& refund_id,
                                                 domain::RefundStatus to, absl::Time now) {
  CRM_ASSIGN_OR_RETURN(domain::Order o, tx.LoadOrder(order_id));
  const domain::OrderStatus before = o.status;
  CRM_ASSIGN_OR_RETURN(domain::Refund f, tx.LoadRefund(order_id, refund_id));
  CRM_ASSIGN_OR_RETURN(bool changed, domain::ApplyRefundStatus(o, f, to, now));
  tx.SaveRefund(f, false);
  if (changed) SaveOrderChange(tx, o, before, now);
  tx.EmitRefund(RefundEvent(f), o, f);
  return f;
}

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
  return repository_.Run<domain::Payment>(actor, p.id,
                                          [&](OrderTx& tx) { return WriteNewPayment(tx, p); });
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
  const absl::Time now = Now();
  return repository_.Run<domain::Payment>(actor, payment_id, [&](OrderTx& tx) {
    return WritePaymentStatus(tx, order_id, payment_id, to, now);
  });
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
  return repository_.Run<domain::Return>(actor, r.id,
                                         [&](OrderTx& tx) { return WriteNewReturn(tx, r, lines); });
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
  return repository_.Run<domain::Refund>(actor, r.id,
                                         [&](OrderTx& tx) { return WriteNewRefund(tx, r); });
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
  const absl::Time now = Now();
  return repository_.Run<domain::Refund>(actor, refund_id, [&](OrderTx& tx) {
    return WriteRefundStatus(tx, order_id, refund_id, to, now);
  });
}

absl::StatusOr<std::vector<domain::Refund>> OrderMoney::ListRefunds(const std::string& tenant,
                                                                    const std::string& order_id) {
  CRM_RETURN_IF_ERROR(CheckUuid("order_id", order_id));
  return repository_.ListRefunds(tenant, order_id);
}

}  // namespace crm::transaction::app
