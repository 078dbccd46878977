#pragma once
// Port: who is the customer behind an order or a lead? Customer-store owns
// customers and their identities; the transaction engine only asks it.
#include <string>

#include "absl/status/statusor.h"
#include "libs/common/crypto.h"
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

// The idempotency key of a call made on behalf of a request: "<key>/<suffix>"
// while that fits customer-store's 128 characters, else the first 64 hex
// digits of SHA-256(key) then "/<suffix>" (still one key per request).
inline std::string DerivedKey(const std::string& key, const std::string& suffix) {
  if (key.size() + 1 + suffix.size() <= 128) return key + "/" + suffix;
  return common::HexEncode(common::Sha256(key)).substr(0, 64) + "/" + suffix;
}

struct ResolvedCustomer {
  std::string id;
  bool created = false;
};

class CustomerDirectory {
 public:
  virtual ~CustomerDirectory() = default;
  // The customer owning one of `who`'s identities. When there is none: with
  // `create` a new customer with those identities (idempotent by
  // actor.idempotency_key), else NOT_FOUND (reason CUSTOMER_NOT_RESOLVED).
  // Identities owned by two different customers: FAILED_PRECONDITION.
  // UNAVAILABLE when customer-store cannot be reached.
  virtual absl::StatusOr<ResolvedCustomer> Resolve(const Actor& actor,
                                                   const CustomerIdentities& who,
                                                   bool create) = 0;
};

}  // namespace crm::transaction::app
