#pragma once
// Ports of the transaction engine's use cases (catalog so far).
#include <functional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "services/transaction/domain/order.h"
#include "services/transaction/domain/product.h"

namespace crm::transaction::app {

struct Actor {
  std::string tenant_id;
  std::string principal;
  std::string request_id;       // x-request-id, for the audit trail
  std::string method;
  std::string idempotency_key;  // the request's request_id field
  std::string fingerprint;      // digest of the request body (orders)
};

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
  // ALREADY_EXISTS (PRODUCT_EXISTS) for a SKU the tenant has; with an
  // idempotency key a repeated call returns the first result.
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
  virtual absl::StatusOr<domain::Order> Get(const std::string& tenant, const std::string& id) = 0;
  virtual absl::StatusOr<OrderPage> List(const std::string& tenant, const OrderQuery& q) = 0;
  // Locks the order, checks the move with domain::CheckTransition, writes it.
  virtual absl::StatusOr<domain::Order> Transition(const Actor& actor, const std::string& id,
                                                   domain::OrderStatus to, absl::Time now) = 0;
};

}  // namespace crm::transaction::app
