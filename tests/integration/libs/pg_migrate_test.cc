// crm::pg::Migrate against the private PostgreSQL (datastores fixture).
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <catch2/catch.hpp>
#include <pqxx/pqxx>

#include "absl/strings/str_cat.h"
#include "libs/pg/migrate.h"
#include "tests/support/pg_test_db.h"

namespace {

namespace fs = std::filesystem;
namespace ts = crm::test_support;
using absl::StatusCode;
using Versions = std::vector<std::string>;

// A scratch folder of migration files, removed at scope exit.
class MigrationDir final {
 public:
  MigrationDir() : path_(fs::temp_directory_path() / ts::UniqueName("crm_migrations")) {
    fs::create_directories(path_);
  }
  ~MigrationDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  MigrationDir(const MigrationDir&) = delete;
  MigrationDir& operator=(const MigrationDir&) = delete;

  void Write(const std::string& name, const std::string& sql) const {
    std::ofstream(path_ / name) << sql;
  }
  std::string path() const { return path_.string(); }

 private:
  fs::path path_;
};

std::vector<std::pair<std::string, std::string>> Recorded(const std::string& service) {
  pqxx::connection c(ts::PgOwnerDsn());
  pqxx::work w(c);
  std::vector<std::pair<std::string, std::string>> out;
  for (const auto& row : w.exec_params(
           "SELECT version, name FROM public.crm_schema_migrations WHERE service = $1 "
           "ORDER BY version",
           service)) {
    out.emplace_back(row[0].as<std::string>(), row[1].as<std::string>());
  }
  return out;
}

bool TableExists(const std::string& qualified) {
  pqxx::connection c(ts::PgOwnerDsn());
  pqxx::work w(c);
  return w.exec_params1("SELECT to_regclass($1) IS NOT NULL", qualified)[0].as<bool>();
}

}  // namespace

TEST_CASE("Migrate applies files once, in filename order", "[libs][pg][migrate]") {
  const std::string service = ts::UniqueName("svc");
  const std::string schema = ts::UniqueName("t_libs_mig");
  REQUIRE(ts::RecreateSchema(schema).ok());
  MigrationDir dir;
  // 002 depends on 001 and 010 on 002: only filename order makes this work.
  dir.Write("010_add_index.sql", absl::StrCat("CREATE INDEX ON ", schema, ".things(label);"));
  dir.Write("001_init.sql", absl::StrCat("CREATE TABLE ", schema,
                                         ".things(id bigint PRIMARY KEY);\n"
                                         "-- several statements in one file\n"
                                         "COMMENT ON TABLE ",
                                         schema, ".things IS 'x';"));
  dir.Write("002_label.sql", absl::StrCat("ALTER TABLE ", schema, ".things ADD label text;"));
  dir.Write("README.md", "not a migration");

  auto first = crm::pg::Migrate(ts::PgOwnerDsn(), service, dir.path());
  INFO(first.status().ToString());
  REQUIRE(first.ok());
  CHECK(*first == Versions{"001", "002", "010"});
  CHECK(Recorded(service) == std::vector<std::pair<std::string, std::string>>{
                                 {"001", "001_init.sql"},
                                 {"002", "002_label.sql"},
                                 {"010", "010_add_index.sql"}});

  auto second = crm::pg::Migrate(ts::PgOwnerDsn(), service, dir.path());
  REQUIRE(second.ok());
  CHECK(second->empty());

  SECTION("a failing file rolls back, is not recorded, and is named") {
    dir.Write("011_bad.sql", absl::StrCat("CREATE TABLE ", schema,
                                          ".half_done(id int);\n"
                                          "SELECT * FROM no_such_table_anywhere;"));
    auto bad = crm::pg::Migrate(ts::PgOwnerDsn(), service, dir.path());
    REQUIRE_FALSE(bad.ok());
    CHECK(bad.status().code() == StatusCode::kFailedPrecondition);
    CHECK(std::string(bad.status().message()).find("011_bad.sql") != std::string::npos);
    CHECK(std::string(bad.status().message()).find("no_such_table") == std::string::npos);
    CHECK_FALSE(TableExists(schema + ".half_done"));
    CHECK(Recorded(service).size() == 3);

    // Fixing the file lets the next run apply just it.
    dir.Write("011_bad.sql", absl::StrCat("CREATE TABLE ", schema, ".half_done(id int);"));
    auto fixed = crm::pg::Migrate(ts::PgOwnerDsn(), service, dir.path());
    REQUIRE(fixed.ok());
    CHECK(*fixed == Versions{"011"});
    CHECK(TableExists(schema + ".half_done"));
  }
  SECTION("services are tracked independently") {
    auto other = crm::pg::Migrate(ts::PgOwnerDsn(), ts::UniqueName("svc_other"),
                                  MigrationDir().path());
    REQUIRE(other.ok());
    CHECK(other->empty());
  }
}

