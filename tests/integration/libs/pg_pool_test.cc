// crm::pg::Pool against the private PostgreSQL (datastores fixture).
#include <atomic>
#include <chrono>
#include <string>
#include <thread>

#include <catch2/catch.hpp>
#include <pqxx/pqxx>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "libs/observability/metrics.h"
#include "libs/pg/pool.h"
#include "tests/support/pg_test_db.h"

namespace {

using absl::StatusCode;
using crm::pg::Pool;
using crm::pg::PoolOptions;
namespace ts = crm::test_support;

constexpr char kTenantA[] = "0a0a0a0a-0000-4000-8000-00000000000a";
constexpr char kTenantB[] = "0b0b0b0b-0000-4000-8000-00000000000b";

std::unique_ptr<Pool> AppPool(int size = 1, std::vector<crm::pg::NamedQuery> queries = {}) {
  auto pool = ts::MakeAppPool(size, std::move(queries));
  REQUIRE(pool.ok());
  return std::move(pool).value();
}

int64_t CountRows(Pool& pool, const std::string& table, const char* tenant) {
  int64_t n = -1;
  auto fn = [&](pqxx::work& tx) {
    n = tx.exec1(absl::StrCat("SELECT count(*) FROM ", table))[0].as<int64_t>();
    return absl::OkStatus();
  };
  absl::Status s = tenant != nullptr ? pool.WithTenantTx(tenant, fn) : pool.WithTx(fn);
  INFO(s.ToString());
  REQUIRE(s.ok());
  return n;
}

// A schema with one RLS-protected table, readable by crm_app.
std::string MakeNotesSchema() {
  const std::string schema = ts::UniqueName("t_libs_pg");
  REQUIRE(ts::RecreateSchema(schema).ok());
  // NULLIF: once set_config(..., true) has run on a session, the setting
  // reads '' (not NULL) in later transactions, and ''::uuid is an error.
  const std::string sql = absl::StrCat(
      "CREATE TABLE ", schema, ".notes(id bigserial PRIMARY KEY, tenant_id uuid NOT NULL, ",
      "  body text NOT NULL, UNIQUE (tenant_id, body));",
      "ALTER TABLE ", schema, ".notes ENABLE ROW LEVEL SECURITY;",
      "ALTER TABLE ", schema, ".notes FORCE ROW LEVEL SECURITY;",
      "CREATE POLICY tenant_isolation ON ", schema, ".notes",
      "  USING (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid)",
      "  WITH CHECK (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid);",
      "GRANT SELECT, INSERT, UPDATE, DELETE ON ", schema, ".notes TO crm_app;",
      "GRANT USAGE ON SEQUENCE ", schema, ".notes_id_seq TO crm_app;");
  absl::Status s = ts::ExecAsOwner(sql);
  INFO(s.ToString());
  REQUIRE(s.ok());
  return schema;
}

Pool::TxFn InsertNote(const std::string& schema, const std::string& tenant,
                      const std::string& body) {
  return [=](pqxx::work& tx) {
    tx.exec_params(absl::StrCat("INSERT INTO ", schema, ".notes(tenant_id, body) VALUES ($1, $2)"),
                   tenant, body);
    return absl::OkStatus();
  };
}

double HistogramCount(prometheus::Registry& registry, const std::string& family,
                      const std::string& label_value) {
  for (const auto& f : registry.Collect()) {
    if (f.name != family) continue;
    for (const auto& m : f.metric) {
      if (label_value.empty() ||
          (!m.label.empty() && m.label[0].value == label_value)) {
        return static_cast<double>(m.histogram.sample_count);
      }
    }
  }
  return -1;
}

}  // namespace

TEST_CASE("pool opens connections and pings", "[libs][pg][pool]") {
  auto pool = AppPool(2);
  CHECK(pool->size() == 2);
  CHECK(pool->Ping().ok());
  CHECK(pool->Ping().ok());
}

TEST_CASE("pool Create reports UNAVAILABLE without leaking the DSN", "[libs][pg][pool]") {
  PoolOptions o;
  o.dsn = "postgresql://crm_app:s3cr3t-pw@127.0.0.1:1/crm?connect_timeout=2";
  o.size = 2;
  auto pool = Pool::Create(o);
  REQUIRE_FALSE(pool.ok());
  CHECK(pool.status().code() == StatusCode::kUnavailable);
  const std::string msg(pool.status().message());
  CHECK(msg.find("s3cr3t") == std::string::npos);
  CHECK(msg.find("postgresql://") == std::string::npos);
  CHECK(msg.find("127.0.0.1") == std::string::npos);
}

