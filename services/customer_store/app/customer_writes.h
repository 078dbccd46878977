#pragma once
// The customer aggregate's writes, each written once over CustomerTx
// (libs/outbox/write_port.h): load for update → the domain's rules → save →
// append → emit. The use cases (CustomerStore) run them; so do the storage
// adapter's integration tests, which drive PostgreSQL through them.
#include <functional>
#include <string>

#include "absl/status/statusor.h"
#include "services/customer_store/app/ports.h"

namespace crm::customer_store::app {

// A new customer (id, version and times set) with its identities;
// customer.created. ALREADY_EXISTS IDENTITY_TAKEN.
absl::StatusOr<CustomerAnswer> InsertCustomer(CustomerRepository& repository, const Actor& actor,
                                              const domain::Customer& c);

using Mutation = std::function<absl::Status(domain::Customer&)>;
// Locks the customer, checks if_match (when non-empty; ABORTED
// ETAG_MISMATCH), runs `mutate` and saves the result with version + 1;
// customer.updated. A mutation that changes nothing writes nothing and
// answers the customer as it is.
absl::StatusOr<CustomerAnswer> UpdateCustomer(CustomerRepository& repository, const Actor& actor,
                                              const std::string& id, const std::string& if_match,
                                              const Mutation& mutate);

// GDPR erasure (customer.erased, with every id erased).
absl::StatusOr<domain::ErasureResult> EraseCustomer(CustomerRepository& repository,
                                                    const Actor& actor, const std::string& id,
                                                    const std::string& if_match);

// Appends to an existing customer (consent.recorded, interaction.created).
absl::StatusOr<domain::Consent> AppendConsent(CustomerRepository& repository, const Actor& actor,
                                              const std::string& id, const domain::Consent& c);
absl::StatusOr<domain::Interaction> AppendInteraction(CustomerRepository& repository,
                                                      const Actor& actor, const std::string& id,
                                                      const domain::Interaction& i);

}  // namespace crm::customer_store::app
