// crm-admin bootstrap --dsn DSN --tenant-name NAME --key-file FILE
//   The tenant NAME (created when missing) and an API key with the admin role
//   of that tenant: its data and its keys, no platform rights.
// crm-admin platform-key --dsn DSN --key-file FILE [--tenant-name NAME]
//   The platform operator's key: the platform-admin role only (create
//   tenants), in an operator tenant of its own (default "platform-operator")
//   that holds no customer data.
// Both write directly in the access schema (there is no key yet to call the
// API with) and are idempotent: when FILE holds a key that still
// authenticates and has exactly these roles, they print it and create nothing.
#include <sys/stat.h>

#include <cstring>
#include <fstream>
#include <iostream>
#include <sstream>

#include "absl/strings/ascii.h"
#include "libs/common/clock.h"
#include "libs/common/crypto.h"
#include "libs/common/id.h"
#include "libs/observability/log.h"
#include "libs/pg/pool.h"
#include "services/gateway/app/access.h"
#include "services/gateway/domain/api_key.h"
#include "services/gateway/storage/pg_key_store.h"

namespace {

int Usage() {
  std::cerr << "usage: crm-admin bootstrap --dsn DSN --tenant-name NAME --key-file FILE\n"
               "       crm-admin platform-key --dsn DSN --key-file FILE [--tenant-name NAME]\n";
  return 2;
}

// The key in `file` if it still authenticates and has exactly `roles`.
bool ExistingKeyValid(crm::gateway::storage::PgKeyStore& keys, const std::string& file,
                      const std::vector<crm::gateway::domain::Role>& roles, std::string* key) {
  std::ifstream in(file);
  if (!in) return false;
  std::stringstream ss;
  ss << in.rdbuf();
  *key = std::string(absl::StripAsciiWhitespace(ss.str()));
  auto parsed = crm::gateway::domain::ParseKey(*key);
  if (!parsed.ok()) return false;
  auto rec = keys.FindKey(parsed->key_id);
  if (!rec.ok() || !rec->has_value()) return false;
  absl::Time now = absl::Now();
  return crm::common::ConstantTimeEquals(crm::common::Sha256(parsed->secret),
                                         (*rec)->secret_sha256) &&
         now < (*rec)->expire_time && now < (*rec)->revoke_time && (*rec)->roles == roles;
}

}  // namespace

int main(int argc, char** argv) {
  using namespace crm;  // NOLINT
  observability::InitLogging("crm-admin");
  if (argc < 2) return Usage();
  const bool platform = !std::strcmp(argv[1], "platform-key");
  if (!platform && std::strcmp(argv[1], "bootstrap") != 0) return Usage();
  std::string dsn, tenant_name = platform ? "platform-operator" : "", key_file;
  for (int i = 2; i + 1 < argc; i += 2) {
    if (!std::strcmp(argv[i], "--dsn")) {
      dsn = argv[i + 1];
    } else if (!std::strcmp(argv[i], "--tenant-name")) {
      tenant_name = argv[i + 1];
    } else if (!std::strcmp(argv[i], "--key-file")) {
      key_file = argv[i + 1];
    } else {
      return Usage();
    }
  }
  if (dsn.empty() || tenant_name.empty() || key_file.empty()) return Usage();

  pg::PoolOptions options;
  options.dsn = dsn;
  options.size = 1;
  options.queries = gateway::storage::PgKeyStore::Queries();
  auto pool = pg::Pool::Create(std::move(options));
  if (!pool.ok()) {
    CRM_LOG(Error) << pool.status();
    return 1;
  }
  gateway::storage::PgKeyStore keys(**pool);
  std::string key;
  const std::vector<gateway::domain::Role> roles = {platform
                                                        ? gateway::domain::Role::kPlatformAdmin
                                                        : gateway::domain::Role::kAdmin};
  const char* display = platform ? "platform operator key" : "bootstrap admin key";
  if (ExistingKeyValid(keys, key_file, roles, &key)) {
    std::cout << key << "\n";
    return 0;
  }
  auto tenant = keys.FindTenantByName(tenant_name);
  if (!tenant.ok()) {
    CRM_LOG(Error) << tenant.status();
    return 1;
  }
  absl::Time now = absl::Now();
  absl::Status s;
  gateway::app::CreatedKey created;
  gateway::app::WriteContext w;
  w.principal = "crm-admin";
  if (tenant->has_value()) {
    created = gateway::app::Admin::NewKey((*tenant)->id, display, roles, now);
    w.tenant_id = (*tenant)->id;
    w.method = "CreateApiKey";
    s = gateway::app::WriteKey(keys, w, created).status();
  } else {
    gateway::app::CreatedTenant t;
    t.tenant = gateway::app::Tenant{common::NewUuid(), tenant_name, now};
    t.admin_key = created = gateway::app::Admin::NewKey(t.tenant.id, display, roles, now);
    w.method = "CreateTenant";
    s = gateway::app::WriteTenant(keys, w, t).status();
  }
  if (!s.ok()) {
    CRM_LOG(Error) << s;
    return 1;
  }
  {
    int old = umask(077);
    std::ofstream out(key_file, std::ios::trunc);
    umask(old);
    out << created.secret << "\n";
    if (!out) {
      CRM_LOG(Error) << "cannot write the key file";
      return 1;
    }
  }
  chmod(key_file.c_str(), 0600);
  std::cout << created.secret << "\n";
  return 0;
}
