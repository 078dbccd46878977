#include "tests/support/fakes/customer_store/fake_import_repository.h"

#include <algorithm>
#include <set>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "libs/common/errors.h"
#include "services/customer_store/domain/import_rules.h"
#include "services/customer_store/domain/rules.h"

namespace crm::testing {

namespace app = customer_store::app;
namespace domain = customer_store::domain;

// ----------------------------------------------------------------- import

void FakeImportRepository::Put(const std::string& tenant, const Customer& c) {
  absl::MutexLock l(&mu_);
  customers_[{tenant, c.id}] = c;
}

std::optional<domain::Customer> FakeImportRepository::Find(const std::string& tenant,
                                                           const std::string& id) const {
  absl::MutexLock l(&mu_);
  auto it = customers_.find({tenant, id});
  if (it == customers_.end()) return std::nullopt;
  return it->second;
}

size_t FakeImportRepository::CustomerCount(const std::string& tenant) const {
  absl::MutexLock l(&mu_);
  size_t n = 0;
  for (const auto& [k, c] : customers_) n += k.first == tenant ? 1 : 0;
  return n;
}

std::optional<FakeImportRepository::Call> FakeImportRepository::last_call() const {
  absl::MutexLock l(&mu_);
  return last_call_;
}

int FakeImportRepository::calls() const {
  absl::MutexLock l(&mu_);
  return calls_;
}

absl::StatusOr<app::ImportReport> FakeImportRepository::Import(
    const app::Actor& actor, const std::string& batch_id, int64_t rows_received,
    std::vector<domain::ImportError> row_errors, std::vector<domain::ImportRow> rows,
    const app::ImportPlanner& plan_fn, const app::ImportUpdater& apply) {
  absl::MutexLock l(&mu_);
  ++calls_;
  const std::string& t = actor.tenant_id;
  last_call_ = Call{t, batch_id, rows_received, row_errors, rows};
  if (auto prev = batches_.find({t, batch_id}); prev != batches_.end()) {
    app::ImportReport r = prev->second;
    r.replayed = true;
    r.updated_ids.clear();
    return r;
  }
  std::map<domain::IdentityKey, std::string> owners;
  for (const auto& [k, c] : customers_) {
    if (k.first != t) continue;
    for (auto& key : domain::IdentityKeysOf(c)) owners.emplace(std::move(key), c.id);
  }
  domain::ImportPlan plan = plan_fn(rows, owners);
  std::vector<domain::ImportError> errors = std::move(row_errors);
  errors.insert(errors.end(), plan.errors.begin(), plan.errors.end());
  app::ImportReport report;
  report.batch_id = batch_id;
  report.rows_received = rows_received;
  for (size_t idx : plan.creates) {
    customers_[{t, rows[idx].customer.id}] = rows[idx].customer;
    ++report.created;
  }
  for (const auto& [idx, id] : plan.updates) {
    Customer after = customers_.at({t, id});
    if (absl::Status s = apply(rows[idx], after); !s.ok()) {
      errors.push_back(domain::RowError(rows[idx].line, s));
      continue;
    }
    after.version += 1;
    customers_[{t, id}] = after;
    report.updated_ids.push_back(id);
    ++report.updated;
  }
  std::sort(errors.begin(), errors.end(),
            [](const auto& a, const auto& b) { return a.line < b.line; });
  report.failed = static_cast<int64_t>(errors.size());
  if (errors.size() > static_cast<size_t>(domain::kMaxImportErrorsReported)) {
    errors.resize(domain::kMaxImportErrorsReported);
  }
  report.errors = std::move(errors);
  app::ImportReport stored = report;
  stored.updated_ids.clear();
  batches_[{t, batch_id}] = stored;
  return report;
}

}  // namespace crm::testing
