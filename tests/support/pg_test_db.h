#pragma once
// PostgreSQL helpers for integration tests. The DSNs come from the
// environment that ctest sets (cmake/CrmTesting.cmake); a missing variable
// throws std::runtime_error, which Catch2 reports as a FAILURE with the
// message below (never a skip: a silently skipped integration suite is a
// green build that tested nothing).
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "libs/pg/pool.h"

namespace crm::test_support {

// Value of a required environment variable, or throws std::runtime_error.
std::string RequireEnv(const char* name);

std::string PgOwnerDsn();  // CRM_TEST_PG_OWNER_DSN (crm_owner: DDL, migrations)
std::string PgAppDsn();    // CRM_TEST_PG_APP_DSN (crm_app: subject to RLS)

// Absolute path of a file or folder in the source tree ("services/x/schema").
std::string SourcePath(std::string_view relative);

// A name unique to this process and call, e.g. "t_libs_12345_3", usable as a
// schema name or key prefix.
std::string UniqueName(std::string_view prefix);

// Runs sql (may hold several statements) in one transaction as crm_owner.
absl::Status ExecAsOwner(const std::string& sql);

// DROP SCHEMA IF EXISTS <schema> CASCADE; CREATE SCHEMA <schema> owned by
// crm_owner; GRANT USAGE to crm_app.
absl::Status RecreateSchema(const std::string& schema);

// Fresh copy of a service's schema for this test run: drops `schema`,
// forgets `service`'s rows in public.crm_schema_migrations, then applies the
// platform migrations and every file of `schema_dir` with crm::pg::Migrate,
// as crm-migrate does. Returns applied versions.
absl::StatusOr<std::vector<std::string>> ResetServiceSchema(const std::string& service,
                                                            const std::string& schema,
                                                            const std::string& schema_dir);

// ResetServiceSchema that also insists at least one migration was applied.
absl::Status ResetServiceSchemaFully(const std::string& service, const std::string& schema,
                                    const std::string& schema_dir);

// When a test binary runs outside ctest (no reset fixture), creates the
// service's schema if `probe_table` ("schema.table") is missing. Never drops
// anything: resetting is the fixture's job. Throws on failure.
void EnsureServiceSchema(const std::string& service, const std::string& schema,
                         const std::string& schema_dir, const std::string& probe_table);

// Pool on the app DSN (or the owner DSN) with test-friendly defaults.
absl::StatusOr<std::unique_ptr<crm::pg::Pool>> MakeAppPool(
    int size = 2, std::vector<crm::pg::NamedQuery> queries = {});
absl::StatusOr<std::unique_ptr<crm::pg::Pool>> MakeOwnerPool(int size = 1);

// A test binary's environment in one call: resets `schema` from
// services/<service>/schema and opens an app pool of `size` connections with
// every query of `query_sets`. Throws on failure (for a static environment).
std::unique_ptr<crm::pg::Pool> FreshSchemaPool(
    const std::string& service, const std::string& schema, int size,
    std::vector<std::vector<crm::pg::NamedQuery>> query_sets);

}  // namespace crm::test_support
