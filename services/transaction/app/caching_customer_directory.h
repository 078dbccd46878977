#pragma once
// CustomerDirectory with a memory of the customers customer-store confirmed
// (KnownCustomers): a reference by customer id that is known is answered
// here; the others go to the wrapped directory in one call, and the ids it
// confirms are remembered. Identity references (and every call that may
// create customers, whose request must reach customer-store unchanged for
// its idempotency) always go to the wrapped directory.
#include <optional>
#include <string>
#include <vector>

#include "services/transaction/app/customer_directory.h"
#include "services/transaction/app/known_customers.h"

namespace crm::transaction::app {

class CachingCustomerDirectory final : public CustomerDirectory {
 public:
  CachingCustomerDirectory(CustomerDirectory& inner, KnownCustomers& known)
      : inner_(inner), known_(known) {}

  absl::StatusOr<std::vector<RefResolution>> ResolveBatch(
      const Actor& actor, const std::vector<CustomerRefInput>& refs, bool create) override;
  absl::StatusOr<ResolvedCustomer> Resolve(const Actor& actor, const CustomerIdentities& who,
                                           bool create) override {
    return inner_.Resolve(actor, who, create);
  }
  std::optional<std::string> Known(const std::string& tenant,
                                   const std::string& customer_id) override {
    return known_.Find(tenant, customer_id);
  }

 private:
  CustomerDirectory& inner_;
  KnownCustomers& known_;
};

}  // namespace crm::transaction::app
