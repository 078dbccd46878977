#pragma once
// In-memory MergeRepository and ImportRepository honouring the contracts of
// app/ports.h closely enough for use-case tests: tenant scoping, NOT_FOUND
// (CUSTOMER_NOT_FOUND / CUSTOMER_MERGED) for absent customers, the merge log
// for unmerge (NOT_FOUND / FAILED_PRECONDITION with NOT_MERGED), and
// completed import batches answering with their stored report (replayed).
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "services/customer_store/app/ports.h"

namespace crm::testing {

class FakeMergeRepository final : public customer_store::app::MergeRepository {
 public:
  using Customer = customer_store::domain::Customer;
  using Consent = customer_store::domain::Consent;

  absl::StatusOr<customer_store::app::MergeOutcome> Merge(
      const customer_store::app::Actor& actor, const std::string& survivor_id,
      const std::string& source_id, const customer_store::app::MergeDecider& decide) override;
  absl::StatusOr<customer_store::app::UnmergeOutcome> Unmerge(
      const customer_store::app::Actor& actor, const std::string& survivor_id,
      const std::string& merge_id, const customer_store::app::UnmergeDecider& decide) override;

  // Seeds a customer (and its consent history) in a tenant.
  void Put(const std::string& tenant, const Customer& c, std::vector<Consent> history = {});
  std::optional<Customer> Find(const std::string& tenant, const std::string& id) const;
  // Consent history of a customer (moved and resolved records included).
  std::vector<Consent> History(const std::string& tenant, const std::string& id) const;
  // Replaces the profile of a stored customer (an edit made after a merge).
  void Edit(const std::string& tenant, const Customer& c);

  int merge_calls() const;
  int unmerge_calls() const;
  // Every repository call fails with `s` (ok: normal behaviour).
  void set_failure(absl::Status s);

 private:
  using Key = std::pair<std::string, std::string>;
  struct Log {
    std::string tenant;
    customer_store::app::MergeRecord record;
    std::vector<Consent> source_history;
    size_t resolutions = 0;
    bool undone = false;
  };
  mutable absl::Mutex mu_;
  std::map<Key, Customer> customers_ ABSL_GUARDED_BY(mu_);
  std::map<Key, std::vector<Consent>> consents_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, Log> merges_ ABSL_GUARDED_BY(mu_);  // merge id -> log
  std::map<Key, std::string> merged_into_ ABSL_GUARDED_BY(mu_);
  absl::Status failure_ ABSL_GUARDED_BY(mu_);
  int merge_calls_ ABSL_GUARDED_BY(mu_) = 0;
  int unmerge_calls_ ABSL_GUARDED_BY(mu_) = 0;
  int next_merge_ ABSL_GUARDED_BY(mu_) = 1;
};

class FakeImportRepository final : public customer_store::app::ImportRepository {
 public:
  using Customer = customer_store::domain::Customer;

  absl::StatusOr<customer_store::app::ImportReport> Import(
      const customer_store::app::Actor& actor, const std::string& batch_id,
      int64_t rows_received, std::vector<customer_store::domain::ImportError> row_errors,
      std::vector<customer_store::domain::ImportRow> rows,
      const customer_store::app::ImportPlanner& plan,
      const customer_store::app::ImportUpdater& apply) override;

  // Seeds an existing customer; its identities become owned by it.
  void Put(const std::string& tenant, const Customer& c);
  std::optional<Customer> Find(const std::string& tenant, const std::string& id) const;
  size_t CustomerCount(const std::string& tenant) const;

  // What the last call received.
  struct Call {
    std::string tenant;
    std::string batch_id;
    int64_t rows_received = 0;
    std::vector<customer_store::domain::ImportError> row_errors;
    std::vector<customer_store::domain::ImportRow> rows;
  };
  std::optional<Call> last_call() const;
  int calls() const;

 private:
  using Key = std::pair<std::string, std::string>;
  mutable absl::Mutex mu_;
  std::map<Key, Customer> customers_ ABSL_GUARDED_BY(mu_);
  std::map<Key, customer_store::app::ImportReport> batches_ ABSL_GUARDED_BY(mu_);
  std::optional<Call> last_call_ ABSL_GUARDED_BY(mu_);
  int calls_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace crm::testing
