#pragma once
// In-memory ImportRepository honouring the contract of app/ports.h closely
// enough for use-case tests: tenant scoping and completed import batches
// answering with their stored report (replayed). The import stays a
// storage-level bulk operation (COPY into staging tables), so this fake
// calls the planner and updater it is given, as PgCustomerRepository does.
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

class FakeImportRepository final : public customer_store::app::ImportRepository {
 public:
  using Customer = customer_store::domain::Customer;

  absl::StatusOr<customer_store::app::ImportReport> Import(
      const customer_store::app::Actor& actor, const std::string& batch_id, int64_t rows_received,
      std::vector<customer_store::domain::ImportError> row_errors,
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
