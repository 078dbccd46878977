// PgKeyStore against the private PostgreSQL (app role, RLS on).
#include <algorithm>
#include <set>
#include <string>
#include <vector>

#include <catch2/catch.hpp>
#include <pqxx/pqxx>

#include "libs/common/errors.h"
#include "tests/integration/gateway_storage/gw_env.h"

namespace crm::gateway::itest {
namespace {

using absl::StatusCode;

app::KeyRecord FindOk(const std::string& id) {
  auto r = Keys().FindKey(id);
  INFO(r.status().ToString());
  REQUIRE(r.ok());
  REQUIRE(r->has_value());
  return **r;
}

TEST_CASE("CreateTenant then FindKey round-trips the key", "[gateway][keystore]") {
  std::string name;
  app::KeyRecord first = NewTenantWithKey(1700000000654321, &name);
  app::KeyRecord got = FindOk(first.id);
  CHECK(got.id == first.id);
  CHECK(got.tenant_id == first.tenant_id);
  CHECK(got.display_name == first.display_name);
  CHECK(got.roles == std::vector<domain::Role>{domain::Role::kAdmin});
  CHECK(got.secret_sha256.size() == 32);
  CHECK(got.secret_sha256 == first.secret_sha256);
  CHECK(got.rate_limit_per_second == 10);
  CHECK(got.create_time == absl::FromUnixMicros(1700000000654321));
  CHECK(got.expire_time == absl::InfiniteFuture());
  CHECK(got.revoke_time == absl::InfiniteFuture());

  SECTION("a second key with several roles, an expiry and its own rate") {
    app::KeyRecord k = NewKey(first.tenant_id, 1700000001000000);
    k.roles = {domain::Role::kSales, domain::Role::kReadOnly, domain::Role::kIntegration};
    k.expire_time = absl::FromUnixMicros(1800000000123456);
    k.rate_limit_per_second = 250;
    k.secret_sha256 = HashBytes(0xf0);
    REQUIRE(InsertKey(k, "user:itest").ok());
    app::KeyRecord g = FindOk(k.id);
    CHECK(g.tenant_id == first.tenant_id);
    CHECK(g.roles == k.roles);
    CHECK(g.expire_time == k.expire_time);
    CHECK(g.rate_limit_per_second == 250);
    CHECK(g.secret_sha256 == k.secret_sha256);
    CHECK(g.secret_sha256 != first.secret_sha256);
  }

  SECTION("unknown key id is absent, not an error") {
    auto r = Keys().FindKey(NewKeyId());
    REQUIRE(r.ok());
    CHECK_FALSE(r->has_value());
  }

  SECTION("FindTenantByName") {
    auto t = Keys().FindTenantByName(name);
    INFO(t.status().ToString());
    REQUIRE(t.ok());
    REQUIRE(t->has_value());
    CHECK((*t)->id == first.tenant_id);
    CHECK((*t)->display_name == name);
    CHECK((*t)->create_time == absl::FromUnixMicros(1700000000654321));
    auto none = Keys().FindTenantByName(name + "-nope");
    REQUIRE(none.ok());
    CHECK_FALSE(none->has_value());
  }

  SECTION("creating the same tenant twice fails and adds no key") {
    app::Tenant t{first.tenant_id, "dup", absl::Now()};
    app::KeyRecord k = NewKey(first.tenant_id, 1700000002000000);
    absl::Status s = CreateTenant(t, k, "platform:itest");
    CHECK_FALSE(s.ok());
    auto r = Keys().FindKey(k.id);
    REQUIRE(r.ok());
    CHECK_FALSE(r->has_value());
  }

  SECTION("a key for a tenant other than the session's is refused (WITH CHECK)") {
    app::KeyRecord other_first = NewTenantWithKey();
    app::KeyRecord k = NewKey(other_first.tenant_id, 1700000003000000);
    app::Tenant t{common::NewUuid(), ts::UniqueName("tenant_mismatch"), absl::Now()};
    absl::Status s = CreateTenant(t, k, "platform:itest");
    CHECK_FALSE(s.ok());
    auto r = Keys().FindKey(k.id);
    REQUIRE(r.ok());
    CHECK_FALSE(r->has_value());
  }
}

TEST_CASE("ListKeys pages by (create_time, id) within one tenant", "[gateway][keystore]") {
  app::KeyRecord first = NewTenantWithKey(1700000000000000);
  const std::string tenant = first.tenant_id;
  std::vector<app::KeyRecord> keys = {first};
  // Three keys share one creation time: the id orders them.
  for (int64_t t : {1700000005000000, 1700000002000000, 1700000002000000, 1700000002000000,
                    1700000009000000}) {
    app::KeyRecord k = NewKey(tenant, t);
    REQUIRE(InsertKey(k, "user:itest").ok());
    keys.push_back(k);
  }
  std::sort(keys.begin(), keys.end(), [](const app::KeyRecord& a, const app::KeyRecord& b) {
    if (a.create_time != b.create_time) return a.create_time < b.create_time;
    return a.id < b.id;
  });
  // Another tenant's keys never show up.
  app::KeyRecord foreign = NewTenantWithKey(1700000003000000);

  std::vector<std::string> seen;
  std::string after;
  int pages = 0;
  for (; pages < 20; ++pages) {
    auto page = Keys().ListKeys(tenant, after, 2);
    INFO(page.status().ToString());
    REQUIRE(page.ok());
    if (page->empty()) break;
    REQUIRE(page->size() <= 2);
    for (const auto& k : *page) {
      CHECK(k.tenant_id == tenant);
      seen.push_back(k.id);
    }
    after = page->back().id;
  }
  CHECK(pages == 3);
  std::vector<std::string> expected;
  for (const auto& k : keys) expected.push_back(k.id);
  CHECK(seen == expected);

  SECTION("a cursor of another tenant's key yields nothing") {
    auto page = Keys().ListKeys(tenant, foreign.id, 10);
    REQUIRE(page.ok());
    CHECK(page->empty());
  }
  SECTION("the other tenant sees only its own key") {
    auto page = Keys().ListKeys(foreign.tenant_id, "", 10);
    REQUIRE(page.ok());
    REQUIRE(page->size() == 1);
    CHECK((*page)[0].id == foreign.id);
  }
}

TEST_CASE("RevokeKey is tenant-scoped", "[gateway][keystore]") {
  app::KeyRecord a = NewTenantWithKey();
  app::KeyRecord b = NewTenantWithKey();
  const absl::Time now = absl::FromUnixMicros(1750000000000001);

  SECTION("another tenant's key is NOT_FOUND and stays valid") {
    auto r = Keys().RevokeKey(b.tenant_id, a.id, now, "user:b");
    CHECK(r.status().code() == StatusCode::kNotFound);
    CHECK(common::ReasonOf(r.status()) == "API_KEY_NOT_FOUND");
    CHECK(FindOk(a.id).revoke_time == absl::InfiniteFuture());
  }
  SECTION("unknown key is NOT_FOUND") {
    auto r = Keys().RevokeKey(a.tenant_id, NewKeyId(), now, "user:a");
    CHECK(r.status().code() == StatusCode::kNotFound);
  }
  SECTION("own key: revoked once, the first time is kept") {
    auto r = Keys().RevokeKey(a.tenant_id, a.id, now, "user:a");
    INFO(r.status().ToString());
    REQUIRE(r.ok());
    CHECK(r->id == a.id);
    CHECK(r->revoke_time == now);
    CHECK(FindOk(a.id).revoke_time == now);
    auto again = Keys().RevokeKey(a.tenant_id, a.id, now + absl::Hours(1), "user:a");
    REQUIRE(again.ok());
    CHECK(again->revoke_time == now);
    CHECK(FindOk(b.id).revoke_time == absl::InfiniteFuture());
  }
}

TEST_CASE("RLS on schema access", "[gateway][keystore][rls]") {
  app::KeyRecord a = NewTenantWithKey();
  app::KeyRecord b = NewTenantWithKey();
  pqxx::connection conn(ts::PgAppDsn());

  SECTION("no app.auth, no tenant: no key, tenant or audit row is visible") {
    pqxx::work w(conn);
    CHECK(w.exec1("SELECT count(*) FROM access.api_keys")[0].as<int64_t>() == 0);
    CHECK(w.exec1("SELECT count(*) FROM access.tenants")[0].as<int64_t>() == 0);
    CHECK(w.exec1("SELECT count(*) FROM access.audit_log")[0].as<int64_t>() == 0);
  }
  SECTION("tenant B without app.auth sees only its own keys") {
    pqxx::work w(conn);
    w.exec_params("SELECT set_config('app.tenant_id', $1, true)", b.tenant_id);
    CHECK(w.exec_params("SELECT count(*) FROM access.api_keys WHERE id = $1", a.id)[0][0]
              .as<int64_t>() == 0);
    CHECK(w.exec_params("SELECT count(*) FROM access.api_keys WHERE id = $1", b.id)[0][0]
              .as<int64_t>() == 1);
    CHECK(w.exec1("SELECT count(*) FROM access.api_keys")[0].as<int64_t>() == 1);
    CHECK(w.exec1("SELECT count(*) FROM access.tenants")[0].as<int64_t>() == 1);
    CHECK(w.exec_params("UPDATE access.api_keys SET revoked_at = now() WHERE id = $1", a.id)
              .affected_rows() == 0);
  }
  SECTION("app.auth reads any key, but writes nothing") {
    pqxx::work w(conn);
    w.exec("SELECT set_config('app.auth', 'on', true)");
    CHECK(w.exec_params("SELECT count(*) FROM access.api_keys WHERE id IN ($1, $2)", a.id, b.id)
              [0][0].as<int64_t>() == 2);
    CHECK(w.exec1("SELECT count(*) FROM access.tenants")[0].as<int64_t>() == 0);
    CHECK(w.exec_params("UPDATE access.api_keys SET revoked_at = now() WHERE id = $1", a.id)
              .affected_rows() == 0);
  }
  SECTION("tenant B cannot insert a key for A") {
    pqxx::work w(conn);
    w.exec_params("SELECT set_config('app.tenant_id', $1, true)", b.tenant_id);
    const std::string sqlstate = SqlStateOf([&] {
      w.exec_params("INSERT INTO access.api_keys (id, tenant_id, roles, secret_sha256) VALUES "
                    "($1, $2, '{1}', '\\x00')",
                    NewKeyId(), a.tenant_id);
    });
    CHECK(sqlstate == "42501");
  }
  SECTION("the app role is not the owner and cannot delete") {
    pqxx::work w(conn);
    pqxx::result r = w.exec(
        "SELECT pg_get_userbyid(c.relowner), c.relrowsecurity, c.relforcerowsecurity FROM "
        "pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'access' "
        "AND c.relkind = 'r'");
    // tenants, api_keys and the platform's four tables (libs/outbox/platform_schema.h).
    REQUIRE(r.size() == 6);
    for (const auto& row : r) {
      CHECK(row[0].as<std::string>() == "crm_owner");
      CHECK(row[1].as<bool>());
      CHECK(row[2].as<bool>());
    }
    const std::string sqlstate = SqlStateOf([&] {
      w.exec("DELETE FROM access.api_keys");
    });
    CHECK(sqlstate == "42501");
  }
}

TEST_CASE("Key store writes are audited", "[gateway][keystore]") {
  app::KeyRecord a = NewTenantWithKey();
  REQUIRE(Keys().RevokeKey(a.tenant_id, a.id, absl::Now(), "user:a").ok());
  int64_t n = -1;
  absl::Status s = KeyPool().WithTenantTx(a.tenant_id, [&](pqxx::work& tx) {
    n = tx.exec1("SELECT count(*) FROM access.audit_log WHERE method IN ('CreateTenant', "
                 "'CreateApiKey', 'RevokeApiKey') AND outcome = 'OK'")[0]
            .as<int64_t>();
    return absl::OkStatus();
  });
  REQUIRE(s.ok());
  CHECK(n == 3);
}

}  // namespace
}  // namespace crm::gateway::itest
