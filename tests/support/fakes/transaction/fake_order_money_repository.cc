#include "tests/support/fakes/transaction/fake_order_money_repository.h"

#include <utility>

#include "libs/common/errors.h"
#include "libs/common/status_macros.h"
#include "services/transaction/domain/order_money.h"

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
    const domain::OrderStatus before = d->order.status;
    CRM_ASSIGN_OR_RETURN(bool changed, domain::ApplyNewPayment(d->order, p));
    if (changed) domain::ApplyOrderChange(d->order, before, p.create_time);
    d->payments.push_back(p);
    return p;
  });
}

absl::StatusOr<domain::Payment> FakeOrderMoneyRepository::UpdatePaymentStatus(
    const Actor& actor, const std::string& order_id, const std::string& payment_id,
    domain::PaymentStatus to, absl::Time now) {
  return Write<Payment>(actor, &Answer::payment, [&](TenantData& t) -> absl::StatusOr<Payment> {
    CRM_ASSIGN_OR_RETURN(OrderData * d, Find(t, order_id));
    const domain::OrderStatus before = d->order.status;
    for (Payment& p : d->payments) {
      if (p.id != payment_id) continue;
      CRM_ASSIGN_OR_RETURN(bool changed, domain::ApplyPaymentStatus(d->order, p, to, now));
      if (changed) domain::ApplyOrderChange(d->order, before, now);
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
    const domain::OrderStatus before = d->order.status;
    Return out = r;
    CRM_RETURN_IF_ERROR(domain::ApplyNewReturn(d->order, out, lines));
    domain::ApplyOrderChange(d->order, before, out.create_time);
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
    const domain::OrderStatus before = d->order.status;
    CRM_ASSIGN_OR_RETURN(bool changed, domain::ApplyNewRefund(d->order, r, d->refunds, d->returns));
    if (changed) domain::ApplyOrderChange(d->order, before, r.create_time);
    d->refunds.push_back(r);
    return r;
  });
}

absl::StatusOr<domain::Refund> FakeOrderMoneyRepository::UpdateRefundStatus(
    const Actor& actor, const std::string& order_id, const std::string& refund_id,
    domain::RefundStatus to, absl::Time now) {
  return Write<Refund>(actor, &Answer::refund, [&](TenantData& t) -> absl::StatusOr<Refund> {
    CRM_ASSIGN_OR_RETURN(OrderData * d, Find(t, order_id));
    const domain::OrderStatus before = d->order.status;
    for (Refund& r : d->refunds) {
      if (r.id != refund_id) continue;
      CRM_ASSIGN_OR_RETURN(bool changed, domain::ApplyRefundStatus(d->order, r, to, now));
      if (changed) domain::ApplyOrderChange(d->order, before, now);
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
