// crm-migrate --dsn OWNER_DSN --service NAME --dir DIR [--schema SCHEMA]
// Applies, as the owner role (never the app role), the platform's migrations
// (libs/outbox/platform_schema.h) into the service's PostgreSQL schema (the
// one DIR/SCHEMA names, unless --schema is given), then DIR's own files.
#include <cstring>
#include <iostream>
#include <string>

#include "absl/strings/str_join.h"
#include "libs/observability/log.h"
#include "libs/outbox/platform_schema.h"
#include "libs/pg/migrate.h"

int main(int argc, char** argv) {
  crm::observability::InitLogging("crm-migrate");
  std::string dsn, service, schema, dir;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!std::strcmp(argv[i], "--dsn")) {
      dsn = argv[i + 1];
    } else if (!std::strcmp(argv[i], "--service")) {
      service = argv[i + 1];
    } else if (!std::strcmp(argv[i], "--schema")) {
      schema = argv[i + 1];
    } else if (!std::strcmp(argv[i], "--dir")) {
      dir = argv[i + 1];
    } else {
      std::cerr << "unknown flag " << argv[i] << "\n";
      return 2;
    }
  }
  if (dsn.empty()) {
    const char* env = std::getenv("CRM_PG_OWNER_DSN");
    if (env) dsn = env;
  }
  if (dsn.empty() || service.empty() || dir.empty()) {
    std::cerr << "usage: crm-migrate --dsn OWNER_DSN (or CRM_PG_OWNER_DSN) --service NAME "
                 "--dir DIR [--schema SCHEMA]\n";
    return 2;
  }
  if (schema.empty()) {
    auto declared = crm::pg::ReadSchemaName(dir);
    if (!declared.ok()) {
      CRM_LOG(Error).Field("migration_service", service) << declared.status();
      return 1;
    }
    schema = *declared;
  }
  auto applied = crm::pg::Migrate(
      dsn, crm::pg::MigrationPlan{service, schema, crm::outbox::PlatformMigrations(), dir});
  if (!applied.ok()) {
    CRM_LOG(Error).Field("migration_service", service) << applied.status();
    return 1;
  }
  CRM_LOG(Info).Field("migration_service", service)
      << (applied->empty() ? std::string("up to date")
                           : "applied " + absl::StrJoin(*applied, ","));
  return 0;
}
