#pragma once
// Shared setup of the customer-store integration tests: the schema (reset
// once per ctest run by the hidden "[.schema_reset]" test that the
// `customer_store_schema` fixture runs first), an app-role pool with the
// repository's named queries, a Redis pool, and small helpers.
//
// Every test works in its own random tenant, so tests never see each other's
// rows; the outbox relay works across tenants, which is why ctest runs the
// tests of this binary one at a time (RESOURCE_LOCK in CMakeLists.txt).
#include <catch2/catch.hpp>
#include <cstdint>
#include <memory>
#include <pqxx/pqxx>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "libs/common/errors.h"
#include "libs/common/id.h"
#include "libs/pg/pool.h"
#include "libs/redis/redis.h"
#include "services/customer_store/app/customer_writes.h"
#include "services/customer_store/app/ports.h"
#include "services/customer_store/domain/customer.h"
#include "services/customer_store/storage/pg_customer_repository.h"
#include "tests/support/pg_test_db.h"
#include "tests/support/redis_test_db.h"

namespace crm::customer_store::itest {

namespace ts = crm::test_support;
namespace domain = crm::customer_store::domain;
namespace app = crm::customer_store::app;

inline absl::Status ResetSchema() {
  return ts::ResetServiceSchemaFully("customer_store", "customer_store",
                                     ts::SourcePath("services/customer_store/schema"));
}

// Outside ctest (no fixture): creates the schema if it is missing.
inline void EnsureSchema() {
  static const bool ready = [] {
    ts::EnsureServiceSchema("customer_store", "customer_store",
                            ts::SourcePath("services/customer_store/schema"),
                            "customer_store.outbox");
    return true;
  }();
  (void)ready;
}

struct Env {
  std::unique_ptr<crm::pg::Pool> pool;
  std::unique_ptr<crm::redis::Pool> redis;
  std::unique_ptr<storage::PgCustomerRepository> repo;
};

inline Env& TheEnv() {
  static Env* env = [] {
    EnsureSchema();
    auto* e = new Env;
    auto pool = ts::MakeAppPool(2, storage::PgCustomerRepository::Queries());
    if (!pool.ok()) throw std::runtime_error("app pool: " + pool.status().ToString());
    e->pool = std::move(pool).value();
    auto redis = ts::MakeRedisPool();
    if (!redis.ok()) throw std::runtime_error("redis pool: " + redis.status().ToString());
    e->redis = std::move(redis).value();
    e->repo = std::make_unique<storage::PgCustomerRepository>(*e->pool);
    return e;
  }();
  return *env;
}

inline storage::PgCustomerRepository& Repo() { return *TheEnv().repo; }
inline crm::pg::Pool& AppPool() { return *TheEnv().pool; }
inline crm::redis::Pool& Redis() { return *TheEnv().redis; }

inline std::string NewTenant() { return common::NewUuid(); }

// `idempotency_key` is the client's request_id field (a replay returns the
// first call's result); Actor::request_id is only the audit trail's x-request-id.
inline app::Actor ActorOf(const std::string& tenant, const std::string& method,
                          const std::string& idempotency_key = "") {
  app::Actor a;
  a.tenant_id = tenant;
  a.principal = "user:itest";
  a.request_id = "req-itest";
  a.method = method;
  a.idempotency_key = idempotency_key;
  return a;
}

// The customer writes, driven through the adapter's port (CustomerTx) by
// the app layer's writes (app/customer_writes.h), as the use cases drive
// them.
inline absl::StatusOr<domain::Customer> Insert(app::CustomerRepository& repo,
                                               const app::Actor& actor, const domain::Customer& c) {
  auto r = app::InsertCustomer(repo, actor, c);
  if (!r.ok()) return r.status();
  return std::move(r->customer);
}
inline absl::StatusOr<domain::Customer> Update(app::CustomerRepository& repo,
                                               const app::Actor& actor, const std::string& id,
                                               const std::string& if_match,
                                               const app::Mutation& mutate) {
  auto r = app::UpdateCustomer(repo, actor, id, if_match, mutate);
  if (!r.ok()) return r.status();
  return std::move(r->customer);
}
using app::AppendConsent;
using app::AppendInteraction;
inline absl::StatusOr<domain::ErasureResult> Erase(app::CustomerRepository& repo,
                                                   const app::Actor& actor, const std::string& id,
                                                   const std::string& if_match) {
  return app::EraseCustomer(repo, actor, id, if_match);
}

// A valid customer as the use-case layer would hand it to the repository.
inline domain::Customer NewCustomer(const std::string& given = "Ada",
                                    std::vector<std::string> emails = {}) {
  domain::Customer c;
  c.id = common::NewUuid();
  c.given_name = given;
  c.family_name = "Lovelace";
  c.emails = std::move(emails);
  c.version = 1;
  c.create_time = absl::FromUnixMicros(1700000000123456);
  c.update_time = c.create_time;
  return c;
}

inline std::string UniqueEmail(const std::string& local = "u") {
  return absl::StrCat(local, ".", common::NewUuid().substr(0, 8), "@example.com");
}

// count(*) of a customer_store query in the tenant's RLS scope (app role).
inline int64_t CountIn(const std::string& tenant, const std::string& sql) {
  int64_t n = -1;
  absl::Status s = AppPool().WithTenantTx(tenant, [&](pqxx::work& tx) {
    n = tx.exec1(sql)[0].as<int64_t>();
    return absl::OkStatus();
  });
  INFO(sql << " -> " << s.ToString());
  REQUIRE(s.ok());
  return n;
}

inline int64_t CountCustomers(const std::string& tenant) {
  return CountIn(tenant, "SELECT count(*) FROM customer_store.customers");
}

inline int64_t CountOutbox(const std::string& tenant, const std::string& customer_id = "",
                           const std::string& type = "") {
  std::string sql = "SELECT count(*) FROM customer_store.outbox WHERE true";
  if (!customer_id.empty()) absl::StrAppend(&sql, " AND customer_id = '", customer_id, "'");
  if (!type.empty()) absl::StrAppend(&sql, " AND event_type = '", type, "'");
  return CountIn(tenant, sql);
}

inline int64_t CountAudit(const std::string& tenant, const std::string& method,
                          const std::string& outcome) {
  return CountIn(tenant, absl::StrCat("SELECT count(*) FROM customer_store.audit_log WHERE "
                                      "method = '",
                                      method, "' AND outcome = '", outcome, "'"));
}

// SQLSTATE of the pqxx error fn throws, or a description when it throws
// something else or nothing. libpqxx 6.4 throws insufficient_privilege
// without filling sqlstate(), hence the dedicated catch.
template <typename Fn>
std::string SqlStateOf(Fn fn) {
  try {
    fn();
  } catch (const pqxx::insufficient_privilege&) {
    return "42501";
  } catch (const pqxx::sql_error& e) {
    if (e.sqlstate().empty()) return std::string("sql_error without SQLSTATE: ") + e.what();
    return e.sqlstate();
  } catch (const std::exception& e) {
    return std::string("other exception: ") + e.what();
  }
  return "no error";
}

inline std::string ReasonOf(const absl::Status& s) { return common::ReasonOf(s); }

}  // namespace crm::customer_store::itest
