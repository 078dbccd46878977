#pragma once
// In-memory OrderMoneyRepository honouring the contracts of
// services/transaction/app/ports.h over orders it is given (PutOrder): each
// write applies the same domain rules as PgOrderRepository to its copy of
// the order (domain/order_money.h: captures, returns, refunds against
// captures and the value of their return, the running sums, status and
// version of the order); tenant scoping (another tenant's order,
// or a record of another order, is NOT_FOUND with ORDER_NOT_FOUND /
// PAYMENT_NOT_FOUND / RETURN_NOT_FOUND / REFUND_NOT_FOUND); strict
// idempotency (same key and fingerprint: the first answer, success or
// refusal; another fingerprint: IDEMPOTENCY_KEY_REUSED).
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "services/transaction/app/ports.h"

namespace crm::testing {

class FakeOrderMoneyRepository final : public transaction::app::OrderMoneyRepository {
 public:
  using Order = transaction::domain::Order;
  using Payment = transaction::domain::Payment;
  using Return = transaction::domain::Return;
  using Refund = transaction::domain::Refund;
  using Actor = transaction::app::Actor;

  absl::StatusOr<Payment> RecordPayment(const Actor& actor, const Payment& p) override;
  absl::StatusOr<Payment> UpdatePaymentStatus(const Actor& actor, const std::string& order_id,
                                              const std::string& payment_id,
                                              transaction::domain::PaymentStatus to,
                                              absl::Time now) override;
  absl::StatusOr<std::vector<Payment>> ListPayments(const std::string& tenant,
                                                    const std::string& order_id) override;
  absl::StatusOr<Return> CreateReturn(
      const Actor& actor, const Return& r,
      const std::vector<transaction::domain::ReturnLineRequest>& lines) override;
  absl::StatusOr<std::vector<Return>> ListReturns(const std::string& tenant,
                                                  const std::string& order_id) override;
  absl::StatusOr<Refund> CreateRefund(const Actor& actor, const Refund& r) override;
  absl::StatusOr<Refund> UpdateRefundStatus(const Actor& actor, const std::string& order_id,
                                            const std::string& refund_id,
                                            transaction::domain::RefundStatus to,
                                            absl::Time now) override;
  absl::StatusOr<std::vector<Refund>> ListRefunds(const std::string& tenant,
                                                  const std::string& order_id) override;

  // An order of `tenant` that money can be recorded for.
  void PutOrder(const std::string& tenant, const Order& o);
  // The order as the writes left it (sums, status).
  std::optional<Order> FindOrder(const std::string& tenant, const std::string& id) const;
  int writes() const;

 private:
  struct Answer {
    std::string method;
    std::string fingerprint;
    absl::Status error;
    std::optional<Payment> payment;
    std::optional<Return> ret;
    std::optional<Refund> refund;
  };
  struct OrderData {
    Order order;
    std::vector<Payment> payments;
    std::vector<Return> returns;
    std::vector<Refund> refunds;
  };
  struct TenantData {
    std::map<std::string, OrderData> orders;
    std::map<std::string, Answer> answers;  // by idempotency key
  };
  // The stored answer of actor's key, or a refusal of the key; nullopt
  // when the key is free.
  std::optional<absl::StatusOr<Answer>> Replay(TenantData& t, const Actor& actor)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void Remember(TenantData& t, const Actor& actor, Answer a) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::StatusOr<OrderData*> Find(TenantData& t, const std::string& order_id)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Runs a write under the lock: a used key is answered from what it
  // stored; otherwise `write` runs and its answer (refusals too: they are
  // deterministic) is stored with the key.
  template <typename T, typename Fn>
  absl::StatusOr<T> Write(const Actor& actor, std::optional<T> Answer::*field, Fn write) {
    absl::MutexLock lock(&mu_);
    TenantData& t = tenants_[actor.tenant_id];
    if (auto replay = Replay(t, actor)) {
      if (!replay->ok()) return replay->status();
      if (!(*replay)->error.ok()) return (*replay)->error;
      return *((**replay).*field);
    }
    absl::StatusOr<T> out = write(t);
    Answer a;
    if (out.ok()) {
      a.*field = *out;
      ++writes_;
    } else {
      a.error = out.status();
    }
    Remember(t, actor, std::move(a));
    return out;
  }

  mutable absl::Mutex mu_;
  std::map<std::string, TenantData> tenants_ ABSL_GUARDED_BY(mu_);
  int writes_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace crm::testing