TEST_CASE("WithTenantTx sets app.tenant_id for the transaction only", "[libs][pg][pool]") {
  auto pool = AppPool(1);
  std::string seen;
  REQUIRE(pool->WithTenantTx(kTenantA, [&](pqxx::work& tx) {
                seen = tx.exec1("SELECT current_setting('app.tenant_id')")[0].as<std::string>();
                return absl::OkStatus();
              }).ok());
  CHECK(seen == kTenantA);
  // Same (only) connection, no tenant: the LOCAL setting did not survive.
  REQUIRE(pool->WithTx([&](pqxx::work& tx) {
                seen = tx.exec1("SELECT coalesce(current_setting('app.tenant_id', true), '')")[0]
                           .as<std::string>();
                return absl::OkStatus();
              }).ok());
  CHECK(seen.empty());
  CHECK(pool->WithTenantTx("", [](pqxx::work&) { return absl::OkStatus(); }).code() ==
        StatusCode::kInvalidArgument);
}

TEST_CASE("WithTenantSnapshot reads one snapshot and writes nothing", "[libs][pg][pool]") {
  const std::string schema = MakeNotesSchema();
  const std::string table = schema + ".notes";
  auto pool = AppPool(2);
  REQUIRE(pool->WithTenantTx(kTenantA, InsertNote(schema, kTenantA, "s1")).ok());
  int64_t first = -1, second = -1;
  REQUIRE(pool->WithTenantSnapshot(kTenantA, [&](pqxx::work& tx) {
                first = tx.exec1("SELECT count(*) FROM " + table)[0].as<int64_t>();
                // Another transaction commits between the two reads ...
                absl::Status s = pool->WithTenantTx(kTenantA, InsertNote(schema, kTenantA, "s2"));
                if (!s.ok()) return s;
                second = tx.exec1("SELECT count(*) FROM " + table)[0].as<int64_t>();
                return absl::OkStatus();
              }).ok());
  CHECK(first == 1);
  CHECK(second == 1);  // ... and the second read still sees the first one's snapshot.
  CHECK(CountRows(*pool, table, kTenantA) == 2);
  absl::Status write = pool->WithTenantSnapshot(kTenantA, InsertNote(schema, kTenantA, "s3"));
  CHECK_FALSE(write.ok());  // read only
  CHECK(CountRows(*pool, table, kTenantA) == 2);
}

TEST_CASE("row-level security isolates tenants for the app role", "[libs][pg][rls]") {
  const std::string schema = MakeNotesSchema();
  const std::string table = schema + ".notes";
  auto pool = AppPool(1);  // one connection: every tx reuses the same session
  REQUIRE(pool->WithTenantTx(kTenantA, InsertNote(schema, kTenantA, "a1")).ok());
  REQUIRE(pool->WithTenantTx(kTenantA, InsertNote(schema, kTenantA, "a2")).ok());
  REQUIRE(pool->WithTenantTx(kTenantB, InsertNote(schema, kTenantB, "b1")).ok());

  CHECK(CountRows(*pool, table, kTenantA) == 2);
  CHECK(CountRows(*pool, table, kTenantB) == 1);
  CHECK(CountRows(*pool, table, nullptr) == 0);  // WithTx: no tenant, no rows

  SECTION("tenant B cannot see A's rows by id either") {
    int64_t n = -1;
    REQUIRE(pool->WithTenantTx(kTenantB, [&](pqxx::work& tx) {
                  n = tx.exec1(absl::StrCat("SELECT count(*) FROM ", table,
                                            " WHERE tenant_id = '", kTenantA, "'"))[0]
                          .as<int64_t>();
                  return absl::OkStatus();
                }).ok());
    CHECK(n == 0);
  }
  SECTION("tenant B cannot write rows for tenant A (WITH CHECK)") {
    absl::Status s = pool->WithTenantTx(kTenantB, InsertNote(schema, kTenantA, "sneaky"));
    CHECK_FALSE(s.ok());
    CHECK(s.code() == StatusCode::kInternal);  // 42501 insufficient_privilege
    CHECK(CountRows(*pool, table, kTenantA) == 2);
  }
  SECTION("the app role is not the owner and cannot bypass RLS") {
    bool bypass = true;
    bool owner = true;
    REQUIRE(pool->WithTx([&](pqxx::work& tx) {
                  auto r = tx.exec1(absl::StrCat(
                      "SELECT r.rolbypassrls OR r.rolsuper, c.relowner = r.oid ",
                      "FROM pg_roles r, pg_class c WHERE r.rolname = current_user ",
                      "AND c.oid = '", table, "'::regclass"));
                  bypass = r[0].as<bool>();
                  owner = r[1].as<bool>();
                  return absl::OkStatus();
                }).ok());
    CHECK_FALSE(bypass);
    CHECK_FALSE(owner);
  }
}

