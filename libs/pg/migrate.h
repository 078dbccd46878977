#pragma once
// Migrations: ordered SQL files (NNN_name.sql) of one service schema, each
// applied once inside its own transaction and recorded in
// public.crm_schema_migrations(service, version, name, applied_at). The
// platform's own tables (outbox, audit log, idempotency keys, processed
// events) are migrations shipped by the libraries (libs/outbox
// platform_schema.h): applied into the service's schema before its files and
// recorded the same way. A session-level advisory lock serializes concurrent
// migrators. Run as the owner role, never as the app role.
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace crm::pg {

// A migration shipped in code. `sql` may name the target schema as
// {schema}; `version` must not collide with a file version (platform
// versions are "platform-NNN").
struct Migration {
  std::string version;
  std::string name;
  std::string sql;
};

struct MigrationPlan {
  std::string service;  // key in crm_schema_migrations
  std::string schema;   // the service's PostgreSQL schema: replaces {schema}
  std::vector<Migration> platform;  // applied first, in this order
  std::string dir;      // the service's own NNN_*.sql files
};

// The schema a service's migration folder declares: the first line of
// <dir>/SCHEMA (e.g. "txn"). INVALID_ARGUMENT when the file is missing or
// does not hold a lower-case identifier.
absl::StatusOr<std::string> ReadSchemaName(const std::string& dir);

// Returns the versions applied by this call (empty when up to date).
// INVALID_ARGUMENT for a schema that is not a lower-case identifier (when
// platform migrations are given), a bad file name or a duplicate version.
absl::StatusOr<std::vector<std::string>> Migrate(const std::string& owner_dsn,
                                                 const MigrationPlan& plan);
// The files of `dir` only (no platform migrations).
absl::StatusOr<std::vector<std::string>> Migrate(const std::string& owner_dsn,
                                                 const std::string& service,
                                                 const std::string& dir);

}  // namespace crm::pg
