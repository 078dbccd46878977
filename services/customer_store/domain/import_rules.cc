#include "services/customer_store/domain/import_rules.h"

#include <algorithm>
#include <set>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "libs/common/errors.h"
#include "services/customer_store/domain/rules.h"

namespace crm::customer_store::domain {

std::vector<IdentityKey> IdentityKeysOf(const Customer& c) {
  std::vector<IdentityKey> out;
  for (const auto& i : IdentitiesOf(c)) out.emplace_back(static_cast<int>(i.kind), i.source, i.value);
  return out;
}

ImportPlan PlanImport(const std::vector<ImportRow>& rows,
                      const std::map<IdentityKey, std::string>& owners) {
  ImportPlan plan;
  std::map<IdentityKey, int64_t> seen;            // identity -> line of the row that claimed it
  std::map<std::string, int64_t> updated_by;      // existing customer -> line updating it
  for (size_t i = 0; i < rows.size(); ++i) {
    const ImportRow& row = rows[i];
    std::vector<IdentityKey> keys = IdentityKeysOf(row.customer);
    // Identity shared with an earlier row of this batch.
    int64_t clash = 0;
    for (const auto& k : keys) {
      auto it = seen.find(k);
      if (it != seen.end()) {
        clash = it->second;
        break;
      }
    }
    if (clash != 0) {
      plan.errors.push_back({row.line, "", "IDENTITY_TAKEN",
                             absl::StrCat("an identity of this row is also on line ", clash,
                                          " of this batch")});
      continue;
    }
    std::set<std::string> found;
    for (const auto& k : keys) {
      auto it = owners.find(k);
      if (it != owners.end()) found.insert(it->second);
    }
    if (found.size() > 1) {
      plan.errors.push_back({row.line, "", "IDENTITY_TAKEN",
                             absl::StrCat("the identities of this row belong to ", found.size(),
                                          " different customers; merge them first")});
      continue;
    }
    if (found.size() == 1) {
      const std::string& id = *found.begin();
      auto [it, inserted] = updated_by.emplace(id, row.line);
      if (!inserted) {
        plan.errors.push_back({row.line, "", "IDENTITY_TAKEN",
                               absl::StrCat("line ", it->second,
                                            " of this batch already updates the same customer")});
        continue;
      }
      plan.updates.emplace_back(i, id);
    } else {
      plan.creates.push_back(i);
    }
    for (const auto& k : keys) seen.emplace(k, row.line);
  }
  return plan;
}

absl::Status ApplyImportRow(const ImportRow& row, Customer& existing) {
  // Identities are united below, never replaced.
  std::vector<std::string> paths;
  for (const auto& p : row.present_paths) {
    if (p != "emails" && p != "phones" && p != "external_ids") paths.push_back(p);
  }
  if (!paths.empty()) {
    absl::Status s = ApplyUpdateMask(row.customer, paths, existing);
    if (!s.ok()) return s;
  }
  auto unite = [](auto& into, const auto& from) {
    for (const auto& x : from) {
      if (std::find(into.begin(), into.end(), x) == into.end()) into.push_back(x);
    }
  };
  unite(existing.emails, row.customer.emails);
  unite(existing.phones, row.customer.phones);
  unite(existing.external_ids, row.customer.external_ids);
  return NormalizeAndValidate(existing);
}

bool IsValidBatchId(const std::string& id) {
  if (id.empty() || id.size() > 128) return false;
  for (char c : id) {
    if (!(absl::ascii_isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == '-')) {
      return false;
    }
  }
  return true;
}

ImportError RowError(int64_t line, const absl::Status& s) {
  std::string reason = common::ReasonOf(s);
  if (reason.empty()) reason = "INVALID_FIELD";
  return ImportError{line, common::FieldOf(s), reason, std::string(s.message())};
}

}  // namespace crm::customer_store::domain
