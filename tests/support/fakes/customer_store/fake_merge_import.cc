#include "tests/support/fakes/customer_store/fake_merge_import.h"

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

// ------------------------------------------------------------------ merge

void FakeMergeRepository::Put(const std::string& tenant, const Customer& c,
                              std::vector<Consent> history) {
  absl::MutexLock l(&mu_);
  customers_[{tenant, c.id}] = c;
  consents_[{tenant, c.id}] = std::move(history);
}

std::optional<domain::Customer> FakeMergeRepository::Find(const std::string& tenant,
                                                          const std::string& id) const {
  absl::MutexLock l(&mu_);
  auto it = customers_.find({tenant, id});
  if (it == customers_.end()) return std::nullopt;
  return it->second;
}

std::vector<domain::Consent> FakeMergeRepository::History(const std::string& tenant,
                                                          const std::string& id) const {
  absl::MutexLock l(&mu_);
  auto it = consents_.find({tenant, id});
  return it == consents_.end() ? std::vector<Consent>{} : it->second;
}

void FakeMergeRepository::Edit(const std::string& tenant, const Customer& c) {
  absl::MutexLock l(&mu_);
  Customer& stored = customers_.at({tenant, c.id});
  int64_t version = stored.version;
  stored = c;
  stored.version = version + 1;
}

int FakeMergeRepository::merge_calls() const {
  absl::MutexLock l(&mu_);
  return merge_calls_;
}

int FakeMergeRepository::unmerge_calls() const {
  absl::MutexLock l(&mu_);
  return unmerge_calls_;
}

void FakeMergeRepository::set_failure(absl::Status s) {
  absl::MutexLock l(&mu_);
  failure_ = std::move(s);
}

absl::StatusOr<app::MergeOutcome> FakeMergeRepository::Merge(const app::Actor& actor,
                                                             const std::string& survivor_id,
                                                             const std::string& source_id,
                                                             const app::MergeDecider& decide) {
  absl::MutexLock l(&mu_);
  ++merge_calls_;
  if (!failure_.ok()) return failure_;
  const std::string& t = actor.tenant_id;
  for (const std::string& id : {survivor_id, source_id}) {
    if (customers_.count({t, id})) continue;
    auto m = merged_into_.find({t, id});
    if (m != merged_into_.end()) {
      return common::WithReason(
          absl::NotFoundError(absl::StrCat("customer was merged into customer ", m->second)),
          "CUSTOMER_MERGED");
    }
    return common::NotFound("CUSTOMER_NOT_FOUND", "customer not found");
  }
  Customer survivor = customers_.at({t, survivor_id});
  Customer source = customers_.at({t, source_id});
  std::vector<Consent>& survivor_hist = consents_[{t, survivor_id}];
  std::vector<Consent> source_hist = consents_[{t, source_id}];
  auto d = decide(survivor, source, domain::CurrentConsents(survivor_hist),
                  domain::CurrentConsents(source_hist));
  if (!d.ok()) return d.status();

  std::string merge_id = absl::StrFormat("00000000-0000-4000-9000-%012x", next_merge_++);
  Log log;
  log.tenant = t;
  log.record.id = merge_id;
  log.record.survivor_id = survivor_id;
  log.record.source_id = source_id;
  log.record.source_snapshot = source;
  log.record.survivor_before = survivor;
  log.record.filled_paths = d->filled_paths;
  log.source_history = source_hist;
  log.resolutions = d->resolutions.size();

  survivor_hist.insert(survivor_hist.end(), source_hist.begin(), source_hist.end());
  survivor_hist.insert(survivor_hist.end(), d->resolutions.begin(), d->resolutions.end());
  Customer merged = d->merged;
  merged.version = survivor.version + 1;
  customers_[{t, survivor_id}] = merged;
  customers_.erase({t, source_id});
  consents_.erase({t, source_id});
  merged_into_[{t, source_id}] = survivor_id;
  log.record.survivor_after = merged;
  merges_[merge_id] = log;

  app::MergeOutcome out;
  out.survivor = merged;
  out.merge_id = merge_id;
  out.identities_moved = static_cast<int64_t>(domain::IdentitiesOf(source).size());
  out.consents_moved = static_cast<int64_t>(source_hist.size());
  out.resolutions = d->resolutions;
  return out;
}

absl::StatusOr<app::UnmergeOutcome> FakeMergeRepository::Unmerge(
    const app::Actor& actor, const std::string& survivor_id, const std::string& merge_id,
    const app::UnmergeDecider& decide) {
  absl::MutexLock l(&mu_);
  ++unmerge_calls_;
  if (!failure_.ok()) return failure_;
  const std::string& t = actor.tenant_id;
  auto it = merges_.find(merge_id);
  if (it == merges_.end() || it->second.tenant != t || it->second.record.survivor_id != survivor_id) {
    return common::NotFound("NOT_MERGED", "no merge with this id for this customer");
  }
  Log& log = it->second;
  if (log.undone) {
    return common::WithReason(absl::FailedPreconditionError("this merge was already undone"),
                              "NOT_MERGED");
  }
  const app::MergeRecord& rec = log.record;
  Customer now = customers_.at({t, survivor_id});
  Customer restored = rec.source_snapshot;
  restored.version = rec.source_snapshot.version + 1;
  // Identities go back to the source.
  auto remove_all = [](auto& from, const auto& what) {
    for (const auto& x : what) from.erase(std::remove(from.begin(), from.end(), x), from.end());
  };
  remove_all(now.emails, restored.emails);
  remove_all(now.phones, restored.phones);
  remove_all(now.external_ids, restored.external_ids);
  Customer undone = decide(now, rec);
  undone.version = customers_.at({t, survivor_id}).version + 1;
  customers_[{t, survivor_id}] = undone;
  customers_[{t, restored.id}] = restored;
  consents_[{t, restored.id}] = log.source_history;
  merged_into_.erase({t, restored.id});
  log.undone = true;
  return app::UnmergeOutcome{undone, restored};
}

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