TEST_CASE("a non-OK fn rolls back and its status is returned unchanged", "[libs][pg][tx]") {
  const std::string schema = MakeNotesSchema();
  auto pool = AppPool(1);
  absl::Status s = pool->WithTenantTx(kTenantA, [&](pqxx::work& tx) {
    CHECK(InsertNote(schema, kTenantA, "doomed")(tx).ok());
    return absl::NotFoundError("customer not found");
  });
  CHECK(s.code() == StatusCode::kNotFound);
  CHECK(s.message() == "customer not found");
  CHECK(CountRows(*pool, schema + ".notes", kTenantA) == 0);
}

TEST_CASE("exceptions thrown by fn are mapped, never propagated", "[libs][pg][tx]") {
  const std::string schema = MakeNotesSchema();
  auto pool = AppPool(1);
  SECTION("unique violation -> ALREADY_EXISTS") {
    REQUIRE(pool->WithTenantTx(kTenantA, InsertNote(schema, kTenantA, "dup")).ok());
    absl::Status s = pool->WithTenantTx(kTenantA, InsertNote(schema, kTenantA, "dup"));
    CHECK(s.code() == StatusCode::kAlreadyExists);
    CHECK(std::string(s.message()).find("INSERT") == std::string::npos);
    CHECK(CountRows(*pool, schema + ".notes", kTenantA) == 1);
  }
  SECTION("syntax error -> INTERNAL without SQL") {
    absl::Status s = pool->WithTx([](pqxx::work& tx) {
      tx.exec("SELEC 1 FROM secret_table");
      return absl::OkStatus();
    });
    CHECK(s.code() == StatusCode::kInternal);
    CHECK(std::string(s.message()).find("secret_table") == std::string::npos);
  }
  SECTION("non-pqxx exception -> INTERNAL") {
    absl::Status s = pool->WithTx([](pqxx::work&) -> absl::Status {
      throw std::out_of_range("oops");
    });
    CHECK(s.code() == StatusCode::kInternal);
  }
  // The pool stays usable after every failure.
  CHECK(pool->Ping().ok());
}

