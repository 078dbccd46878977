#include "libs/pg/pool.h"

#include <libpq-fe.h>

#include <map>

#include <algorithm>
#include <exception>
#include <random>
#include <thread>

#include "absl/strings/str_cat.h"
#include "libs/common/status_macros.h"
#include "libs/observability/log.h"
#include "libs/observability/metrics.h"
#include "libs/pg/errors.h"
#include "prometheus/family.h"
#include "prometheus/gauge.h"
#include "prometheus/histogram.h"
#include "prometheus/registry.h"

namespace crm::pg {

// Families are shared by every pool on the same registry (Registry merges
// families with equal names), so the gauge counts connections of all pools.
class PoolMetrics {
 public:
  explicit PoolMetrics(prometheus::Registry& registry)
      : query_(prometheus::BuildHistogram()
                   .Name("crm_pg_query_seconds")
                   .Help("Latency of named PostgreSQL queries")
                   .Register(registry)),
        in_use_(prometheus::BuildGauge()
                    .Name("crm_pg_pool_in_use")
                    .Help("PostgreSQL connections currently leased from the pool")
                    .Register(registry)
                    .Add({})),
        wait_(prometheus::BuildHistogram()
                  .Name("crm_pg_pool_wait_seconds")
                  .Help("Time spent waiting for a pooled PostgreSQL connection")
                  .Register(registry)
                  .Add({}, observability::Metrics::LatencyBuckets())) {}

  void ObserveQuery(const std::string& name, double seconds) {
    // Family::Add returns the existing series for known labels.
    query_.Add({{"query", name}}, observability::Metrics::LatencyBuckets()).Observe(seconds);
  }
  prometheus::Gauge& in_use() { return in_use_; }
  prometheus::Histogram& wait() { return wait_; }

