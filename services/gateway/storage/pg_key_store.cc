#include "services/gateway/storage/pg_key_store.h"

#include <nlohmann/json.hpp>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "libs/common/crypto.h"
#include "libs/common/errors.h"
#include "libs/common/status_macros.h"
#include "libs/pg/sql.h"
#include "services/gateway/schema_name.h"

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

// ------------------------------------------------------------ stored answers
// JSON (integers as strings), sealed before it is stored.

using Json = nlohmann::json;

std::string Micros(absl::Time t) { return absl::StrCat(MicrosOrMinus1(t)); }

absl::Time TimeOf(const Json& j, const char* k, bool& ok) {
  int64_t v = 0;
  if (!absl::SimpleAtoi(j.at(k).get<std::string>(), &v)) ok = false;
  return v < 0 ? absl::InfiniteFuture() : absl::FromUnixMicros(v);
}

Json KeyJson(const app::CreatedKey& c) {
  std::vector<int> roles;
  for (domain::Role r : c.key.roles) roles.push_back(static_cast<int>(r));
  return Json{{"id", c.key.id},
              {"tenant_id", c.key.tenant_id},
              {"display_name", c.key.display_name},
              {"roles", roles},
              {"secret_sha256", common::HexEncode(c.key.secret_sha256)},
              {"rate_limit", c.key.rate_limit_per_second},
              {"created", Micros(c.key.create_time)},
              {"expires", Micros(c.key.expire_time)},
              {"revoked", Micros(c.key.revoke_time)},
              {"secret", c.secret}};
}

app::CreatedKey KeyFromJson(const Json& j, bool& ok) {
  app::CreatedKey c;
  c.key.id = j.at("id").get<std::string>();
  c.key.tenant_id = j.at("tenant_id").get<std::string>();
  c.key.display_name = j.at("display_name").get<std::string>();
  for (int r : j.at("roles").get<std::vector<int>>())
    c.key.roles.push_back(static_cast<domain::Role>(r));
  const std::string hash = j.at("secret_sha256").get<std::string>();
  if (hash.size() != 64) ok = false;
  c.key.secret_sha256 = absl::HexStringToBytes(hash);
  c.key.rate_limit_per_second = j.at("rate_limit").get<int>();
  c.key.create_time = TimeOf(j, "created", ok);
  c.key.expire_time = TimeOf(j, "expires", ok);
  c.key.revoke_time = TimeOf(j, "revoked", ok);
  c.secret = j.at("secret").get<std::string>();
  return c;
}

constexpr char kCorruptAnswer[] = "the stored answer of this request_id is corrupt";

std::string KeyAnswerJson(const app::CreatedKey& c) { return KeyJson(c).dump(); }

std::string TenantAnswerJson(const app::CreatedTenant& c) {
  return Json{{"id", c.tenant.id},
              {"display_name", c.tenant.display_name},
              {"created", Micros(c.tenant.create_time)},
              {"admin_key", KeyJson(c.admin_key)}}
      .dump();
}

app::CreatedTenant TenantAnswerFromJson(const Json& j, bool& ok) {
  app::CreatedTenant c;
  c.tenant.id = j.at("id").get<std::string>();
  c.tenant.display_name = j.at("display_name").get<std::string>();
  c.tenant.create_time = TimeOf(j, "created", ok);
  c.admin_key = KeyFromJson(j.at("admin_key"), ok);
  return c;
}

constexpr char kSealPrefix[] = "aes256gcm.v1.";

// What a sealed answer belongs to: it opens for this tenant, method and
// request_id only.
std::string AnswerAad(const outbox::WriteMeta& meta) {
  return absl::StrCat(meta.tenant_id, "\n", meta.method, "\n", meta.idempotency_key);
}

}  // namespace

PgKeyStore::PgKeyStore(pg::Pool& pool, absl::string_view answer_secret)
    : pool_(pool), writer_(pool, kSchema) {
  if (!answer_secret.empty()) {
    answer_key_ = common::HkdfSha256(answer_secret, "crm.gateway.access",
                                     "idempotent answers: AES-256-GCM v1", 32);
  }
}

std::string PgKeyStore::Seal(const outbox::WriteMeta& meta, const std::string& answer) const {
  return absl::StrCat(
      kSealPrefix, absl::Base64Escape(common::Aes256GcmSeal(answer_key_, answer, AnswerAad(meta))));
}

absl::StatusOr<std::string> PgKeyStore::Open(const outbox::WriteMeta& meta,
                                             const std::string& sealed) const {
  std::string raw;
  if (!absl::StartsWith(sealed, kSealPrefix) ||
      !absl::Base64Unescape(absl::string_view(sealed).substr(sizeof(kSealPrefix) - 1), &raw)) {
    return absl::DataLossError(kCorruptAnswer);
  }
  std::optional<std::string> answer = common::Aes256GcmOpen(answer_key_, raw, AnswerAad(meta));
  if (!answer) {
    // Typically CRM_CONTEXT_KEY was rotated since the first call.
    return absl::DataLossError(
        "the stored answer of this request_id cannot be read any more (the gateway's key "
        "changed since); the first call took effect");
  }
  return *std::move(answer);
}