TEST_CASE("Migrate validates its inputs", "[libs][pg][migrate]") {
  SECTION("missing directory -> INVALID_ARGUMENT") {
    auto r = crm::pg::Migrate(ts::PgOwnerDsn(), "svc", "/nonexistent/crm/schema");
    CHECK(r.status().code() == StatusCode::kInvalidArgument);
  }
  SECTION("file without a numeric prefix -> INVALID_ARGUMENT") {
    MigrationDir dir;
    dir.Write("init.sql", "SELECT 1;");
    auto r = crm::pg::Migrate(ts::PgOwnerDsn(), ts::UniqueName("svc"), dir.path());
    CHECK(r.status().code() == StatusCode::kInvalidArgument);
  }
  SECTION("duplicate versions -> INVALID_ARGUMENT") {
    MigrationDir dir;
    dir.Write("001_a.sql", "SELECT 1;");
    dir.Write("001_b.sql", "SELECT 1;");
    auto r = crm::pg::Migrate(ts::PgOwnerDsn(), ts::UniqueName("svc"), dir.path());
    CHECK(r.status().code() == StatusCode::kInvalidArgument);
  }
  SECTION("unreachable server -> UNAVAILABLE without the DSN") {
    MigrationDir dir;
    dir.Write("001_a.sql", "SELECT 1;");
    auto r = crm::pg::Migrate("postgresql://crm_owner:pw-secret@127.0.0.1:1/crm", "svc",
                              dir.path());
    CHECK(r.status().code() == StatusCode::kUnavailable);
    CHECK(std::string(r.status().message()).find("pw-secret") == std::string::npos);
  }
}

TEST_CASE("ResetServiceSchema gives a fresh schema each run", "[libs][pg][migrate][support]") {
  const std::string service = ts::UniqueName("svc_reset");
  const std::string schema = ts::UniqueName("t_libs_reset");
  MigrationDir dir;
  dir.Write("001_init.sql", absl::StrCat("CREATE SCHEMA IF NOT EXISTS ", schema,
                                         "; CREATE TABLE ", schema, ".t(id int);"));
  auto a = ts::ResetServiceSchema(service, schema, dir.path());
  REQUIRE(a.ok());
  // The platform's tables first, as crm-migrate applies them.
  CHECK(*a == Versions{"platform-001", "platform-002", "platform-003", "001"});
  REQUIRE(ts::ExecAsOwner(absl::StrCat("INSERT INTO ", schema, ".t VALUES (1)")).ok());
  auto b = ts::ResetServiceSchema(service, schema, dir.path());
  REQUIRE(b.ok());
  CHECK(*b ==
        Versions{"platform-001", "platform-002", "platform-003", "001"});  // dropped and re-applied
  pqxx::connection c(ts::PgOwnerDsn());
  pqxx::work w(c);
  CHECK(w.exec1(absl::StrCat("SELECT count(*) FROM ", schema, ".t"))[0].as<int>() == 0);
}