 private:
  prometheus::Family<prometheus::Histogram>& query_;
  prometheus::Gauge& in_use_;
  prometheus::Histogram& wait_;
};

struct Pool::Conn {
  std::unique_ptr<pqxx::connection> conn;
};

namespace {

constexpr char kSetTenantSql[] = "SELECT set_config('app.tenant_id', $1, true)";

// The first line of a libpq error only: following DETAIL lines may quote
// key values (PII), which must not reach the logs.
std::string FirstLine(const char* what) {
  std::string s(what == nullptr ? "" : what);
  if (auto pos = s.find('\n'); pos != std::string::npos) s.resize(pos);
  return s;
}

// Exponential backoff with full jitter: 0..(5ms << attempt), capped at 200ms.
absl::Duration Backoff(int attempt) {
  thread_local std::minstd_rand rng(std::random_device{}());
  const int64_t cap_us = std::min<int64_t>(int64_t{5000} << std::min(attempt, 6), 200000);
  std::uniform_int_distribution<int64_t> dist(cap_us / 4, cap_us);
  return absl::Microseconds(dist(rng));
}

}  // namespace

Pool::Pool(PoolOptions options) : options_(std::move(options)), size_(options_.size) {
  if (options_.metrics != nullptr) metrics_ = std::make_unique<PoolMetrics>(*options_.metrics);
}

Pool::~Pool() = default;

absl::StatusOr<std::unique_ptr<Pool>> Pool::Create(PoolOptions options) {
  if (options.size <= 0) return absl::InvalidArgumentError("pg pool size must be positive");
  if (options.max_tx_attempts <= 0) {
    return absl::InvalidArgumentError("pg max_tx_attempts must be positive");
  }
  if (options.dsn.empty()) return absl::InvalidArgumentError("pg dsn is empty");
  std::unique_ptr<Pool> pool(new Pool(std::move(options)));
  std::vector<std::unique_ptr<Conn>> conns;
  conns.reserve(static_cast<size_t>(pool->size_));
  for (int i = 0; i < pool->size_; ++i) {
    CRM_ASSIGN_OR_RETURN(std::unique_ptr<Conn> c, pool->Open());
    conns.push_back(std::move(c));
  }
  CRM_RETURN_IF_ERROR(pool->CheckColumns());
  absl::MutexLock lock(&pool->mu_);
  pool->idle_ = std::move(conns);
  pool->open_ = pool->size_;
  return pool;
}

absl::StatusOr<std::unique_ptr<Pool::Conn>> Pool::Open() {
  try {
    auto c = std::make_unique<Conn>();
    c->conn = std::make_unique<pqxx::connection>(options_.dsn);
    for (const NamedQuery& q : options_.queries) c->conn->prepare(q.name, q.sql);
    return c;
  } catch (const std::exception& e) {
    // libpq connection errors name host and port but never the password.
    CRM_LOG(Warning).Field("component", "pg") << "cannot open connection: " << FirstLine(e.what());
    if (dynamic_cast<const pqxx::broken_connection*>(&e) != nullptr) {
      return absl::UnavailableError("database unavailable");
    }
    return FromPqxxException(e);
  }
}

absl::Status Pool::CheckColumns() {
  std::map<std::string, const NamedQuery*> declared;
  for (const NamedQuery& q : options_.queries) {
    if (q.columns != NamedQuery::kUnchecked) declared[q.name] = &q;
  }
  if (declared.empty()) return absl::OkStatus();
  // libpqxx 6 cannot describe a statement: a libpq connection of its own
  // prepares each one and reads how many columns its rows have.
  std::unique_ptr<PGconn, void (*)(PGconn*)> conn(PQconnectdb(options_.dsn.c_str()), PQfinish);
  if (conn == nullptr || PQstatus(conn.get()) != CONNECTION_OK) {
    CRM_LOG(Warning).Field("component", "pg")
        << "cannot open connection: " << FirstLine(PQerrorMessage(conn.get()));
    return absl::UnavailableError("database unavailable");
  }
  using Result = std::unique_ptr<PGresult, void (*)(PGresult*)>;
  for (const auto& [name, q] : declared) {
    Result prepared(PQprepare(conn.get(), name.c_str(), q->sql.c_str(), 0, nullptr), PQclear);
    if (PQresultStatus(prepared.get()) != PGRES_COMMAND_OK) {
      return absl::InternalError(absl::StrCat("query ", name, " does not prepare: ",
                                              FirstLine(PQerrorMessage(conn.get()))));
    }
    Result described(PQdescribePrepared(conn.get(), name.c_str()), PQclear);
    if (PQresultStatus(described.get()) != PGRES_COMMAND_OK) {
      return absl::InternalError(absl::StrCat("query ", name, " cannot be described"));
    }
    const int actual = PQnfields(described.get());
    if (actual != q->columns) {
      return absl::InternalError(absl::StrCat("query ", name, " returns ", actual,
                                              " columns but its rows are read as ", q->columns));
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<Pool::Conn>> Pool::Acquire() {
  const absl::Time start = absl::Now();
  const absl::Time deadline = start + options_.acquire_timeout;
  std::unique_ptr<Conn> conn;
  bool must_open = false;
  {
    absl::MutexLock lock(&mu_);
    auto available = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
      return !idle_.empty() || open_ < size_;
    };
    if (!mu_.AwaitWithDeadline(absl::Condition(&available), deadline)) {
      return absl::ResourceExhaustedError("database pool exhausted");
    }
    if (!idle_.empty()) {
      conn = std::move(idle_.back());
      idle_.pop_back();
    } else {
      ++open_;  // reserve the slot, open outside the lock
      must_open = true;
    }
  }
  if (must_open) {
    absl::StatusOr<std::unique_ptr<Conn>> opened = Open();
    if (!opened.ok()) {
      absl::MutexLock lock(&mu_);
      --open_;
      return opened.status();
    }
    conn = std::move(opened).value();
  }
  if (metrics_ != nullptr) {
    metrics_->wait().Observe(absl::ToDoubleSeconds(absl::Now() - start));
    metrics_->in_use().Increment();
  }
  return conn;
}

void Pool::Release(std::unique_ptr<Conn> c) {
  if (metrics_ != nullptr) metrics_->in_use().Decrement();
  const bool healthy = c != nullptr && c->conn != nullptr && c->conn->is_open();
  absl::MutexLock lock(&mu_);
  if (healthy) {
    idle_.push_back(std::move(c));
  } else {
    --open_;  // reopened lazily by the next Acquire
  }
}

void Pool::Observe(const std::string& name, absl::Duration d) {
  if (metrics_ != nullptr) metrics_->ObserveQuery(name, absl::ToDoubleSeconds(d));
}

absl::Status Pool::RunTx(const std::string* tenant_id, const TxFn& fn, bool snapshot) {
  const int attempts = std::max(1, options_.max_tx_attempts);
  for (int attempt = 1; attempt <= attempts; ++attempt) {
    CRM_ASSIGN_OR_RETURN(std::unique_ptr<Conn> conn, Acquire());
    absl::Status result;
    bool conflict = false;
    bool drop = false;
    try {
      pqxx::work tx(*conn->conn);
      // Before any query: the snapshot is taken by the first one.
      if (snapshot) tx.exec("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY");
      if (tenant_id != nullptr) tx.exec_params(kSetTenantSql, *tenant_id);
      result = fn(tx);
      if (result.ok()) {
        tx.commit();
      } else {
        tx.abort();
      }
    } catch (const pqxx::serialization_failure& e) {
      conflict = true;
      CRM_LOG(Info).Field("component", "pg").Field("attempt", attempt)
          << "serialization failure, retrying: " << FirstLine(e.what());
    } catch (const pqxx::deadlock_detected& e) {
      conflict = true;
      CRM_LOG(Info).Field("component", "pg").Field("attempt", attempt)
          << "deadlock detected, retrying: " << FirstLine(e.what());
    } catch (const pqxx::broken_connection& e) {
      drop = true;
      result = FromPqxxException(e);
    } catch (const pqxx::in_doubt_error& e) {
      drop = true;
      result = FromPqxxException(e);
    } catch (const std::exception& e) {
      // A plain sql_error may still carry 40001/40P01 (e.g. raised from PL/pgSQL).
      const std::string state = SqlState(e);
      if (state == "40001" || state == "40P01") {
        conflict = true;
      } else {
        result = FromPqxxException(e);
      }
    } catch (...) {
      CRM_LOG(Error).Field("component", "pg") << "non-standard exception in transaction";
      result = absl::InternalError("database error");
    }
    if (drop || !conn->conn->is_open()) conn->conn.reset();
    Release(std::move(conn));
    if (!conflict) return result;
    if (attempt < attempts) absl::SleepFor(Backoff(attempt));
  }
  CRM_LOG(Warning).Field("component", "pg").Field("attempts", attempts)
      << "transaction conflict persisted after retries";
  return absl::AbortedError("transaction conflict, retry");
}

absl::Status Pool::WithTenantTx(std::string_view tenant_id, const TxFn& fn) {
  if (tenant_id.empty()) return absl::InvalidArgumentError("tenant id is empty");
  const std::string tenant(tenant_id);
  return RunTx(&tenant, fn);
}

absl::Status Pool::WithTenantSnapshot(std::string_view tenant_id, const TxFn& fn) {
  if (tenant_id.empty()) return absl::InvalidArgumentError("tenant id is empty");
  const std::string tenant(tenant_id);
  return RunTx(&tenant, fn, /*snapshot=*/true);
}

absl::Status Pool::WithTx(const TxFn& fn) { return RunTx(nullptr, fn); }

absl::Status Pool::Ping() {
  return WithTx([](pqxx::work& tx) {
    tx.exec("SELECT 1");
    return absl::OkStatus();
  });
}

}  // namespace crm::pg
