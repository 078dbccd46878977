#pragma once
// Order use cases.
#include <string>
#include <utility>

#include "absl/status/statusor.h"
#include "libs/common/clock.h"
#include "libs/common/id.h"
#include "services/transaction/app/customer_directory.h"
#include "services/transaction/app/ports.h"

namespace crm::transaction::app {

// The order writes over their port, as the use cases run them in
// OrderRepository::Run (shared with a won opportunity's close, which places
// its order inside the pipeline's transaction, and with the adapter's
// integration tests).
// A new order (domain::CheckSkusKnown: UNKNOWN_SKU; a taken external id:
// ORDER_EXISTS), saved with its lines; order.placed emitted.
absl::Status WriteNewOrder(OrderTx& tx, const domain::Order& o);
// Order `id` moved to `to` (domain::ApplyTransition); order.<status> emitted.
absl::StatusOr<domain::Order> WriteOrderTransition(OrderTx& tx, const std::string& id,
                                                   domain::OrderStatus to, absl::Time now);

class Orders final {
 public:
  // Without a directory and settings, orders must name their customer_id.
  // `price_quote_key` (common::PriceQuoteKey of the deployment's context
  // key) verifies the personal price quotes order lines cite; "" refuses them.
  Orders(OrderRepository& repository, const common::Clock& clock, common::IdGenerator& ids,
         CustomerDirectory* directory = nullptr, OrderSettingsRepository* settings = nullptr,
         std::string price_quote_key = "")
      : repository_(repository),
        clock_(clock),
        ids_(ids),
        directory_(directory),
        settings_(settings),
        price_quote_key_(std::move(price_quote_key)) {}

  // actor.idempotency_key is required (INVALID_ARGUMENT field request_id).
  // Exactly one of o.customer_id and `who` (identities): with identities the
  // order is validated first, then the customer resolved through the
  // directory (created when the tenant's settings allow it, with the derived
  // key "<request_id>/customer" so a retry creates no second customer).
  // With a directory, a customer_id must name a customer of the tenant in
  // customer-store (FAILED_PRECONDITION CUSTOMER_NOT_FOUND, field
  // customer_id; not stored with the key, so a retry after the customer
  // exists succeeds); a merged-away id is booked to its survivor. Replays
  // are answered before customer-store is asked. Without a directory (unit
  // tests and tools only; the service requires CRM_CUSTOMER_STORE_ADDR) the
  // id is not checked. Lines citing a price quote are priced by it
  // (domain::ApplyPriceQuotes, checked against the order's customer).
  // Replays are answered even after a quote expired.
  absl::StatusOr<domain::Order> Create(const Actor& actor, domain::Order o,
                                       const CustomerIdentities* who = nullptr);
  // A new order validated and completed (id, status placed, version 1,
  // times) without writing it: for a write that creates the order inside
  // another transaction (a won opportunity).
  absl::StatusOr<domain::Order> Prepare(domain::Order o);
  absl::StatusOr<OrderSettings> GetSettings(const std::string& tenant);
  absl::StatusOr<OrderSettings> UpdateSettings(const Actor& actor, const OrderSettings& s,
                                               const std::string& if_match);
  absl::StatusOr<domain::Order> Get(const std::string& tenant, const std::string& id);
  absl::StatusOr<OrderPage> List(const std::string& tenant, const OrderQuery& q);
  absl::StatusOr<domain::Order> Transition(const Actor& actor, const std::string& id,
                                           domain::OrderStatus to);

 private:
  // Times are kept to the microsecond, as stored, so a replay is identical.
  absl::Time Now() const;
  OrderRepository& repository_;
  const common::Clock& clock_;
  common::IdGenerator& ids_;
  CustomerDirectory* directory_;
  OrderSettingsRepository* settings_;
  std::string price_quote_key_;
};

}  // namespace crm::transaction::app