// The key store's queries (libs/pg/pool.h: typed, their columns checked at start-up).
const pg::NamedQuery kSelectApiKey{
    "select_api_key", absl::StrCat("SELECT ", kKeyColumns, " FROM access.api_keys WHERE id = $1"),
    9};
const pg::NamedQuery kInsertApiKey{
    "insert_api_key",
    absl::StrCat("INSERT INTO access.api_keys (id, tenant_id, display_name, roles, "
                 "secret_sha256, rate_limit_per_second, created_at, expire_at, created_by) "
                 "VALUES ($1, $2, $3, $4::int[], $5, $6, ",
                 Ts(7), ", CASE WHEN $8::int8 < 0 THEN NULL ELSE ", Ts(8), " END, $9)"),
    0};
const pg::NamedQuery kInsertTenant{
    "insert_tenant",
    absl::StrCat("INSERT INTO access.tenants (id, display_name, created_at) VALUES ($1, $2, ",
                 Ts(3), ")"),
    0};
const pg::NamedQuery kSelectTenantByName{
    "select_tenant_by_name",
    "SELECT id::text, display_name, (extract(epoch from created_at) * 1000000)::int8 FROM "
    "access.tenants WHERE display_name = $1 ORDER BY created_at LIMIT 1",
    3};
const pg::NamedQuery kListApiKeys{
    "list_api_keys",
    absl::StrCat("SELECT ", kKeyColumns,
                 " FROM access.api_keys WHERE tenant_id = $1 AND ($2 = '' OR (created_at, id) "
                 "> (SELECT created_at, id FROM access.api_keys WHERE id = $2)) "
                 "ORDER BY created_at, id LIMIT $3"),
    9};
const pg::NamedQuery kRevokeApiKey{
    "revoke_api_key",
    absl::StrCat("UPDATE access.api_keys SET revoked_at = coalesce(revoked_at, ", Ts(3),
                 ") WHERE tenant_id = $1 AND id = $2 RETURNING ", kKeyColumns),
    9};
const pg::NamedQuery kInsertAccessAudit{
    "insert_access_audit",
    "INSERT INTO access.audit_log (tenant_id, principal, method, resource, outcome) VALUES "
    "($1, $2, $3, $4, 'OK')",
    0};
const pg::NamedQuery kSetAccessTenant{"set_access_tenant",
                                      "SELECT set_config('app.tenant_id', $1, true)", 1};

std::vector<pg::NamedQuery> PgKeyStore::Queries() {
  std::vector<pg::NamedQuery> q = outbox::TransactionalWriter::Queries(kSchema);
  std::vector<pg::NamedQuery> own = {kSelectApiKey,       kInsertApiKey,   kInsertTenant,
                                     kSelectTenantByName, kListApiKeys,    kRevokeApiKey,
                                     kInsertAccessAudit,  kSetAccessTenant};
  q.insert(q.end(), own.begin(), own.end());
  return q;
}

absl::StatusOr<std::optional<app::KeyRecord>> PgKeyStore::FindKey(const std::string& key_id) {
  std::optional<app::KeyRecord> out;
  CRM_RETURN_IF_ERROR(pool_.WithTx([&](pqxx::work& tx) {
    tx.exec("SELECT set_config('app.auth', 'on', true)");
    pqxx::result r = pool_.Exec(tx, kSelectApiKey, key_id);
    if (!r.empty()) out = KeyFromRow(r[0]);
    return absl::OkStatus();
  }));
  return out;
}

void PgKeyStore::InsertKeyRow(pqxx::work& tx, const app::KeyRecord& k,
                              const std::string& principal) {
  pqxx::binarystring hash(k.secret_sha256.data(), k.secret_sha256.size());
  pool_.Exec(tx, kInsertApiKey, k.id, k.tenant_id, k.display_name, RolesArray(k.roles), hash,
             k.rate_limit_per_second, absl::ToUnixMicros(k.create_time),
             MicrosOrMinus1(k.expire_time), principal);
}

// One admin write's transaction (app::KeyTx). A new tenant's rows are
// written in its scope (RLS) with the platform flag on; the key claim and
// the caller's audit row in the caller's (LeaveScope, at the end of the
// work).
class PgKeyStore::Tx final : public app::KeyTx {
 public:
  Tx(PgKeyStore& store, const outbox::WriteTx& w) : store_(store), w_(w) {}

