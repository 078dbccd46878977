#include "tests/support/fakes/transaction/fake_order_money_repository.h"

#include <utility>

#include "libs/common/errors.h"
#include "libs/common/status_macros.h"

namespace crm::testing {

namespace domain = transaction::domain;

namespace {
absl::Status NotFound(const char* what, const char* reason) {
  return common::NotFound(reason, std::string(what) + " not found");
}
}  // namespace

std::optional<absl::StatusOr<FakeOrderMoneyRepository::Answer>> FakeOrderMoneyRepository::Replay(
    TenantData& t, const Actor& actor) {
  if (actor.idempotency_key.empty()) return std::nullopt;
  auto it = t.answers.find(actor.idempotency_key);
  if (it == t.answers.end()) return std::nullopt;
  if (it->second.method != actor.method) {
    return absl::StatusOr<Answer>(
        common::InvalidField("request_id", "request_id was used by another method"));
  }
  if (it->second.fingerprint != actor.fingerprint) {
    return absl::StatusOr<Answer>(common::WithField(
        common::WithReason(absl::InvalidArgumentError("request_id was used with another request"),
                           "IDEMPOTENCY_KEY_REUSED"),
        "request_id"));
  }
  return absl::StatusOr<Answer>(it->second);
}

void FakeOrderMoneyRepository::Remember(TenantData& t, const Actor& actor, Answer a) {
  if (actor.idempotency_key.empty()) return;
  a.method = actor.method;
  a.fingerprint = actor.fingerprint;
  t.answers[actor.idempotency_key] = std::move(a);
}

absl::StatusOr<FakeOrderMoneyRepository::OrderData*> FakeOrderMoneyRepository::Find(
    TenantData& t, const std::string& order_id) {
  auto it = t.orders.find(order_id);
  if (it == t.orders.end()) return NotFound("order", "ORDER_NOT_FOUND");
  return &it->second;
}

absl::StatusOr<domain::Payment> FakeOrderMoneyRepository::RecordPayment(const Actor& actor,
                                                                        const Payment& p) {
  return Write<Payment>(actor, &Answer::payment, [&](TenantData& t) -> absl::StatusOr<Payment> {
    CRM_ASSIGN_OR_RETURN(OrderData * d, Find(t, p.order_id));
    if (p.status == domain::PaymentStatus::kCaptured) {
      CRM_ASSIGN_OR_RETURN(d->order.status, domain::CheckCapture(d->order, p.amount_minor));
      d->order.paid_minor += p.amount_minor;
    }
    d->payments.push_back(p);
    return p;
  });
}

absl::StatusOr<domain::Payment> FakeOrderMoneyRepository::UpdatePaymentStatus(
    const Actor& actor, const std::string& order_id, const std::string& payment_id,
    domain::PaymentStatus to, absl::Time now) {
  return Write<Payment>(actor, &Answer::payment, [&](TenantData& t) -> absl::StatusOr<Payment> {
    CRM_ASSIGN_OR_RETURN(OrderData * d, Find(t, order_id));
    for (Payment& p : d->payments) {
      if (p.id != payment_id) continue;
      CRM_RETURN_IF_ERROR(domain::CheckPaymentTransition(p.status, to));
      if (to == domain::PaymentStatus::kCaptured) {
        CRM_ASSIGN_OR_RETURN(d->order.status, domain::CheckCapture(d->order, p.amount_minor));
        d->order.paid_minor += p.amount_minor;
      }
      p.status = to;
      p.version += 1;
      p.update_time = now;
      return p;
    }
    return NotFound("payment", "PAYMENT_NOT_FOUND");
  });
}

absl::StatusOr<std::vector<domain::Payment>> FakeOrderMoneyRepository::ListPayments(
    const std::string& tenant, const std::string& order_id) {
  absl::MutexLock lock(&mu_);
  CRM_ASSIGN_OR_RETURN(OrderData * d, Find(tenants_[tenant], order_id));
  return d->payments;
}

absl::StatusOr<domain::Return> FakeOrderMoneyRepository::CreateReturn(
    const Actor& actor, const Return& r, const std::vector<domain::ReturnLineRequest>& lines) {
  return Write<Return>(actor, &Answer::ret, [&](TenantData& t) -> absl::StatusOr<Return> {
    CRM_ASSIGN_OR_RETURN(OrderData * d, Find(t, r.order_id));
    CRM_ASSIGN_OR_RETURN(domain::ReturnPlan plan, domain::PlanReturn(d->order, lines));
    domain::ApplyReturn(d->order, plan);
    Return out = r;
    out.lines = plan.lines;
    out.amount_minor = plan.amount_minor;
    d->returns.push_back(out);
    return out;
  });
}

absl::StatusOr<std::vector<domain::Return>> FakeOrderMoneyRepository::ListReturns(
    const std::string& tenant, const std::string& order_id) {
  absl::MutexLock lock(&mu_);
  CRM_ASSIGN_OR_RETURN(OrderData * d, Find(tenants_[tenant], order_id));
  return d->returns;
}

absl::StatusOr<domain::Refund> FakeOrderMoneyRepository::CreateRefund(const Actor& actor,
                                                                      const Refund& r) {
  return Write<Refund>(actor, &Answer::refund, [&](TenantData& t) -> absl::StatusOr<Refund> {
    CRM_ASSIGN_OR_RETURN(OrderData * d, Find(t, r.order_id));
    int64_t open = 0;
    for (const Refund& x : d->refunds) {
      if (x.status != domain::RefundStatus::kFailed) open += x.amount_minor;
    }
    if (!r.return_id.empty()) {
      bool found = false;
      for (const Return& x : d->returns) found |= x.id == r.return_id;
      if (!found) return common::WithField(NotFound("return", "RETURN_NOT_FOUND"), "return_id");
    }
    CRM_RETURN_IF_ERROR(domain::CheckNewRefund(d->order, r, open));
    if (r.status == domain::RefundStatus::kSucceeded) {
      d->order.refunded_minor += r.amount_minor;
      if (r.return_id.empty()) d->order.adjusted_minor += r.amount_minor;
    }
    d->refunds.push_back(r);
    return r;
  });
}

absl::StatusOr<domain::Refund> FakeOrderMoneyRepository::UpdateRefundStatus(
    const Actor& actor, const std::string& order_id, const std::string& refund_id,
    domain::RefundStatus to, absl::Time now) {
  return Write<Refund>(actor, &Answer::refund, [&](TenantData& t) -> absl::StatusOr<Refund> {
    CRM_ASSIGN_OR_RETURN(OrderData * d, Find(t, order_id));
    for (Refund& r : d->refunds) {
      if (r.id != refund_id) continue;
      CRM_RETURN_IF_ERROR(domain::CheckRefundTransition(r.status, to));
      if (to == domain::RefundStatus::kSucceeded) {
        d->order.refunded_minor += r.amount_minor;
        if (r.return_id.empty()) d->order.adjusted_minor += r.amount_minor;
      }
      r.status = to;
      r.version += 1;
      r.update_time = now;
      return r;
    }
    return NotFound("refund", "REFUND_NOT_FOUND");
  });
}

absl::StatusOr<std::vector<domain::Refund>> FakeOrderMoneyRepository::ListRefunds(
    const std::string& tenant, const std::string& order_id) {
  absl::MutexLock lock(&mu_);
  CRM_ASSIGN_OR_RETURN(OrderData * d, Find(tenants_[tenant], order_id));
  return d->refunds;
}

void FakeOrderMoneyRepository::PutOrder(const std::string& tenant, const Order& o) {
  absl::MutexLock lock(&mu_);
  tenants_[tenant].orders[o.id].order = o;
}

std::optional<domain::Order> FakeOrderMoneyRepository::FindOrder(const std::string& tenant,
                                                                 const std::string& id) const {
  absl::MutexLock lock(&mu_);
  auto t = tenants_.find(tenant);
  if (t == tenants_.end()) return std::nullopt;
  auto it = t->second.orders.find(id);
  if (it == t->second.orders.end()) return std::nullopt;
  return it->second.order;
}

int FakeOrderMoneyRepository::writes() const {
  absl::MutexLock lock(&mu_);
  return writes_;
}

}  // namespace crm::testing
