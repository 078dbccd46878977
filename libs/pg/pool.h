#pragma once
// PostgreSQL over libpqxx 6.4: a fixed-size connection pool (one connection per
// in-flight request), named prepared statements registered on every
// connection, transactions that SET LOCAL the tenant for row-level security
// and retry serialization failures / deadlocks, and reconnect on broken
// connections. Exceptions never leave this library: every entry point returns
// absl::Status.
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <pqxx/pqxx>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace prometheus {
class Registry;
}

namespace crm::pg {

// A named SQL statement. Declared once per aggregate as a constant and
// passed to Exec by that constant, so a misspelt query does not compile:
//
//   const pg::NamedQuery kSelectLead{"select_lead", "SELECT id, ... FROM ...", 16};
//   pool.Exec(tx, kSelectLead, tenant, id);
//
// `columns`: how many result columns the code reads from its rows. Pool::
// Create prepares every statement that declares it and refuses to start
// when the statement returns another number of columns (kUnchecked: not
// checked, e.g. statements that return no rows).
struct NamedQuery {
  static constexpr int kUnchecked = -1;
  std::string name;  // verb_object, also the metric label
  std::string sql;
  int columns = kUnchecked;
};

struct PoolOptions {
  std::string dsn;
  int size = 8;
  absl::Duration acquire_timeout = absl::Seconds(2);
  int max_tx_attempts = 4;  // serialization_failure / deadlock_detected retries
  std::vector<NamedQuery> queries;  // prepared on every connection
  prometheus::Registry* metrics = nullptr;  // optional
};

class PoolMetrics;

class Pool final {
 public:
  // Opens every connection up front; UNAVAILABLE when the server does not answer.
  static absl::StatusOr<std::unique_ptr<Pool>> Create(PoolOptions options);
  ~Pool();

  using TxFn = std::function<absl::Status(pqxx::work&)>;

  // Runs fn in one transaction (READ COMMITTED) after
  // `SELECT set_config('app.tenant_id', tenant_id, true)`. Commits when fn
  // returns OK, rolls back otherwise. Retries the whole fn on serialization
  // failure or deadlock (then ABORTED); broken connection -> UNAVAILABLE;
  // any other pqxx exception is mapped by FromPqxxException.
  absl::Status WithTenantTx(std::string_view tenant_id, const TxFn& fn);
  // Same, READ ONLY at REPEATABLE READ: every statement of fn reads the same
  // snapshot (a view assembled from several queries is consistent).
  absl::Status WithTenantSnapshot(std::string_view tenant_id, const TxFn& fn);
  // Same without a tenant (gateway's access schema, outbox relay, admin).
  absl::Status WithTx(const TxFn& fn);
  // SELECT 1 on a pooled connection.
  absl::Status Ping();

  // Executes a named prepared statement, recording crm_pg_query_seconds{query}.
  // By its constant only: a query name typed at the call site does not compile.
  template <typename... Args>
  pqxx::result Exec(pqxx::work& tx, const NamedQuery& q, Args&&... args) {
    auto start = absl::Now();
    pqxx::result r = tx.exec_prepared(q.name, std::forward<Args>(args)...);
    Observe(q.name, absl::Now() - start);
    return r;
  }

  int size() const { return size_; }

 private:
  struct Conn;
  explicit Pool(PoolOptions options);
  absl::StatusOr<std::unique_ptr<Conn>> Acquire();
  void Release(std::unique_ptr<Conn> c);
  absl::StatusOr<std::unique_ptr<Conn>> Open();
  // Prepares every query that declares its columns and compares them with
  // what PostgreSQL says the statement returns (INTERNAL on a mismatch).
  absl::Status CheckColumns();
  absl::Status RunTx(const std::string* tenant_id, const TxFn& fn, bool snapshot = false);
  void Observe(const std::string& name, absl::Duration d);

  PoolOptions options_;
  int size_;
  std::unique_ptr<PoolMetrics> metrics_;
  absl::Mutex mu_;
  std::vector<std::unique_ptr<Conn>> idle_ ABSL_GUARDED_BY(mu_);
  int open_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace crm::pg
