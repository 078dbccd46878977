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
#include "libs/observability/log.h"
#include "libs/pg/errors.h"

namespace crm::pg {
namespace {

namespace fs = std::filesystem;

struct MigrationFile {
  std::string version;
  std::string name;  // file name, e.g. 001_init.sql
  fs::path path;
};

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

absl::StatusOr<std::string> ReadFile(const MigrationFile& f) {
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

absl::StatusOr<std::vector<std::string>> Migrate(const std::string& owner_dsn,
                                                 const std::string& service,
                                                 const std::string& dir) {
  if (service.empty()) return absl::InvalidArgumentError("migration service name is empty");
  absl::StatusOr<std::vector<MigrationFile>> files = ListMigrations(dir);
  if (!files.ok()) return files.status();

  std::unique_ptr<pqxx::connection> conn;
  try {
    conn = std::make_unique<pqxx::connection>(owner_dsn);
  } catch (const std::exception& e) {
    CRM_LOG(Warning).Field("component", "pg").Field("service", service)
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
    for (const MigrationFile& f : *files) {
      if (done.count(f.version) != 0) continue;
      absl::StatusOr<std::string> sql = ReadFile(f);
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
        CRM_LOG(Error).Field("component", "pg").Field("service", service).Field("file", f.name)
            << "migration lost its connection: " << FirstLine(e.what());
        return absl::UnavailableError(absl::StrCat("database unavailable while applying ", f.name));
      } catch (const std::exception& e) {
        CRM_LOG(Error)
                .Field("component", "pg")
                .Field("service", service)
                .Field("file", f.name)
                .Field("sqlstate", SqlState(e))
            << "migration failed: " << FirstLine(e.what());
        return absl::FailedPreconditionError(absl::StrCat("migration ", f.name, " failed"));
      }
      CRM_LOG(Info).Field("component", "pg").Field("service", service).Field("file", f.name)
          << "migration applied";
      applied_now.push_back(f.version);
    }
  } catch (const std::exception& e) {
    return FromPqxxException(e);
  }
  return applied_now;
}

}  // namespace crm::pg