  void SaveTenant(const app::Tenant& t) override {
    EnterScope(t.id);
    store_.pool_.Exec(w_.sql(), kInsertTenant, t.id, t.display_name,
                      absl::ToUnixMicros(t.create_time));
    if (w_.tenant() != t.id) Audit(t.id, "CreateTenant", t.id);
  }
  void SaveKey(const app::KeyRecord& k) override {
    // In the scope the write is in (a new tenant's, after SaveTenant): the
    // row policy refuses a key of another tenant.
    store_.InsertKeyRow(w_.sql(), k, w_.meta().principal);
    // A key made by another write (a new tenant's first key) has its own
    // audit row; CreateApiKey's is the write's.
    if (w_.meta().method != "CreateApiKey") {
      Audit(scope_.empty() ? w_.tenant() : scope_, "CreateApiKey", k.id);
    }
  }
  void LeaveScope() {
    if (scope_.empty()) return;
    w_.sql().exec("SELECT set_config('app.platform', '', true)");
    store_.pool_.Exec(w_.sql(), kSetAccessTenant, w_.tenant());
    scope_.clear();
  }

 private:
  void EnterScope(const std::string& tenant) {
    if (scope_ == tenant) return;
    store_.pool_.Exec(w_.sql(), kSetAccessTenant, tenant);
    if (scope_.empty()) w_.sql().exec("SELECT set_config('app.platform', 'on', true)");
    scope_ = tenant;
  }
  void Audit(const std::string& tenant, const char* method, const std::string& resource) {
    store_.pool_.Exec(w_.sql(), kInsertAccessAudit, tenant, w_.meta().principal, method, resource);
  }

  PgKeyStore& store_;
  const outbox::WriteTx& w_;
  std::string scope_;  // the tenant whose scope the rows go to, "" = the caller's
};

template <typename T>
absl::StatusOr<T> PgKeyStore::RunTx(const outbox::WriteMeta& meta, const std::string& resource,
                                    std::string (*to_json)(const T&),
                                    T (*from_json)(const Json&, bool&),
                                    absl::FunctionRef<absl::StatusOr<T>(app::KeyTx&)> work) {
  if (!meta.idempotency_key.empty() && answer_key_.empty()) {
    return absl::FailedPreconditionError("idempotent key writes are not configured");
  }
  // The answer holds the new key's secret: stored sealed, opened on a replay.
  outbox::AnswerCodec<T> codec;
  codec.encode = [&](const T& a) { return Seal(meta, to_json(a)); };
  codec.replay = [&](const outbox::WriteTx&, const std::string& stored,
                     const std::string&) -> absl::StatusOr<T> {
    CRM_ASSIGN_OR_RETURN(std::string first, Open(meta, stored));
    return outbox::ParseJsonAnswer<T>(first, from_json, kCorruptAnswer);
  };
  return outbox::WriteOnce<T>(writer_, meta, resource, codec,
                              [&](const outbox::WriteTx& w) -> absl::StatusOr<T> {
                                Tx tx(*this, w);
                                absl::StatusOr<T> out = work(tx);
                                tx.LeaveScope();
                                return out;
                              });
}

absl::StatusOr<app::CreatedTenant> PgKeyStore::Write(
    const outbox::WriteMeta& meta, const std::string& resource,
    absl::FunctionRef<absl::StatusOr<app::CreatedTenant>(app::KeyTx&)> work) {
  return RunTx<app::CreatedTenant>(meta, resource, TenantAnswerJson, TenantAnswerFromJson, work);
}

absl::StatusOr<app::CreatedKey> PgKeyStore::Write(
    const outbox::WriteMeta& meta, const std::string& resource,
    absl::FunctionRef<absl::StatusOr<app::CreatedKey>(app::KeyTx&)> work) {
  return RunTx<app::CreatedKey>(meta, resource, KeyAnswerJson, KeyFromJson, work);
}

absl::StatusOr<std::vector<app::KeyRecord>> PgKeyStore::ListKeys(const std::string& tenant_id,
                                                                 const std::string& after_key_id,
                                                                 int limit) {
  std::vector<app::KeyRecord> out;
  CRM_RETURN_IF_ERROR(pool_.WithTenantTx(tenant_id, [&](pqxx::work& tx) {
    for (const auto& r : pool_.Exec(tx, kListApiKeys, tenant_id, after_key_id, limit)) {
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
    pqxx::result r = pool_.Exec(tx, kRevokeApiKey, tenant_id, key_id, absl::ToUnixMicros(now));
    if (r.empty()) return common::NotFound("API_KEY_NOT_FOUND", "API key not found");
    out = KeyFromRow(r[0]);
    pool_.Exec(tx, kInsertAccessAudit, tenant_id, principal, "RevokeApiKey", key_id);
    return absl::OkStatus();
  }));
  return out;
}

absl::StatusOr<std::optional<app::Tenant>> PgKeyStore::FindTenantByName(const std::string& name) {
  std::optional<app::Tenant> out;
  CRM_RETURN_IF_ERROR(pool_.WithTx([&](pqxx::work& tx) {
    tx.exec("SELECT set_config('app.platform', 'on', true)");
    pqxx::result r = pool_.Exec(tx, kSelectTenantByName, name);
    if (!r.empty()) {
      out = app::Tenant{r[0][0].as<std::string>(), r[0][1].as<std::string>(),
                        absl::FromUnixMicros(r[0][2].as<int64_t>())};
    }
    return absl::OkStatus();
  }));
  return out;
}

}  // namespace crm::gateway::storage