TEST_CASE("serialization failures rerun fn", "[libs][pg][tx][retry]") {
  SECTION("simulated: thrown once, then success") {
    auto pool = AppPool(1);
    int calls = 0;
    absl::Status s = pool->WithTx([&](pqxx::work&) -> absl::Status {
      if (++calls == 1) throw pqxx::serialization_failure("could not serialize access");
      return absl::OkStatus();
    });
    CHECK(s.ok());
    CHECK(calls == 2);
  }
  SECTION("simulated deadlock every time: ABORTED after max_tx_attempts") {
    PoolOptions o;
    o.dsn = ts::PgAppDsn();
    o.size = 1;
    o.max_tx_attempts = 3;
    auto pool = Pool::Create(o);
    REQUIRE(pool.ok());
    int calls = 0;
    absl::Status s = (*pool)->WithTx([&](pqxx::work&) -> absl::Status {
      ++calls;
      throw pqxx::deadlock_detected("deadlock detected");
    });
    CHECK(s.code() == StatusCode::kAborted);
    CHECK(s.message() == "transaction conflict, retry");
    CHECK(calls == 3);
  }
  SECTION("real: two concurrent SERIALIZABLE transactions with write skew") {
    const std::string schema = ts::UniqueName("t_libs_ssi");
    REQUIRE(ts::RecreateSchema(schema).ok());
    REQUIRE(ts::ExecAsOwner(absl::StrCat("CREATE TABLE ", schema,
                                         ".items(id bigserial PRIMARY KEY, n bigint);",
                                         "GRANT SELECT, INSERT ON ", schema, ".items TO crm_app;",
                                         "GRANT USAGE ON SEQUENCE ", schema,
                                         ".items_id_seq TO crm_app;"))
                .ok());
    auto pool = AppPool(2);
    std::atomic<int> at_barrier{0};
    std::atomic<int> calls{0};
    std::atomic<int> finished{0};  // WithTx calls that returned (the winner committed)
    auto fn = [&](pqxx::work& tx) -> absl::Status {
      const bool first = calls.fetch_add(1) < 2;
      if (!first) {
        // A rerun starts once the winner has committed: on a loaded machine
        // it could otherwise run beside the winner's commit and lose again.
        const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(10);
        while (finished.load() < 1 && std::chrono::steady_clock::now() < give_up) {
          std::this_thread::sleep_for(std::chrono::milliseconds(1));
        }
      }
      tx.exec("SET TRANSACTION ISOLATION LEVEL SERIALIZABLE");
      const int64_t n =
          tx.exec1(absl::StrCat("SELECT count(*) FROM ", schema, ".items"))[0].as<int64_t>();
      if (first) {  // both read before either writes
        at_barrier.fetch_add(1);
        const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(10);
        while (at_barrier.load() < 2 && std::chrono::steady_clock::now() < give_up) {
          std::this_thread::sleep_for(std::chrono::milliseconds(1));
        }
      }
      tx.exec_params(absl::StrCat("INSERT INTO ", schema, ".items(n) VALUES ($1)"), n);
      return absl::OkStatus();
    };
    absl::Status s1, s2;
    std::thread t1([&] {
      s1 = pool->WithTx(fn);
      finished.fetch_add(1);
    });
    std::thread t2([&] {
      s2 = pool->WithTx(fn);
      finished.fetch_add(1);
    });
    t1.join();
    t2.join();
    CHECK(s1.ok());
    CHECK(s2.ok());
    CHECK(calls.load() == 3);  // exactly one loser, rerun once
    int64_t distinct = 0;
    REQUIRE(pool->WithTx([&](pqxx::work& tx) {
                  distinct = tx.exec1(absl::StrCat("SELECT count(DISTINCT n) FROM ", schema,
                                                   ".items"))[0]
                                 .as<int64_t>();
                  return absl::OkStatus();
                }).ok());
    CHECK(distinct == 2);  // the rerun saw the winner's row
  }
}

