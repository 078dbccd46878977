#pragma once
// Inbound adapters for customer-store's events (Redis Streams):
// - consumer group "transaction" (one replica gets each event):
//   customer.erased -> erasure of the customer's pipeline data;
// - every replica, without a consumer group (events::StreamTail):
//   customer.erased, customer.merged and customer.unmerged -> this replica
//   forgets the customers they change (app::KnownCustomers), so every
//   replica's cache is invalidated, not only the one that erased the
//   pipeline data.
// Every other event type is acknowledged and ignored.
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "crm/events/v1/envelope.pb.h"
#include "libs/events/consumer.h"
#include "services/transaction/app/known_customers.h"
#include "services/transaction/app/pipeline.h"

namespace crm::transaction::api {

inline constexpr char kConsumerGroup[] = "transaction";

struct CustomerErasure {
  std::string tenant_id;
  std::string event_id;
  // The erased customer first, then the customers merged into it.
  std::vector<std::string> customer_ids;
};

// nullopt for events that are not customer.erased; INVALID_ARGUMENT for a
// customer.erased whose payload is not the documented JSON.
absl::StatusOr<std::optional<CustomerErasure>> CustomerErasureOf(
    const crm::events::v1::EventEnvelope& e);

// The customers a customer.* event changes for the known-customer cache:
// erased -> the erased customer and those merged into it; merged -> the
// source; unmerged -> the survivor and the restored customer. nullopt for
// other events; INVALID_ARGUMENT for a payload that is not the documented
// JSON.
struct KnownCustomerChange {
  std::string tenant_id;
  std::vector<std::string> customer_ids;
};
absl::StatusOr<std::optional<KnownCustomerChange>> KnownCustomerChangeOf(
    const crm::events::v1::EventEnvelope& e);

class CustomerEventHandler final {
 public:
  // `known` (may be null): forgotten first, so the replica that consumed
  // the erasure accepts no order for the customer from then on.
  explicit CustomerEventHandler(app::Pipeline& pipeline, app::KnownCustomers* known = nullptr)
      : pipeline_(pipeline), known_(known) {}
  absl::Status Handle(const crm::events::v1::EventEnvelope& e);
  // Handle() of each event of a consumer read (one XACK for the batch).
  std::vector<absl::Status> HandleBatch(const std::vector<events::Event>& batch);

 private:
  app::Pipeline& pipeline_;
  app::KnownCustomers* known_;
};

// This replica's cache invalidation (fed by an events::StreamTail).
class KnownCustomersInvalidator final {
 public:
  explicit KnownCustomersInvalidator(app::KnownCustomers& known) : known_(known) {}
  // An event whose payload cannot be read forgets the tenant's entries.
  void Handle(const crm::events::v1::EventEnvelope& e);
  void HandleBatch(const std::vector<events::Event>& batch);
  // The tail may have missed events: everything is forgotten.
  void Gap() { known_.Clear(); }

 private:
  app::KnownCustomers& known_;
};

}  // namespace crm::transaction::api
