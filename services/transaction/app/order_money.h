#pragma once
// Payments, returns and refunds of an order: their own records, linked to the
// order, every write strictly idempotent by request_id.
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "libs/common/clock.h"
#include "libs/common/id.h"
#include "services/transaction/app/ports.h"

namespace crm::transaction::app {

// The writes over the order port, as the use cases run them in
// OrderRepository::Run (shared with the adapter's integration tests). Each
// locks the order first, applies the rules of domain/order_money.h, saves
// the record and the order (domain::ApplyOrderChange) and emits their events.
absl::StatusOr<domain::Payment> WriteNewPayment(OrderTx& tx, const domain::Payment& p);
absl::StatusOr<domain::Payment> WritePaymentStatus(OrderTx& tx, const std::string& order_id,
                                                   const std::string& payment_id,
                                                   domain::PaymentStatus to, absl::Time now);
// `r.id`, `r.order_id`, `r.reason`, `r.create_time` set; the lines are
// planned against the locked order (domain::ApplyNewReturn).
absl::StatusOr<domain::Return> WriteNewReturn(OrderTx& tx, const domain::Return& r,
                                              const std::vector<domain::ReturnLineRequest>& lines);
absl::StatusOr<domain::Refund> WriteNewRefund(OrderTx& tx, const domain::Refund& r);
absl::StatusOr<domain::Refund> WriteRefundStatus(OrderTx& tx, const std::string& order_id,
                                                 const std::string& refund_id,
                                                 domain::RefundStatus to, absl::Time now);

class OrderMoney final {
 public:
  OrderMoney(OrderRepository& repository, const common::Clock& clock, common::IdGenerator& ids)
      : repository_(repository), clock_(clock), ids_(ids) {}

  absl::StatusOr<domain::Payment> RecordPayment(const Actor& actor, const std::string& order_id,
                                                domain::Payment p);
  absl::StatusOr<domain::Payment> UpdatePaymentStatus(const Actor& actor,
                                                      const std::string& order_id,
                                                      const std::string& payment_id,
                                                      domain::PaymentStatus to);
  absl::StatusOr<std::vector<domain::Payment>> ListPayments(const std::string& tenant,
                                                            const std::string& order_id);
  absl::StatusOr<domain::Return> CreateReturn(const Actor& actor, const std::string& order_id,
                                              const std::vector<domain::ReturnLineRequest>& lines,
                                              const std::string& reason);
  absl::StatusOr<std::vector<domain::Return>> ListReturns(const std::string& tenant,
                                                          const std::string& order_id);
  absl::StatusOr<domain::Refund> CreateRefund(const Actor& actor, const std::string& order_id,
                                              domain::Refund r);
  absl::StatusOr<domain::Refund> UpdateRefundStatus(const Actor& actor,
                                                    const std::string& order_id,
                                                    const std::string& refund_id,
                                                    domain::RefundStatus to);
  absl::StatusOr<std::vector<domain::Refund>> ListRefunds(const std::string& tenant,
                                                          const std::string& order_id);

 private:
  absl::Time Now() const;
  OrderRepository& repository_;
  const common::Clock& clock_;
  common::IdGenerator& ids_;
};

}  // namespace crm::transaction::app
