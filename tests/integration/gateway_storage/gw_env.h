#pragma once
// Shared setup of the gateway storage integration tests: schema `access`
// (reset once per ctest run by the hidden "[.schema_reset]" test, the setup
// of fixture gateway_access_schema), an app-role pool with PgKeyStore's
// named queries, and key helpers. Every test uses its own random tenants.
#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>

#include <pqxx/pqxx>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "libs/common/id.h"
#include "libs/pg/pool.h"
#include "services/gateway/app/ports.h"
#include "services/gateway/storage/pg_key_store.h"
#include "tests/support/pg_test_db.h"

namespace crm::gateway::itest {

namespace ts = crm::test_support;

inline absl::Status ResetAccessSchema() {
  return ts::ResetServiceSchemaFully("gateway", "access", ts::SourcePath("services/gateway/schema"));
}

// Outside ctest (no fixture): creates the schema if it is missing.
inline void EnsureAccessSchema() {
  static const bool ready = [] {
    ts::EnsureServiceSchema("gateway", "access", ts::SourcePath("services/gateway/schema"),
                            "access.api_keys");
    return true;
  }();
  (void)ready;
}

inline crm::pg::Pool& KeyPool() {
  static crm::pg::Pool* pool = [] {
    EnsureAccessSchema();
    auto p = ts::MakeAppPool(2, storage::PgKeyStore::Queries());
    if (!p.ok()) throw std::runtime_error("app pool: " + p.status().ToString());
    return std::move(p).value().release();
  }();
  return *pool;
}

inline constexpr char kAnswerSecret[] = "gateway-itest-context-key-0123456789abcdef";

inline storage::PgKeyStore& Keys() {
  static storage::PgKeyStore* store = new storage::PgKeyStore(KeyPool(), kAnswerSecret);
  return *store;
}

// A write by `principal` in `tenant`; with `key`, strictly idempotent.
inline app::WriteContext Writer(const std::string& tenant, const std::string& principal,
                                const char* method, const std::string& key = "",
                                const std::string& fingerprint = "") {
  return app::WriteContext{tenant, principal, "req-itest", method, key, fingerprint};
}

// The key store's writes without a request_id (what the bootstrap tool does).
inline absl::Status InsertKey(const app::KeyRecord& k, const std::string& principal) {
  return app::WriteKey(Keys(), Writer(k.tenant_id, principal, "CreateApiKey"), {k, ""}).status();
}
inline absl::Status CreateTenant(const app::Tenant& t, const app::KeyRecord& k,
                                 const std::string& principal) {
  return app::WriteTenant(Keys(), Writer("", principal, "CreateTenant"), {t, {k, ""}}).status();
}

// SQLSTATE of the pqxx error fn throws, or a description when it throws
// something else or nothing. libpqxx 6.4 throws insufficient_privilege
// without filling sqlstate(), hence the dedicated catch.
template <typename Fn>
std::string SqlStateOf(Fn fn) {
  try {
    fn();
  } catch (const pqxx::insufficient_privilege&) {
    return "42501";
  } catch (const pqxx::sql_error& e) {
    if (e.sqlstate().empty()) return std::string("sql_error without SQLSTATE: ") + e.what();
    return e.sqlstate();
  } catch (const std::exception& e) {
    return std::string("other exception: ") + e.what();
  }
  return "no error";
}

// "k" + 16 hex characters, as the key format wants.
inline std::string NewKeyId() {
  std::string hex;
  for (char c : common::NewUuid()) {
    if (c != '-') hex.push_back(c);
  }
  return "k" + hex.substr(0, 16);
}

// 32 raw bytes including NUL and high bytes.
inline std::string HashBytes(unsigned char seed) {
  std::string h(32, '\0');
  for (int i = 0; i < 32; ++i) h[i] = static_cast<char>((seed + i * 37) & 0xff);
  h[3] = '\0';
  h[4] = static_cast<char>(0xff);
  h[5] = '\\';
  h[6] = '\'';
  return h;
}

inline app::KeyRecord NewKey(const std::string& tenant, int64_t created_micros) {
  app::KeyRecord k;
  k.id = NewKeyId();
  k.tenant_id = tenant;
  k.display_name = "key " + k.id;
  k.roles = {domain::Role::kMarketer};
  k.secret_sha256 = HashBytes(static_cast<unsigned char>(created_micros & 0xff));
  k.rate_limit_per_second = 10;
  k.create_time = absl::FromUnixMicros(created_micros);
  return k;
}

// A tenant with its first key (created at `created_micros`).
inline app::KeyRecord NewTenantWithKey(int64_t created_micros = 1700000000000000,
                                       std::string* tenant_name = nullptr) {
  app::Tenant t;
  t.id = common::NewUuid();
  t.display_name = absl::StrCat(ts::UniqueName("tenant"), "_", common::NewUuid().substr(0, 8));
  t.create_time = absl::FromUnixMicros(created_micros);
  if (tenant_name) *tenant_name = t.display_name;
  app::KeyRecord k = NewKey(t.id, created_micros);
  k.roles = {domain::Role::kAdmin};
  absl::Status s = CreateTenant(t, k, "platform:itest");
  if (!s.ok()) throw std::runtime_error("CreateTenant: " + s.ToString());
  return k;
}

}  // namespace crm::gateway::itest
