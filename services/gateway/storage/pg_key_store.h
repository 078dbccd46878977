#pragma once
// KeyStore over PostgreSQL (schema access).
#include "libs/pg/pool.h"
#include "services/gateway/app/ports.h"

namespace crm::gateway::storage {

class PgKeyStore final : public app::KeyStore {
 public:
  explicit PgKeyStore(pg::Pool& pool) : pool_(pool) {}
  static std::vector<pg::NamedQuery> Queries();

  absl::StatusOr<std::optional<app::KeyRecord>> FindKey(const std::string& key_id) override;
  absl::Status CreateTenant(const app::Tenant& tenant, const app::KeyRecord& first_key,
                            const std::string& principal) override;
  absl::Status InsertKey(const app::KeyRecord& key, const std::string& principal) override;
  absl::StatusOr<std::vector<app::KeyRecord>> ListKeys(const std::string& tenant_id,
                                                       const std::string& after_key_id,
                                                       int limit) override;
  absl::StatusOr<app::KeyRecord> RevokeKey(const std::string& tenant_id, const std::string& key_id,
                                           absl::Time now, const std::string& principal) override;
  // Tenant by display name (bootstrap tool only; platform scope).
  absl::StatusOr<std::optional<app::Tenant>> FindTenantByName(const std::string& name);

 private:
  void InsertKeyRow(pqxx::work& tx, const app::KeyRecord& k, const std::string& principal);
  pg::Pool& pool_;
};

}  // namespace crm::gateway::storage
