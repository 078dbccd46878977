#include "tests/support/pg_test_db.h"

#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <exception>
#include <stdexcept>

#include <pqxx/pqxx>

#include "absl/strings/str_cat.h"
#include "libs/outbox/platform_schema.h"
#include "libs/pg/errors.h"
#include "libs/pg/migrate.h"

namespace crm::test_support {

std::string RequireEnv(const char* name) {
  const char* v = std::getenv(name);
  if (v == nullptr || *v == '\0') {
    throw std::runtime_error(absl::StrCat(
        name,
        " is not set. Integration tests need the private datastores: run them through ctest "
        "(the `datastores` fixture starts PostgreSQL and Redis), e.g. `ctest -L integration`, or "
        "start deploy/scripts/datastores.sh yourself and export the variables it prints."));
  }
  return v;
}

std::string PgOwnerDsn() { return RequireEnv("CRM_TEST_PG_OWNER_DSN"); }
std::string PgAppDsn() { return RequireEnv("CRM_TEST_PG_APP_DSN"); }

std::string SourcePath(std::string_view relative) {
  return absl::StrCat(CRM_SOURCE_DIR, "/", std::string(relative));
}

std::string UniqueName(std::string_view prefix) {
  static std::atomic<int> counter{0};
  return absl::StrCat(std::string(prefix), "_", static_cast<int64_t>(getpid()), "_",
                      counter.fetch_add(1));
}

absl::Status ExecAsOwner(const std::string& sql) {
  const std::string dsn = PgOwnerDsn();  // throws outside the try: a missing env is a failure
  try {
    pqxx::connection c(dsn);
    pqxx::work w(c);
    w.exec(sql);
    w.commit();
    return absl::OkStatus();
  } catch (const std::exception& e) {
    return crm::pg::FromPqxxException(e);
  }
}

absl::Status RecreateSchema(const std::string& schema) {
  const std::string dsn = PgOwnerDsn();
  try {
    pqxx::connection c(dsn);
    pqxx::work w(c);
    const std::string quoted = w.quote_name(schema);
    w.exec(absl::StrCat("DROP SCHEMA IF EXISTS ", quoted, " CASCADE"));
    w.exec(absl::StrCat("CREATE SCHEMA ", quoted, " AUTHORIZATION crm_owner"));
    w.exec(absl::StrCat("GRANT USAGE ON SCHEMA ", quoted, " TO crm_app"));
    w.commit();
    return absl::OkStatus();
  } catch (const std::exception& e) {
    return crm::pg::FromPqxxException(e);
  }
}

absl::StatusOr<std::vector<std::string>> ResetServiceSchema(const std::string& service,
                                                            const std::string& schema,
                                                            const std::string& schema_dir) {
  const std::string dsn = PgOwnerDsn();
  try {
    pqxx::connection c(dsn);
    pqxx::work w(c);
    w.exec(absl::StrCat("DROP SCHEMA IF EXISTS ", w.quote_name(schema), " CASCADE"));
    pqxx::result t = w.exec("SELECT to_regclass('public.crm_schema_migrations') IS NOT NULL");
    if (t[0][0].as<bool>()) {
      w.exec_params("DELETE FROM public.crm_schema_migrations WHERE service = $1", service);
    }
    w.commit();
  } catch (const std::exception& e) {
    return crm::pg::FromPqxxException(e);
  }
  return crm::pg::Migrate(
      dsn, crm::pg::MigrationPlan{service, schema, crm::outbox::PlatformMigrations(), schema_dir});
}

absl::StatusOr<std::unique_ptr<crm::pg::Pool>> MakeAppPool(
    int size, std::vector<crm::pg::NamedQuery> queries) {
  crm::pg::PoolOptions o;
  o.dsn = PgAppDsn();
  o.size = size;
  o.queries = std::move(queries);
  return crm::pg::Pool::Create(std::move(o));
}

absl::StatusOr<std::unique_ptr<crm::pg::Pool>> MakeOwnerPool(int size) {
  crm::pg::PoolOptions o;
  o.dsn = PgOwnerDsn();
  o.size = size;
  return crm::pg::Pool::Create(std::move(o));
}

absl::Status ResetServiceSchemaFully(const std::string& service, const std::string& schema,
                                    const std::string& schema_dir) {
  auto applied = ResetServiceSchema(service, schema, schema_dir);
  if (!applied.ok()) return applied.status();
  if (applied->empty()) return absl::InternalError("no migration applied after the reset");
  return absl::OkStatus();
}

std::unique_ptr<crm::pg::Pool> FreshSchemaPool(
    const std::string& service, const std::string& schema, int size,
    std::vector<std::vector<crm::pg::NamedQuery>> query_sets) {
  absl::Status s =
      ResetServiceSchemaFully(service, schema, SourcePath("services/" + service + "/schema"));
  if (!s.ok()) throw std::runtime_error("reset schema " + schema + ": " + s.ToString());
  std::vector<crm::pg::NamedQuery> queries;
  for (auto& set : query_sets) {
    for (auto& q : set) queries.push_back(std::move(q));
  }
  auto pool = MakeAppPool(size, std::move(queries));
  if (!pool.ok()) throw std::runtime_error("app pool: " + pool.status().ToString());
  return std::move(pool).value();
}

void EnsureServiceSchema(const std::string& service, const std::string& schema,
                         const std::string& schema_dir, const std::string& probe_table) {
  bool exists = false;
  {
    pqxx::connection c(PgOwnerDsn());
    pqxx::work w(c);
    exists = !w.exec_params1("SELECT to_regclass($1)", probe_table)[0].is_null();
  }
  if (!exists) {
    absl::Status s = ResetServiceSchemaFully(service, schema, schema_dir);
    if (!s.ok()) throw std::runtime_error(schema + " schema: " + s.ToString());
  }
}

}  // namespace crm::test_support
