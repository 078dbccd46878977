#include "libs/pg/migrate.h"

#include <algorithm>
#include <exception>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include <pqxx/pqxx>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/strip.h"
#include "libs/observability/log.h"
#include "libs/pg/errors.h"

namespace crm::pg {
namespace {

namespace fs = std::filesystem;

struct MigrationFile {
  std::string version;
  std::string name;  // file name, e.g. 001_init.sql
  fs::path path;
  const Migration* embedded = nullptr;  // a platform migration: no file
};

bool IsSchemaIdentifier(const std::string& s) {
  if (s.empty() || s.size() > 63 || absl::ascii_isdigit(static_cast<unsigned char>(s[0]))) {
    return false;
  }
  return std::all_of(s.begin(), s.end(), [](char c) {
    return absl::ascii_islower(static_cast<unsigned char>(c)) ||
           absl::ascii_isdigit(static_cast<unsigned char>(c)) || c == '_';
  });
}

std::string FirstLine(const char* what) {
  std::string s(what == nullptr ? "" : what);
  if (auto pos = s.find('\n'); pos != std::string::npos) s.resize(pos);
  return s;
}

absl::StatusOr<std::vector<MigrationFile>> ListMigrations(const std::string& dir) {
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) {
    return absl::InvalidArgumentError(absl::StrCat("migration directory not found: ", dir));
  }
  std::vector<MigrationFile> files;
  for (const fs::directory_entry& entry : fs::directory_iterator(dir, ec)) {
    if (!entry.is_regular_file() || entry.path().extension() != ".sql") continue;
    std::string name = entry.path().filename().string();
    const size_t underscore = name.find('_');
    std::string version = name.substr(0, underscore == std::string::npos ? 0 : underscore);
    if (version.empty() ||
        !std::all_of(version.begin(), version.end(),
                     [](char c) { return absl::ascii_isdigit(static_cast<unsigned char>(c)); })) {
      return absl::InvalidArgumentError(
          absl::StrCat("migration file name must start with NNN_: ", name));
    }
    files.push_back({std::move(version), std::move(name), entry.path()});
  }
  if (ec) return absl::InvalidArgumentError(absl::StrCat("cannot list migration directory: ", dir));
  std::sort(files.begin(), files.end(),
            [](const MigrationFile& a, const MigrationFile& b) { return a.name < b.name; });
  std::set<std::string> seen;
  for (const MigrationFile& f : files) {
    if (!seen.insert(f.version).second) {
      return absl::InvalidArgumentError(
          absl::StrCat("duplicate migration version ", f.version, ": ", f.name));
    }
  }
  return files;
}

absl::StatusOr<std::string> ReadFile(const MigrationFile& f, const std::string& schema) {
  if (f.embedded != nullptr) return absl::StrReplaceAll(f.embedded->sql, {{"{schema}", schema}});
  std::ifstream in(f.path, std::ios::binary);
  if (!in) return absl::InvalidArgumentError(absl::StrCat("cannot read migration ", f.name));
  std::ostringstream buf;
  buf << in.rdbuf();
  return buf.str();
}

// Session-level advisory lock, released on every exit path (and by the
// server anyway when the session ends).
class AdvisoryLock final {
 public:
  explicit AdvisoryLock(pqxx::connection& c) : c_(c) {
    pqxx::nontransaction n(c_);
    n.exec("SELECT pg_advisory_lock(hashtext('crm_migrate'))");
  }
  ~AdvisoryLock() {
    try {
      if (!c_.is_open()) return;
      pqxx::nontransaction n(c_);
      n.exec("SELECT pg_advisory_unlock(hashtext('crm_migrate'))");
    } catch (const std::exception& e) {
      // Closing the session releases the lock anyway; nothing else to do.
      CRM_LOG(Warning).Field("component", "pg") << "advisory unlock failed: " << FirstLine(e.what());
    }
  }
  AdvisoryLock(const AdvisoryLock&) = delete;
  AdvisoryLock& operator=(const AdvisoryLock&) = delete;

 private:
  pqxx::connection& c_;
};

}  // namespace

