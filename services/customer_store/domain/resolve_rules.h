#pragma once
// Batch resolution of customer references for other engines (pure): which
// references name an existing customer, which were merged away, which are
// missing, and which customers a batch creates (one per group of missing
// references that share an identity, so duplicates create one customer).
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "services/customer_store/domain/customer.h"
#include "services/customer_store/domain/import_rules.h"

namespace crm::customer_store::domain {

inline constexpr int kMaxResolveRefs = 1000;

// A reference as sent: a customer id, or identities (raw, not normalized).
struct RefQuery {
  std::string customer_id;
  std::string email;
  std::string phone;
  std::string external_id_source;
  std::string external_id;
  std::string given_name;
  std::string family_name;
};

// A reference after validation: by id, or by normalized identity keys.
struct ParsedRef {
  std::string customer_id;         // by id when set
  std::vector<IdentityKey> keys;   // by identities otherwise
  std::string given_name;
  std::string family_name;
};

// INVALID_ARGUMENT naming the field for a reference that gives both or
// neither of customer_id and identities, an id that is not a UUID, an email
// or phone that does not normalize, an external id without its source.
absl::StatusOr<ParsedRef> ParseRef(const RefQuery& q);

enum class RefOutcome : int {
  kUnspecified = 0,
  kFound = 1,
  kCreated = 2,
  kMerged = 3,
  kNotFound = 4,
  kConflict = 5,
  kInvalid = 6,
};

struct RefResult {
  int index = 0;
  RefOutcome outcome = RefOutcome::kUnspecified;
  std::string customer_id;
  std::string reason;
  std::string field;
  std::string message;
};

// What the database says about the references of a batch.
struct RefLookup {
  // Requested id -> the customer it reads as now: itself when it exists, the
  // survivor when it was merged away (and the survivor exists). Absent ids
  // (unknown, another tenant's, erased) are not in the map.
  std::map<std::string, std::string> ids;
  // Identity -> owning customer.
  std::map<IdentityKey, std::string> owners;
};

// A customer the batch creates: its identities and names; `refs` are the
// indexes it answers.
struct NewCustomer {
  Customer customer;  // id, identities, names set; caller fills times/version
  std::vector<int> refs;
};

struct ResolvePlan {
  std::vector<RefResult> results;  // one per reference, by index
  std::vector<NewCustomer> creates;
};

// refs[i] is either a parsed reference or the error that refused it.
// With create_missing, identity references that no one owns are grouped
// (two references sharing an identity are one person) and each group becomes
// one NewCustomer whose id comes from `new_id` (called once per group, in
// order of the group's first reference); results of its references are
// kCreated with that id. Without it they are kNotFound
// (CUSTOMER_NOT_RESOLVED).
ResolvePlan PlanResolution(const std::vector<absl::StatusOr<ParsedRef>>& refs,
                           const RefLookup& lookup, bool create_missing,
                           const std::function<std::string()>& new_id);

}  // namespace crm::customer_store::domain
