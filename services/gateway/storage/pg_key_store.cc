#include "services/gateway/storage/pg_key_store.h"

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "libs/common/errors.h"
#include "libs/common/status_macros.h"
#include "libs/pg/sql.h"

namespace crm::gateway::storage {
namespace {

constexpr char kKeyColumns[] =
    "id, tenant_id::text, display_name, array_to_string(roles, ','), secret_sha256, "
    "rate_limit_per_second, (extract(epoch from created_at) * 1000000)::int8, "
    "coalesce((extract(epoch from expire_at) * 1000000)::int8, -1), "
    "coalesce((extract(epoch from revoked_at) * 1000000)::int8, -1)";

std::string Ts(int n) { return pg::MicrosParam(n); }

app::KeyRecord KeyFromRow(const pqxx::row& r) {
  app::KeyRecord k;
  k.id = r[0].as<std::string>();
  k.tenant_id = r[1].as<std::string>();
  k.display_name = r[2].as<std::string>();
  for (absl::string_view part : absl::StrSplit(r[3].as<std::string>(), ',', absl::SkipEmpty())) {
    int v = 0;
    if (absl::SimpleAtoi(part, &v)) k.roles.push_back(static_cast<domain::Role>(v));
  }
  pqxx::binarystring hash(r[4]);
  k.secret_sha256 = hash.str();
  k.rate_limit_per_second = r[5].as<int>();
  k.create_time = absl::FromUnixMicros(r[6].as<int64_t>());
  int64_t exp = r[7].as<int64_t>(), rev = r[8].as<int64_t>();
  k.expire_time = exp < 0 ? absl::InfiniteFuture() : absl::FromUnixMicros(exp);
  k.revoke_time = rev < 0 ? absl::InfiniteFuture() : absl::FromUnixMicros(rev);
  return k;
}

std::string RolesArray(const std::vector<domain::Role>& roles) {
  return absl::StrCat("{", absl::StrJoin(roles, ",", [](std::string* o, domain::Role r) {
                        absl::StrAppend(o, static_cast<int>(r));
                      }),
                      "}");
}

int64_t MicrosOrMinus1(absl::Time t) {
  return t == absl::InfiniteFuture() ? -1 : absl::ToUnixMicros(t);
}

}  // namespace

std::vector<pg::NamedQuery> PgKeyStore::Queries() {
  return {
      {"select_api_key", absl::StrCat("SELECT ", kKeyColumns, " FROM access.api_keys WHERE id = $1")},
      {"insert_api_key",
       absl::StrCat("INSERT INTO access.api_keys (id, tenant_id, display_name, roles, "
                    "secret_sha256, rate_limit_per_second, created_at, expire_at, created_by) "
                    "VALUES ($1, $2, $3, $4::int[], $5, $6, ",
                    Ts(7), ", CASE WHEN $8::int8 < 0 THEN NULL ELSE ", Ts(8), " END, $9)")},
      {"insert_tenant",
       absl::StrCat("INSERT INTO access.tenants (id, display_name, created_at) VALUES ($1, $2, ",
                    Ts(3), ")")},
      {"select_tenant_by_name",
       "SELECT id::text, display_name, (extract(epoch from created_at) * 1000000)::int8 FROM "
       "access.tenants WHERE display_name = $1 ORDER BY created_at LIMIT 1"},
      {"list_api_keys",
       absl::StrCat("SELECT ", kKeyColumns,
                    " FROM access.api_keys WHERE tenant_id = $1 AND ($2 = '' OR (created_at, id) "
                    "> (SELECT created_at, id FROM access.api_keys WHERE id = $2)) "
                    "ORDER BY created_at, id LIMIT $3")},
      {"revoke_api_key",
       absl::StrCat("UPDATE access.api_keys SET revoked_at = coalesce(revoked_at, ", Ts(3),
                    ") WHERE tenant_id = $1 AND id = $2 RETURNING ", kKeyColumns)},
      {"insert_access_audit",
       "INSERT INTO access.audit_log (tenant_id, principal, method, resource, outcome) VALUES "
       "($1, $2, $3, $4, 'OK')"},
  };
}

absl::StatusOr<std::optional<app::KeyRecord>> PgKeyStore::FindKey(const std::string& key_id) {
  std::optional<app::KeyRecord> out;
  CRM_RETURN_IF_ERROR(pool_.WithTx([&](pqxx::work& tx) {
    tx.exec("SELECT set_config('app.auth', 'on', true)");
    pqxx::result r = pool_.Exec(tx, "select_api_key", key_id);
    if (!r.empty()) out = KeyFromRow(r[0]);
    return absl::OkStatus();
  }));
  return out;
}

void PgKeyStore::InsertKeyRow(pqxx::work& tx, const app::KeyRecord& k,
                              const std::string& principal) {
  pqxx::binarystring hash(k.secret_sha256.data(), k.secret_sha256.size());
  pool_.Exec(tx, "insert_api_key", k.id, k.tenant_id, k.display_name, RolesArray(k.roles), hash,
             k.rate_limit_per_second, absl::ToUnixMicros(k.create_time),
             MicrosOrMinus1(k.expire_time), principal);
  pool_.Exec(tx, "insert_access_audit", k.tenant_id, principal, "CreateApiKey", k.id);
}

absl::Status PgKeyStore::CreateTenant(const app::Tenant& tenant, const app::KeyRecord& first_key,
                                      const std::string& principal) {
  return pool_.WithTenantTx(tenant.id, [&](pqxx::work& tx) {
    tx.exec("SELECT set_config('app.platform', 'on', true)");
    pool_.Exec(tx, "insert_tenant", tenant.id, tenant.display_name,
               absl::ToUnixMicros(tenant.create_time));
    pool_.Exec(tx, "insert_access_audit", tenant.id, principal, "CreateTenant", tenant.id);
    InsertKeyRow(tx, first_key, principal);
    return absl::OkStatus();
  });
}

absl::Status PgKeyStore::InsertKey(const app::KeyRecord& key, const std::string& principal) {
  return pool_.WithTenantTx(key.tenant_id, [&](pqxx::work& tx) {
    InsertKeyRow(tx, key, principal);
    return absl::OkStatus();
  });
}

absl::StatusOr<std::vector<app::KeyRecord>> PgKeyStore::ListKeys(const std::string& tenant_id,
                                                                 const std::string& after_key_id,
                                                                 int limit) {
  std::vector<app::KeyRecord> out;
  CRM_RETURN_IF_ERROR(pool_.WithTenantTx(tenant_id, [&](pqxx::work& tx) {
    for (const auto& r : pool_.Exec(tx, "list_api_keys", tenant_id, after_key_id, limit)) {
      out.push_back(KeyFromRow(r));
    }
    return absl::OkStatus();
  }));
  return out;
}

absl::StatusOr<app::KeyRecord> PgKeyStore::RevokeKey(const std::string& tenant_id,
                                                     const std::string& key_id, absl::Time now,
                                                     const std::string& principal) {
  app::KeyRecord out;
  CRM_RETURN_IF_ERROR(pool_.WithTenantTx(tenant_id, [&](pqxx::work& tx) -> absl::Status {
    pqxx::result r =
        pool_.Exec(tx, "revoke_api_key", tenant_id, key_id, absl::ToUnixMicros(now));
    if (r.empty()) return common::NotFound("API_KEY_NOT_FOUND", "API key not found");
    out = KeyFromRow(r[0]);
    pool_.Exec(tx, "insert_access_audit", tenant_id, principal, "RevokeApiKey", key_id);
    return absl::OkStatus();
  }));
  return out;
}

absl::StatusOr<std::optional<app::Tenant>> PgKeyStore::FindTenantByName(const std::string& name) {
  std::optional<app::Tenant> out;
  CRM_RETURN_IF_ERROR(pool_.WithTx([&](pqxx::work& tx) {
    tx.exec("SELECT set_config('app.platform', 'on', true)");
    pqxx::result r = pool_.Exec(tx, "select_tenant_by_name", name);
    if (!r.empty()) {
      out = app::Tenant{r[0][0].as<std::string>(), r[0][1].as<std::string>(),
                        absl::FromUnixMicros(r[0][2].as<int64_t>())};
    }
    return absl::OkStatus();
  }));
  return out;
}

}  // namespace crm::gateway::storage
