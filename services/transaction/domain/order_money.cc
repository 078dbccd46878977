#include "services/transaction/domain/order_money.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "libs/common/errors.h"
#include "libs/common/status_macros.h"

namespace crm::transaction::domain {

namespace {
bool Open(const Refund& r) {
  return r.status == RefundStatus::kPending || r.status == RefundStatus::kSucceeded;
}
}  // namespace

int64_t OpenRefundsMinor(const std::vector<Refund>& refunds) {
  int64_t sum = 0;
  for (const Refund& r : refunds) {
    if (Open(r)) sum += r.amount_minor;
  }
  return sum;
}

int64_t OpenRefundsMinor(const std::vector<Refund>& refunds, const std::string& return_id) {
  int64_t sum = 0;
  for (const Refund& r : refunds) {
    if (Open(r) && r.return_id == return_id) sum += r.amount_minor;
  }
  return sum;
}

absl::Status ApplyCapture(Order& o, int64_t amount) {
  CRM_ASSIGN_OR_RETURN(OrderStatus next, CheckCapture(o, amount));
  o.paid_minor += amount;
  o.status = next;
  return absl::OkStatus();
}

absl::StatusOr<bool> ApplyNewPayment(Order& o, const Payment& p) {
  if (p.status == PaymentStatus::kCaptured) {
    CRM_RETURN_IF_ERROR(ApplyCapture(o, p.amount_minor));
    return true;
  }
  // Only the refusal of a cancelled order applies to what captures nothing.
  if (o.status == OrderStatus::kCancelled) {
    CRM_RETURN_IF_ERROR(CheckCapture(o, p.amount_minor).status());
  }
  return false;
}

absl::StatusOr<bool> ApplyPaymentStatus(Order& o, Payment& p, PaymentStatus to, absl::Time now) {
  CRM_RETURN_IF_ERROR(CheckPaymentTransition(p.status, to));
  bool captured = to == PaymentStatus::kCaptured;
  if (captured) CRM_RETURN_IF_ERROR(ApplyCapture(o, p.amount_minor));
  p.status = to;
  p.version += 1;
  p.update_time = now;
  return captured;
}

absl::Status ApplyNewReturn(Order& o, Return& r, const std::vector<ReturnLineRequest>& lines) {
  CRM_ASSIGN_OR_RETURN(ReturnPlan plan, PlanReturn(o, lines));
  ApplyReturn(o, plan);
  r.lines = plan.lines;
  r.amount_minor = plan.amount_minor;
  return absl::OkStatus();
}

absl::StatusOr<bool> ApplyNewRefund(Order& o, const Refund& r, const std::vector<Refund>& refunds,
                                    const std::vector<Return>& returns) {
  const Return* ret = nullptr;
  if (!r.return_id.empty()) {
    auto it = std::find_if(returns.begin(), returns.end(),
                           [&](const Return& x) { return x.id == r.return_id; });
    // The return first: an unknown return_id is reported as such, whatever
    // was captured.
    if (it == returns.end()) {
      return common::WithField(common::NotFound("RETURN_NOT_FOUND", "return not found"),
                               "return_id");
    }
    ret = &*it;
  }
  CRM_RETURN_IF_ERROR(CheckNewRefund(o, r, OpenRefundsMinor(refunds)));
  if (ret != nullptr) {
    int64_t value = ret->amount_minor;
    int64_t refunded = OpenRefundsMinor(refunds, ret->id);
    if (r.amount_minor > value - refunded) {
      return common::WithReason(
          absl::FailedPreconditionError(absl::StrCat(
              "refunding ", r.amount_minor, " would exceed the value of return ", r.return_id, ": ",
              refunded, " of ", value, " is refunded or pending already")),
          "REFUND_EXCEEDS_RETURN");
    }
  }
  if (r.status != RefundStatus::kSucceeded) return false;
  ApplySucceededRefund(o, r);
  return true;
}

absl::StatusOr<bool> ApplyRefundStatus(Order& o, Refund& f, RefundStatus to, absl::Time now) {
  CRM_RETURN_IF_ERROR(CheckRefundTransition(f.status, to));
  f.status = to;
  f.version += 1;
  f.update_time = now;
  if (to != RefundStatus::kSucceeded) return false;
  ApplySucceededRefund(o, f);
  return true;
}

void ApplySucceededRefund(Order& o, const Refund& r) {
  o.refunded_minor += r.amount_minor;
  if (r.return_id.empty()) o.adjusted_minor += r.amount_minor;
}

std::string ApplyOrderChange(Order& o, OrderStatus before, absl::Time now) {
  o.version += 1;
  o.update_time = now;
  return o.status == before ? std::string("order.updated") : StatusEventType(o.status);
}

}  // namespace crm::transaction::domain
