// Row-level security of schema customer_store, checked with raw app-role
// connections (no pool, no repository): the backstop must hold even when the
// application code forgets a WHERE tenant_id.
#include <string>
#include <vector>

#include <catch2/catch.hpp>
#include <pqxx/pqxx>

#include "tests/integration/customer_store/cs_env.h"

namespace crm::customer_store::itest {
namespace {

using domain::Customer;

// Every table of the schema, whatever later migrations add.
std::vector<std::string> AllTables() {
  pqxx::connection c(ts::PgAppDsn());
  pqxx::work w(c);
  std::vector<std::string> out;
  for (const auto& row :
       w.exec("SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
              "WHERE n.nspname = 'customer_store' AND c.relkind IN ('r', 'p') ORDER BY 1")) {
    out.push_back(row[0].as<std::string>());
  }
  return out;
}

// The tables Populate() writes to.
const std::vector<std::string>& Tables() {
  static const std::vector<std::string> t = {"customers",        "identities", "consents",
                                             "interactions",     "idempotency_keys",
                                             "audit_log",        "outbox"};
  return t;
}

int64_t RawCount(pqxx::work& w, const std::string& sql) {
  return w.exec1(sql)[0].as<int64_t>();
}

// Writes one row into every table of the schema for `tenant`.
std::string Populate(const std::string& tenant) {
  Customer c = NewCustomer("Secret", {UniqueEmail("rls")});
  app::Actor actor = ActorOf(tenant, "CreateCustomer");
  actor.idempotency_key = common::NewUuid();  // writes idempotency_keys
  auto r = Insert(Repo(), actor, c);
  INFO(r.status().ToString());
  REQUIRE(r.ok());
  domain::Consent k;
  k.channel = domain::ConsentChannel::kEmail;
  k.purpose = domain::ConsentPurpose::kMarketing;
  k.status = domain::ConsentStatus::kOptedIn;
  k.record_time = absl::FromUnixMicros(1700000000000000);
  REQUIRE(AppendConsent(Repo(), ActorOf(tenant, "RecordConsent"), c.id, k).ok());
  domain::Interaction i;
  i.id = common::NewUuid();
  i.kind = domain::InteractionKind::kNote;
  i.occur_time = absl::FromUnixMicros(1700000000000000);
  REQUIRE(AppendInteraction(Repo(), ActorOf(tenant, "CreateInteraction"), c.id, i).ok());
  for (const auto& t : Tables()) {
    INFO(t);
    REQUIRE(CountIn(tenant, "SELECT count(*) FROM customer_store." + t) > 0);
  }
  return c.id;
}

TEST_CASE("RLS hides every row without a tenant", "[customer_store][rls]") {
  const std::string tenant = NewTenant();
  Populate(tenant);

  const std::vector<std::string> all = AllTables();
  REQUIRE(all.size() >= Tables().size());
  pqxx::connection conn(ts::PgAppDsn());
  SECTION("fresh session: app.tenant_id never set") {
    pqxx::work w(conn);
    for (const auto& t : all) {
      INFO(t);
      CHECK(RawCount(w, "SELECT count(*) FROM customer_store." + t) == 0);
    }
  }
  SECTION("after a transaction that set the tenant locally") {
    {
      pqxx::work w(conn);
      w.exec_params("SELECT set_config('app.tenant_id', $1, true)", tenant);
      CHECK(RawCount(w, "SELECT count(*) FROM customer_store.customers") == 1);
      w.commit();
    }
    pqxx::work w(conn);
    for (const auto& t : all) {
      INFO(t);
      CHECK(RawCount(w, "SELECT count(*) FROM customer_store." + t) == 0);
    }
  }
  SECTION("app.relay opens the outbox only") {
    pqxx::work w(conn);
    w.exec("SELECT set_config('app.relay', 'on', true)");
    for (const auto& t : Tables()) {
      INFO(t);
      const int64_t n = RawCount(w, absl::StrCat("SELECT count(*) FROM customer_store.", t,
                                                 " WHERE tenant_id = '", tenant, "'"));
      if (t == "outbox") {
        CHECK(n == 3);
      } else {
        CHECK(n == 0);
      }
    }
    // The relay may read and stamp, not delete: only the purge deletes
    // outbox rows (app.maintenance, published rows only).
    CHECK(w.exec_params("DELETE FROM customer_store.outbox WHERE tenant_id = $1", tenant)
              .affected_rows() == 0);
    CHECK(RawCount(w, absl::StrCat("SELECT count(*) FROM customer_store.outbox WHERE tenant_id = '",
                                   tenant, "'")) == 3);
  }
  SECTION("in its own tenant the app role deletes no outbox row") {
    pqxx::work w(conn);
    w.exec_params("SELECT set_config('app.tenant_id', $1, true)", tenant);
    CHECK(w.exec("DELETE FROM customer_store.outbox").affected_rows() == 0);
    CHECK(RawCount(w, "SELECT count(*) FROM customer_store.outbox") == 3);
  }
}

TEST_CASE("RLS scopes every table to the session's tenant", "[customer_store][rls]") {
  const std::string a = NewTenant(), b = NewTenant();
  const std::string customer_of_a = Populate(a);
  pqxx::connection conn(ts::PgAppDsn());

  SECTION("tenant B sees none of A's rows") {
    const std::vector<std::string> all = AllTables();
    pqxx::work w(conn);
    w.exec_params("SELECT set_config('app.tenant_id', $1, true)", b);
    for (const auto& t : all) {
      INFO(t);
      CHECK(RawCount(w, absl::StrCat("SELECT count(*) FROM customer_store.", t,
                                     " WHERE tenant_id = '", a, "'")) == 0);
      CHECK(RawCount(w, "SELECT count(*) FROM customer_store." + t) == 0);
    }
    // Updates and deletes of A's rows touch nothing.
    CHECK(w.exec_params("UPDATE customer_store.customers SET given_name = 'x' WHERE id = $1",
                        customer_of_a)
              .affected_rows() == 0);
    CHECK(w.exec_params("DELETE FROM customer_store.customers WHERE id = $1", customer_of_a)
              .affected_rows() == 0);
    w.commit();
    auto still = Repo().Get(a, customer_of_a);
    REQUIRE(still.ok());
    CHECK(still->given_name == "Secret");
  }

  SECTION("WITH CHECK: B cannot insert a row for A") {
    pqxx::work w(conn);
    w.exec_params("SELECT set_config('app.tenant_id', $1, true)", b);
    const std::string sqlstate = SqlStateOf([&] {
      w.exec_params("INSERT INTO customer_store.customers (tenant_id, id) VALUES ($1, $2)", a,
                    common::NewUuid());
    });
    CHECK(sqlstate == "42501");  // insufficient_privilege: violates row-level security
  }

  SECTION("WITH CHECK: B cannot move its row to A") {
    {
      pqxx::work w(conn);
      w.exec_params("SELECT set_config('app.tenant_id', $1, true)", b);
      w.exec_params("INSERT INTO customer_store.audit_log (tenant_id, principal, method, "
                    "resource, outcome) VALUES ($1, 'p', 'm', 'r', 'OK')",
                    b);
      w.commit();
    }
    pqxx::work w(conn);
    w.exec_params("SELECT set_config('app.tenant_id', $1, true)", b);
    const std::string sqlstate = SqlStateOf([&] {
      w.exec_params("UPDATE customer_store.audit_log SET tenant_id = $1", a);
    });
    CHECK(sqlstate == "42501");
  }

  SECTION("no tenant: inserts are refused too") {
    pqxx::work w(conn);
    const std::string sqlstate = SqlStateOf([&] {
      w.exec_params("INSERT INTO customer_store.consents (tenant_id, customer_id, channel, "
                    "purpose, status, recorded_at) VALUES ($1, $2, 1, 1, 1, now())",
                    a, customer_of_a);
    });
    CHECK(sqlstate == "42501");
  }
}

TEST_CASE("The app role owns nothing and RLS is forced", "[customer_store][rls]") {
  EnsureSchema();
  pqxx::connection conn(ts::PgAppDsn());
  pqxx::work w(conn);
  CHECK(w.exec1("SELECT current_user")[0].as<std::string>() == "crm_app");
  pqxx::row role = w.exec1(
      "SELECT rolsuper, rolbypassrls FROM pg_roles WHERE rolname = current_user");
  CHECK_FALSE(role[0].as<bool>());
  CHECK_FALSE(role[1].as<bool>());
  pqxx::result r = w.exec(
      "SELECT c.relname, pg_get_userbyid(c.relowner), c.relrowsecurity, c.relforcerowsecurity "
      "FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
      "WHERE n.nspname = 'customer_store' AND c.relkind = 'r' ORDER BY 1");
  REQUIRE(r.size() >= Tables().size());
  for (const auto& row : r) {
    INFO(row[0].as<std::string>());
    CHECK(row[1].as<std::string>() == "crm_owner");
    CHECK(row[2].as<bool>());
    CHECK(row[3].as<bool>());
  }
  CHECK(w.exec1("SELECT pg_get_userbyid(nspowner) FROM pg_namespace WHERE nspname = "
                "'customer_store'")[0]
            .as<std::string>() == "crm_owner");
  // The app role cannot change the policies or the tables.
  const std::string sqlstate = SqlStateOf([&] {
    w.exec("ALTER TABLE customer_store.customers DISABLE ROW LEVEL SECURITY");
  });
  CHECK(sqlstate == "42501");
}

}  // namespace
}  // namespace crm::customer_store::itest
