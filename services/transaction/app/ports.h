#pragma once
// Ports of the transaction engine's use cases (catalog so far).
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "libs/common/errors.h"
#include "libs/common/request_id.h"
#include "libs/outbox/write_meta.h"
#include "services/transaction/domain/order.h"
#include "services/transaction/domain/product.h"

namespace crm::transaction::app {

// Who writes, under which idempotency key (the unit of work's WriteMeta).
using Actor = outbox::WriteMeta;

// INVALID_ARGUMENT (field request_id) unless the actor carries a request_id
// of 1..128 characters without control characters (common::CheckRequestId):
// the writes that replay their first answer need one.
inline absl::Status RequireRequestId(const Actor& a) {
  if (a.idempotency_key.empty() || a.idempotency_key.size() > common::kMaxRequestIdLength) {
    return common::InvalidField("request_id",
                                "request_id is required (1..128 characters): retries of the "
                                "same request must carry the same request_id");
  }
  return common::CheckRequestId(a.idempotency_key);
}

struct ProductQuery {
  std::string category_prefix;  // "Music/Jazz"
  bool active_only = false;
  std::string name_prefix;       // lower-cased
  std::string after_sku;
  int limit = 50;
};

struct ProductPage {
  std::vector<domain::Product> items;
  std::string next_cursor;  // last sku; empty on the last page
};

struct BatchItemError {
  int index = 0;
  std::string sku;
  std::string field;
  std::string reason;
  std::string message;
};

struct BatchResult {
  int created = 0;
  int updated = 0;
  int unchanged = 0;
  std::vector<BatchItemError> errors;
};

// Every write is one transaction with its audit row and outbox event; another
// tenant's SKU is NOT_FOUND (PRODUCT_NOT_FOUND).
class ProductRepository {
 public:
  virtual ~ProductRepository() = default;
  using Mutation = std::function<absl::Status(domain::Product&)>;
  // ALREADY_EXISTS (PRODUCT_EXISTS) for a SKU the tenant has. With an
  // idempotency key and a fingerprint (CreateProduct with a request_id) the
  // replay is strict: the same key and body answer the first call's product
  // as it was then, or its refusal; another body is INVALID_ARGUMENT
  // IDEMPOTENCY_KEY_REUSED.
  virtual absl::StatusOr<domain::Product> Insert(const Actor& actor, const domain::Product& p) = 0;
  virtual absl::StatusOr<domain::Product> Get(const std::string& tenant, const std::string& sku) = 0;
  // Locks the row, checks if_match (ABORTED ETAG_MISMATCH), mutates, writes
  // version + 1; a mutation that changes nothing writes nothing.
  virtual absl::StatusOr<domain::Product> Update(const Actor& actor, const std::string& sku,
                                                 const std::string& if_match,
                                                 const Mutation& mutate) = 0;
  virtual absl::StatusOr<ProductPage> List(const std::string& tenant, const ProductQuery& q) = 0;
  // Valid products only (the use case reports invalid ones); one transaction.
  virtual absl::StatusOr<BatchResult> Upsert(const Actor& actor,
                                             const std::vector<domain::Product>& products) = 0;
};

struct OrderQuery {
  std::string customer_id;  // "" = all
  domain::OrderStatus status = domain::OrderStatus::kUnspecified;
  std::string before_cursor;  // "<placed micros>|<id>"
  int limit = 50;
};

struct OrderPage {
  std::vector<domain::Order> items;
  std::string next_cursor;
};

// Orders: each write one transaction with its audit row and outbox event
// (partitioned by the order's customer); idempotency keys are required and
// checked against the request fingerprint.
class OrderRepository {
 public:
  virtual ~OrderRepository() = default;
  // INVALID_ARGUMENT (UNKNOWN_SKU, field lines[i].sku) when a line's SKU is
  // not in the catalog.
  virtual absl::StatusOr<domain::Order> Insert(const Actor& actor, const domain::Order& o) = 0;
  // What a repeated CreateOrder answers without writing anything: nullopt
  // when actor.idempotency_key is unused, else the first call's order or its
  // stored refusal (or IDEMPOTENCY_KEY_REUSED for another body).
  virtual absl::StatusOr<std::optional<domain::Order>> FindReplay(const Actor& actor) = 0;
  virtual absl::StatusOr<domain::Order> Get(const std::string& tenant, const std::string& id) = 0;
  virtual absl::StatusOr<OrderPage> List(const std::string& tenant, const OrderQuery& q) = 0;
  // Locks the order, checks the move with domain::CheckTransition, writes it.
  virtual absl::StatusOr<domain::Order> Transition(const Actor& actor, const std::string& id,
                                                   domain::OrderStatus to, absl::Time now) = 0;
};

// Payments, returns and refunds: each write locks the order, checks the
// domain rules, writes the record and the order's running sums, audits and
// emits its events in one transaction (strict idempotency like orders). A
// record of an order of another tenant, or of another order, is NOT_FOUND.
class OrderMoneyRepository {
 public:
  virtual ~OrderMoneyRepository() = default;
  virtual absl::StatusOr<domain::Payment> RecordPayment(const Actor& actor,
                                                        const domain::Payment& p) = 0;
  virtual absl::StatusOr<domain::Payment> UpdatePaymentStatus(const Actor& actor,
                                                              const std::string& order_id,
                                                              const std::string& payment_id,
                                                              domain::PaymentStatus to,
                                                              absl::Time now) = 0;
  virtual absl::StatusOr<std::vector<domain::Payment>> ListPayments(
      const std::string& tenant, const std::string& order_id) = 0;
  // `r.id`, `r.order_id`, `r.reason`, `r.create_time` set; the lines are
  // planned against the locked order with domain::PlanReturn.
  virtual absl::StatusOr<domain::Return> CreateReturn(
      const Actor& actor, const domain::Return& r,
      const std::vector<domain::ReturnLineRequest>& lines) = 0;
  virtual absl::StatusOr<std::vector<domain::Return>> ListReturns(const std::string& tenant,
                                                                  const std::string& order_id) = 0;
  virtual absl::StatusOr<domain::Refund> CreateRefund(const Actor& actor,
                                                      const domain::Refund& r) = 0;
  virtual absl::StatusOr<domain::Refund> UpdateRefundStatus(const Actor& actor,
                                                            const std::string& order_id,
                                                            const std::string& refund_id,
                                                            domain::RefundStatus to,
                                                            absl::Time now) = 0;
  virtual absl::StatusOr<std::vector<domain::Refund>> ListRefunds(const std::string& tenant,
                                                                  const std::string& order_id) = 0;
};

struct OrderSettings {
  bool create_unknown_customers = false;
  int64_t version = 0;  // 0: never written (defaults)
  absl::Time update_time = absl::InfinitePast();
};

class OrderSettingsRepository {
 public:
  virtual ~OrderSettingsRepository() = default;
  // The defaults (version 0) for a tenant that never set any.
  virtual absl::StatusOr<OrderSettings> GetSettings(const std::string& tenant) = 0;
  // ABORTED (ETAG_MISMATCH) when if_match is set and differs.
  virtual absl::StatusOr<OrderSettings> UpdateSettings(const Actor& actor, const OrderSettings& s,
                                                       const std::string& if_match,
                                                       absl::Time now) = 0;
};

}  // namespace crm::transaction::app
