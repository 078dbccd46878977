#pragma once
// Planning of a bulk import (pure): which rows create customers, which update
// an existing one (matched by identity, like upsert), which fail and why.
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <tuple>
#include <vector>

#include "absl/status/status.h"
#include "services/customer_store/domain/customer.h"

namespace crm::customer_store::domain {

inline constexpr int kMaxImportErrorsReported = 1000;
inline constexpr int64_t kMaxImportRows = 200000;

struct ImportRow {
  int64_t line = 0;
  Customer customer;                        // normalized and valid
  std::vector<std::string> present_paths;   // fields the row sets (identity paths are united, not replaced)
};

struct ImportError {
  int64_t line = 0;
  std::string field;
  std::string reason;
  std::string message;
};

// (kind, source, value)
using IdentityKey = std::tuple<int, std::string, std::string>;
std::vector<IdentityKey> IdentityKeysOf(const Customer& c);

struct ImportPlan {
  std::vector<size_t> creates;                        // row indexes
  std::vector<std::pair<size_t, std::string>> updates;  // row index, existing customer id
  std::vector<ImportError> errors;
};

// owners: identity -> id of the customer that owns it now.
ImportPlan PlanImport(const std::vector<ImportRow>& rows,
                      const std::map<IdentityKey, std::string>& owners);

// The existing customer after applying an import row (patch semantics for
// the fields the row sets; identities united). Validation errors name fields.
absl::Status ApplyImportRow(const ImportRow& row, Customer& existing);

// A batch id: 1..128 characters of [A-Za-z0-9._-].
bool IsValidBatchId(const std::string& id);

// The error of a row from a failed status (field and reason from its payloads).
ImportError RowError(int64_t line, const absl::Status& s);

}  // namespace crm::customer_store::domain
