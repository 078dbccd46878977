#pragma once
// How payments, returns and refunds change an order (pure): the checks of
// domain/order.h applied to the order's running sums, status and version.
// The repositories (PostgreSQL and the fakes) load the order and its
// records, call these, and save what they changed.
#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "services/transaction/domain/order.h"

namespace crm::transaction::domain {

// Pending + succeeded refunds among `refunds` (failed ones hold no money).
int64_t OpenRefundsMinor(const std::vector<Refund>& refunds);
// The same for the refunds of one return.
int64_t OpenRefundsMinor(const std::vector<Refund>& refunds, const std::string& return_id);

// Capturing `amount` (CheckCapture): paid_minor grows by it and the order
// takes the status it leads to. `o` is unchanged on a refusal.
absl::Status ApplyCapture(Order& o, int64_t amount);

// A new payment `p` of `o`: a captured one is applied with ApplyCapture;
// any other is refused for a cancelled order (PAYMENT_NOT_ALLOWED). Returns
// whether the order changed (then save it with ApplyOrderChange).
absl::StatusOr<bool> ApplyNewPayment(Order& o, const Payment& p);
// Moving payment `p` of `o` to `to` (CheckPaymentTransition); a capture is
// applied to the order with ApplyCapture; the payment takes the status,
// version + 1 and update time `now`. Neither changes on a refusal. Returns
// whether the order changed.
absl::StatusOr<bool> ApplyPaymentStatus(Order& o, Payment& p, PaymentStatus to, absl::Time now);

// A new return `r` of `lines` (PlanReturn): the order takes it
// (ApplyReturn) and `r` its valued lines and amount.
absl::Status ApplyNewReturn(Order& o, Return& r, const std::vector<ReturnLineRequest>& lines);

// A new refund `r` of `o`, given the order's refunds and returns so far:
// a return_id that is not among `returns` is NOT_FOUND RETURN_NOT_FOUND on
// return_id (whatever was captured); then CheckNewRefund against the open
// refunds; a refund of a return never exceeds its value less that return's
// open refunds (FAILED_PRECONDITION REFUND_EXCEEDS_RETURN). A succeeded
// refund is applied with ApplySucceededRefund. Returns whether the order
// changed.
absl::StatusOr<bool> ApplyNewRefund(Order& o, const Refund& r, const std::vector<Refund>& refunds,
                                    const std::vector<Return>& returns);
// Moving refund `f` of `o` to `to` (CheckRefundTransition): the refund takes
// the status, version + 1 and update time `now`; succeeding applies it to
// the order. Neither changes on a refusal. Returns whether the order changed.
absl::StatusOr<bool> ApplyRefundStatus(Order& o, Refund& f, RefundStatus to, absl::Time now);
// A succeeded refund lowers the order's value: refunded_minor grows, and
// adjusted_minor too for a refund not tied to a return.
void ApplySucceededRefund(Order& o, const Refund& r);

// An order whose sums or status changed since it had status `before`:
// version + 1, update time `now`. Returns the event it announces:
// order.<status> when the status changed, otherwise order.updated (a change
// of the sums alone, so consumers acting on order.placed never see it
// twice).
std::string ApplyOrderChange(Order& o, OrderStatus before, absl::Time now);

}  // namespace crm::transaction::domain
