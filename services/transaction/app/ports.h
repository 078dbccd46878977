#pragma once
// Ports of the transaction engine's use cases: the catalog, orders and the
// money and goods moving after them (the pipeline's: pipeline_ports.h).
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "libs/common/errors.h"
#include "libs/common/request_id.h"
#include "libs/outbox/write_port.h"
#include "services/transaction/domain/order.h"
#include "services/transaction/domain/product.h"

namespace crm::transaction::app {

// Who writes, under which idempotency key (the unit of work's WriteMeta).
using Actor = outbox::WriteMeta;

// INVALID_ARGUMENT (field request_id) unless the actor carries a request_id
// of 1..128 characters without control characters (common::CheckRequestId):
// the writes that replay their first answer need one.
inline absl::Status RequireRequestId(const Actor& a) {
  return common::RequireRequestId(a.idempotency_key);
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

// One write's transaction over the catalog, as the use cases drive it
// (libs/outbox/write_port.h): load for update, save, emit. Every call acts
// in the write's tenant and transaction.
class ProductTx {
 public:
  virtual ~ProductTx() = default;
  // Load for update: the product stored under `sku`, its row locked until
  // the write ends; nullopt when the tenant has none.
  virtual absl::StatusOr<std::optional<domain::Product>> FindProduct(const std::string& sku) = 0;
  // Save a new product; false (nothing written) when the tenant has the SKU
  // already, even if it was inserted concurrently.
  virtual bool InsertProduct(const domain::Product& p) = 0;
  // Save every field of a loaded product.
  virtual void SaveProduct(const domain::Product& p) = 0;
  // Emit: product.created / product.updated.
  virtual void EmitProduct(const char* type, const domain::Product& p) = 0;
};

// The catalog's storage: its writes run through ProductTx (Run<T>, once per
// idempotency key, in one transaction with the audit row and events), its
// reads below. Another tenant's SKU is NOT_FOUND (PRODUCT_NOT_FOUND).
// CreateProduct with a request_id and a fingerprint replays strictly: the
// same key and body answer the first call's product as it was then, or its
// refusal; another body is INVALID_ARGUMENT IDEMPOTENCY_KEY_REUSED.
class ProductRepository : public outbox::UnitOfWork<ProductTx, domain::Product, BatchResult> {
 public:
  virtual absl::StatusOr<domain::Product> Get(const std::string& tenant,
                                              const std::string& sku) = 0;
  virtual absl::StatusOr<ProductPage> List(const std::string& tenant, const ProductQuery& q) = 0;
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

// One write's transaction over an order and the records of money and goods
// moving after it (payments, returns, refunds), as the use cases drive it:
// load for update, save, append, emit. Every call acts in the write's
// tenant and transaction. The order is locked before its records.
class OrderTx {
 public:
  virtual ~OrderTx() = default;
  // Load for update, with its lines. NOT_FOUND ORDER_NOT_FOUND.
  virtual absl::StatusOr<domain::Order> LoadOrder(const std::string& id) = 0;
  // A record of order `order_id`, locked. NOT_FOUND PAYMENT_NOT_FOUND /
  // REFUND_NOT_FOUND (also for a record of another order).
  virtual absl::StatusOr<domain::Payment> LoadPayment(const std::string& order_id,
                                                      const std::string& id) = 0;
  virtual absl::StatusOr<domain::Refund> LoadRefund(const std::string& order_id,
                                                    const std::string& id) = 0;
  // The order's refunds, and its returns without their lines (read under
  // the order's lock: none can come in between).
  virtual std::vector<domain::Refund> LoadRefunds(const std::string& order_id) = 0;
  virtual std::vector<domain::Return> LoadReturns(const std::string& order_id) = 0;
  // Which of `skus` the tenant's catalog has.
  virtual std::set<std::string> KnownSkus(const std::vector<std::string>& skus) = 0;
  // The tenant's order with this (non-empty) external id, if any.
  virtual std::optional<std::string> OrderWithExternalId(const std::string& external_id) = 0;
  // Save: a new order with its lines (`is_new`), or the status, version,
  // update time and running sums of a loaded one.
  virtual void SaveOrder(const domain::Order& o, bool is_new) = 0;
  // Save a payment or refund: new (`is_new`), or the status, version and
  // update time of a loaded one.
  virtual void SavePayment(const domain::Payment& p, bool is_new) = 0;
  virtual void SaveRefund(const domain::Refund& r, bool is_new) = 0;
  // Append a return with its lines, and the units returned of the lines of
  // `o` it takes back.
  virtual void AppendReturn(const domain::Return& r, const domain::Order& o) = 0;
  // Emit, partitioned by the order's customer: order.<status> /
  // order.updated; payment.<status>; return.created; refund.<status>.
  virtual void EmitOrder(const std::string& type, const domain::Order& o) = 0;
  virtual void EmitPayment(const std::string& type, const domain::Order& o,
                           const domain::Payment& p) = 0;
  virtual void EmitReturn(const domain::Order& o, const domain::Return& r) = 0;
  virtual void EmitRefund(const std::string& type, const domain::Order& o,
                          const domain::Refund& r) = 0;
};

// Orders, payments, returns and refunds: the writes run through OrderTx
// (Run<T>), each one transaction with its audit row and outbox events,
// strictly idempotent (request_id required, checked against the request
// fingerprint); the reads below. A record of an order of another tenant,
// or of another order, is NOT_FOUND.
class OrderRepository : public outbox::UnitOfWork<OrderTx, domain::Order, domain::Payment,
                                                  domain::Return, domain::Refund> {
 public:
  // What a repeated CreateOrder answers without writing anything: nullopt
  // when actor.idempotency_key is unused, else the first call's order or its
  // stored refusal (or IDEMPOTENCY_KEY_REUSED for another body).
  virtual absl::StatusOr<std::optional<domain::Order>> FindReplay(const Actor& actor) = 0;
  virtual absl::StatusOr<domain::Order> Get(const std::string& tenant, const std::string& id) = 0;
  virtual absl::StatusOr<OrderPage> List(const std::string& tenant, const OrderQuery& q) = 0;
  virtual absl::StatusOr<std::vector<domain::Payment>> ListPayments(
      const std::string& tenant, const std::string& order_id) = 0;
  virtual absl::StatusOr<std::vector<domain::Return>> ListReturns(const std::string& tenant,
                                                                  const std::string& order_id) = 0;
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