absl::StatusOr<std::string> ReadSchemaName(const std::string& dir) {
  std::ifstream in(fs::path(dir) / "SCHEMA");
  std::string name;
  if (!in || !std::getline(in, name)) {
    return absl::InvalidArgumentError(absl::StrCat("cannot read ", dir, "/SCHEMA"));
  }
  name = std::string(absl::StripAsciiWhitespace(name));
  if (!IsSchemaIdentifier(name)) {
    return absl::InvalidArgumentError(
        absl::StrCat(dir, "/SCHEMA must hold a lower-case identifier, not '", name, "'"));
  }
  return name;
}

absl::StatusOr<std::vector<std::string>> Migrate(const std::string& owner_dsn,
                                                 const std::string& service,
                                                 const std::string& dir) {
  return Migrate(owner_dsn, MigrationPlan{service, "", {}, dir});
}

absl::StatusOr<std::vector<std::string>> Migrate(const std::string& owner_dsn,
                                                 const MigrationPlan& plan) {
  const std::string& service = plan.service;
  if (service.empty()) return absl::InvalidArgumentError("migration service name is empty");
  if (!plan.platform.empty() && !IsSchemaIdentifier(plan.schema)) {
    return absl::InvalidArgumentError(
        absl::StrCat("schema must be a lower-case identifier: '", plan.schema, "'"));
  }
  absl::StatusOr<std::vector<MigrationFile>> own = ListMigrations(plan.dir);
  if (!own.ok()) return own.status();
  std::vector<MigrationFile> files;
  std::set<std::string> versions;
  for (const Migration& m : plan.platform) {
    if (!versions.insert(m.version).second) {
      return absl::InvalidArgumentError(absl::StrCat("duplicate migration version ", m.version));
    }
    files.push_back({m.version, m.name, {}, &m});
  }
  for (MigrationFile& f : *own) {
    if (!versions.insert(f.version).second) {
      return absl::InvalidArgumentError(
          absl::StrCat("migration version ", f.version, " is a platform version: ", f.name));
    }
    files.push_back(std::move(f));
  }

  std::unique_ptr<pqxx::connection> conn;
  try {
    conn = std::make_unique<pqxx::connection>(owner_dsn);
  } catch (const std::exception& e) {
    CRM_LOG(Warning).Field("component", "pg").Field("migration_service", service)
        << "migrate: cannot connect: " << FirstLine(e.what());
    return absl::UnavailableError("database unavailable");
  }

  std::vector<std::string> applied_now;
  try {
    AdvisoryLock lock(*conn);
    std::set<std::string> done;
    {
      pqxx::work w(*conn);
      w.exec(
          "CREATE TABLE IF NOT EXISTS public.crm_schema_migrations("
          "service text NOT NULL, version text NOT NULL, name text NOT NULL, "
          "applied_at timestamptz NOT NULL DEFAULT now(), PRIMARY KEY (service, version))");
      pqxx::result r = w.exec_params(
          "SELECT version FROM public.crm_schema_migrations WHERE service = $1", service);
      for (const auto& row : r) done.insert(row[0].as<std::string>());
      w.commit();
    }
    for (const MigrationFile& f : files) {
      if (done.count(f.version) != 0) continue;
      absl::StatusOr<std::string> sql = ReadFile(f, plan.schema);
      if (!sql.ok()) return sql.status();
      try {
        pqxx::work w(*conn);
        w.exec(*sql);
        w.exec_params(
            "INSERT INTO public.crm_schema_migrations(service, version, name) "
            "VALUES ($1, $2, $3)",
            service, f.version, f.name);
        w.commit();
      } catch (const pqxx::broken_connection& e) {
        CRM_LOG(Error).Field("component", "pg").Field("migration_service", service).Field("file", f.name)
            << "migration lost its connection: " << FirstLine(e.what());
        return absl::UnavailableError(absl::StrCat("database unavailable while applying ", f.name));
      } catch (const std::exception& e) {
        CRM_LOG(Error)
                .Field("component", "pg")
                .Field("migration_service", service)
                .Field("file", f.name)
                .Field("sqlstate", SqlState(e))
            << "migration failed: " << FirstLine(e.what());
        return absl::FailedPreconditionError(absl::StrCat("migration ", f.name, " failed"));
      }
      CRM_LOG(Info).Field("component", "pg").Field("migration_service", service).Field("file", f.name)
          << "migration applied";
      applied_now.push_back(f.version);
    }
  } catch (const std::exception& e) {
    return FromPqxxException(e);
  }
  return applied_now;
}

}  // namespace crm::pg
