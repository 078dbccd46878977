#pragma once
// Migrations: ordered SQL files (NNN_name.sql) of one service schema, each
// applied once inside its own transaction and recorded in
// public.crm_schema_migrations(service, version, name, applied_at). A
// session-level advisory lock serializes concurrent migrators. Run as the
// owner role, never as the app role.
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace crm::pg {

// Returns the versions applied by this call (empty when up to date).
absl::StatusOr<std::vector<std::string>> Migrate(const std::string& owner_dsn,
                                                 const std::string& service,
                                                 const std::string& dir);

}  // namespace crm::pg
