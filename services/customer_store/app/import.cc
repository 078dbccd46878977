#include "services/customer_store/app/import.h"

#include "absl/strings/str_cat.h"
#include "libs/common/errors.h"
#include "services/customer_store/domain/rules.h"

namespace crm::customer_store::app {

absl::StatusOr<ImportReport> CustomerImporter::Import(const Actor& actor,
                                                      const std::string& batch_id,
                                                      std::vector<ImportInputRow> inputs) {
  if (!domain::IsValidBatchId(batch_id)) {
    return common::InvalidField("batch_id",
                                "batch_id is required: 1..128 characters of A-Z a-z 0-9 . _ -");
  }
  if (static_cast<int64_t>(inputs.size()) > domain::kMaxImportRows) {
    return common::InvalidField(
        "rows", absl::StrCat("a batch holds at most ", domain::kMaxImportRows,
                             " rows; split the load into several batches"));
  }
  absl::Time now = clock_.Now();
  std::vector<domain::ImportError> errors;
  std::vector<domain::ImportRow> rows;
  rows.reserve(inputs.size());
  for (ImportInputRow& in : inputs) {
    if (!in.customer.ok()) {
      errors.push_back(domain::RowError(in.line, in.customer.status()));
      continue;
    }
    domain::Customer c = *std::move(in.customer);
    if (absl::Status s = domain::NormalizeAndValidate(c); !s.ok()) {
      errors.push_back(domain::RowError(in.line, s));
      continue;
    }
    c.id = ids_.NewId();
    c.version = 1;
    c.create_time = c.update_time = now;
    rows.push_back({in.line, std::move(c), std::move(in.present_paths)});
  }
  auto report = repository_.Import(
      actor, batch_id, static_cast<int64_t>(inputs.size()), std::move(errors), std::move(rows),
      [](const std::vector<domain::ImportRow>& r,
         const std::map<domain::IdentityKey, std::string>& owners) {
        return domain::PlanImport(r, owners);
      },
      [now](const domain::ImportRow& row, domain::Customer& existing) {
        absl::Status s = domain::ApplyImportRow(row, existing);
        existing.update_time = now;
        return s;
      });
  if (report.ok()) {
    for (const auto& id : report->updated_ids) cache_.Invalidate(actor.tenant_id, id);
  }
  return report;
}

}  // namespace crm::customer_store::app