TEST_CASE("a terminated backend is replaced", "[libs][pg][pool][reconnect]") {
  auto pool = AppPool(1);
  auto backend_pid = [&]() {
    int pid = 0;
    absl::Status s = pool->WithTx([&](pqxx::work& tx) {
      pid = tx.exec1("SELECT pg_backend_pid()")[0].as<int>();
      return absl::OkStatus();
    });
    return std::make_pair(s, pid);
  };
  auto [s0, pid0] = backend_pid();
  REQUIRE(s0.ok());
  {
    // A role may signal backends of roles it belongs to, so a second crm_app
    // session can terminate the pool's (crm_owner is deliberately not a
    // member of crm_app and has no pg_signal_backend).
    pqxx::connection killer(ts::PgAppDsn());
    pqxx::nontransaction n(killer);
    REQUIRE(n.exec_params1("SELECT pg_terminate_backend($1)", pid0)[0].as<bool>());
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  auto [s1, pid1] = backend_pid();
  if (!s1.ok()) {
    CHECK(s1.code() == StatusCode::kUnavailable);
    auto [s2, pid2] = backend_pid();
    REQUIRE(s2.ok());
    pid1 = pid2;
  }
  CHECK(pid1 != pid0);
  CHECK(pool->Ping().ok());
}

TEST_CASE("acquire times out with RESOURCE_EXHAUSTED", "[libs][pg][pool]") {
  PoolOptions o;
  o.dsn = ts::PgAppDsn();
  o.size = 1;
  o.acquire_timeout = absl::Milliseconds(100);
  auto pool = Pool::Create(o);
  REQUIRE(pool.ok());
  absl::Status inner;
  REQUIRE((*pool)->WithTx([&](pqxx::work&) {
                inner = (*pool)->Ping();  // the only connection is leased
                return absl::OkStatus();
              }).ok());
  CHECK(inner.code() == StatusCode::kResourceExhausted);
  CHECK(inner.message() == "database pool exhausted");
  CHECK((*pool)->Ping().ok());
}

TEST_CASE("named queries are prepared and timed", "[libs][pg][pool][metrics]") {
  const std::string schema = MakeNotesSchema();
  auto metrics = crm::observability::Metrics::Create(0);
  REQUIRE(metrics.ok());
  PoolOptions o;
  o.dsn = ts::PgAppDsn();
  o.size = 2;
  o.metrics = &(*metrics)->registry();
  // Unchecked: this case covers statements prepared without a column check.
  const crm::pg::NamedQuery insert_note{
      "insert_note",
      absl::StrCat("INSERT INTO ", schema, ".notes(tenant_id, body) VALUES ($1, $2) RETURNING id"),
      crm::pg::NamedQuery::kUnchecked};
  const crm::pg::NamedQuery select_note_body{
      "select_note_body", absl::StrCat("SELECT body FROM ", schema, ".notes WHERE id = $1"),
      crm::pg::NamedQuery::kUnchecked};
  o.queries = {insert_note, select_note_body};
  auto created = Pool::Create(o);
  REQUIRE(created.ok());
  Pool& pool = **created;
  std::string body;
  REQUIRE(pool.WithTenantTx(kTenantA,
                            [&](pqxx::work& tx) {
                              const int64_t id =
                                  pool.Exec(tx, insert_note, kTenantA, "hello")[0][0].as<int64_t>();
                              pqxx::result r = pool.Exec(tx, select_note_body, id);
                              REQUIRE(r.size() == 1);
                              body = r[0][0].as<std::string>();
                              return absl::OkStatus();
                            })
              .ok());
  CHECK(body == "hello");
  auto& registry = (*metrics)->registry();
  CHECK(HistogramCount(registry, "crm_pg_query_seconds", "insert_note") == 1);
  CHECK(HistogramCount(registry, "crm_pg_query_seconds", "select_note_body") == 1);
  CHECK(HistogramCount(registry, "crm_pg_pool_wait_seconds", "") >= 1);
  // In-use gauge is back to zero once every lease is returned.
  for (const auto& f : registry.Collect()) {
    if (f.name == "crm_pg_pool_in_use") CHECK(f.metric.at(0).gauge.value == 0);
  }
}

TEST_CASE("typed queries: the columns a query declares are checked when the pool starts",
          "[libs][pg][pool]") {
  const std::string schema = MakeNotesSchema();
  const crm::pg::NamedQuery insert{
      "insert_note_typed",
      absl::StrCat("INSERT INTO ", schema, ".notes(tenant_id, body) VALUES ($1, $2) RETURNING id"),
      1};
  const crm::pg::NamedQuery select{
      "select_note_typed", absl::StrCat("SELECT id, body FROM ", schema, ".notes WHERE id = $1"),
      2};
  const crm::pg::NamedQuery update{
      "update_note_typed", absl::StrCat("UPDATE ", schema, ".notes SET body = $2 WHERE id = $1"),
      0};
  PoolOptions o;
  o.dsn = ts::PgAppDsn();
  o.size = 2;
  o.queries = {insert, select, update};
  {
    auto created = Pool::Create(o);
    INFO(created.status().ToString());
    REQUIRE(created.ok());
    Pool& pool = **created;
    std::string body;
    REQUIRE(pool.WithTenantTx(kTenantA, [&](pqxx::work& tx) {
                  const int64_t id = pool.Exec(tx, insert, kTenantA, "a")[0][0].as<int64_t>();
                  pool.Exec(tx, update, id, "b");
                  body = pool.Exec(tx, select, id)[0][1].as<std::string>();
                  return absl::OkStatus();
                }).ok());
    CHECK(body == "b");
  }
  SECTION("a statement returning another number of columns: the pool does not start") {
    o.queries = {insert, {select.name, select.sql, 3}};
    auto created = Pool::Create(o);
    CHECK(created.status().code() == absl::StatusCode::kInternal);
    CHECK(absl::StrContains(created.status().message(), "select_note_typed returns 2 columns"));
  }
  SECTION("rows read from a statement that returns none") {
    o.queries = {{update.name, update.sql, 1}};
    CHECK(Pool::Create(o).status().code() == absl::StatusCode::kInternal);
  }
  SECTION("a statement that does not prepare (a misspelt column)") {
    o.queries = {{"bad_note_typed",
                  absl::StrCat("SELECT no_such_column FROM ", schema, ".notes"), 1}};
    auto created = Pool::Create(o);
    CHECK_FALSE(created.ok());
    CHECK(created.status().code() != absl::StatusCode::kUnavailable);
  }
}
