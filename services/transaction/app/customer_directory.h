#pragma once
// Port: who is the customer behind an order or a lead? Customer-store owns
// customers and their identities; the transaction engine only asks it.
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "libs/common/request_id.h"
#include "services/transaction/app/ports.h"

namespace crm::transaction::app {

// The identities to resolve by (at least one of email, phone, external id)
// and, for a customer that has to be created, the name to give it.
struct CustomerIdentities {
  std::string email;
  std::string phone;
  std::string external_id_source;  // e.g. "erp"; required with external_id
  std::string external_id;
  std::string given_name;
  std::string family_name;
};

using common::DerivedKey;

struct ResolvedCustomer {
  std::string id;
  bool created = false;
};

// One reference of a batch: a customer id, or identities (who).
struct CustomerRefInput {
  std::string customer_id;
  CustomerIdentities who;
};

// What one reference resolved to: customer_id when `error` is OK.
struct RefResolution {
  std::string customer_id;
  bool created = false;
  bool merged = false;  // the given id was merged away; customer_id is the survivor
  absl::Status error;
};

class CustomerDirectory {
 public:
  virtual ~CustomerDirectory() = default;
  // Every reference in one call to customer-store (ResolveCustomerRefs),
  // whatever their number (at most kMaxBatchRefs). An id reads as its
  // customer when the tenant has it, as the survivor when it was merged
  // away, else error FAILED_PRECONDITION CUSTOMER_NOT_FOUND (field
  // customer_id; another tenant's and erased ids read as absent).
  // Identities: the owner; none: with `create` a new customer (one per group
  // of references sharing an identity; idempotent by actor.idempotency_key),
  // else NOT_FOUND CUSTOMER_NOT_RESOLVED; owned by two customers:
  // FAILED_PRECONDITION CUSTOMER_REF_CONFLICT; malformed: INVALID_ARGUMENT
  // naming customer_ref.<field>. The call's own failure (UNAVAILABLE,
  // DEADLINE_EXCEEDED) is the returned status.
  virtual absl::StatusOr<std::vector<RefResolution>> ResolveBatch(
      const Actor& actor, const std::vector<CustomerRefInput>& refs, bool create) = 0;
  // The customer `customer_id` reads as now (itself or its survivor), or
  // the error above. One ResolveBatch call.
  absl::StatusOr<std::string> CheckCustomerId(const Actor& actor, const std::string& customer_id) {
    std::vector<RefResolution> r;
    {
      auto batch = ResolveBatch(actor, {CustomerRefInput{customer_id, {}}}, false);
      if (!batch.ok()) return batch.status();
      r = *std::move(batch);
    }
    if (r.size() != 1) return absl::InternalError("customer directory answered no result");
    if (!r[0].error.ok()) return r[0].error;
    return r[0].customer_id;
  }
  // The customer owning one of `who`'s identities. When there is none: with
  // `create` a new customer with those identities (idempotent by
  // actor.idempotency_key), else NOT_FOUND (reason CUSTOMER_NOT_RESOLVED).
  // Identities owned by two different customers: FAILED_PRECONDITION.
  // UNAVAILABLE when customer-store cannot be reached.
  virtual absl::StatusOr<ResolvedCustomer> Resolve(const Actor& actor,
                                                   const CustomerIdentities& who,
                                                   bool create) = 0;
  // What `customer_id` of `tenant` reads as when a cache of this directory
  // confirmed it recently (CachingCustomerDirectory), without asking
  // customer-store; nullopt = unknown here (ask with CheckCustomerId).
  virtual std::optional<std::string> Known(const std::string& /*tenant*/,
                                           const std::string& /*customer_id*/) {
    return std::nullopt;
  }
};

inline constexpr int kMaxBatchRefs = 1000;

}  // namespace crm::transaction::app
