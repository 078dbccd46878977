#pragma once
// KeyStore over PostgreSQL (schema access). The admin writes are driven by
// the app layer through app::KeyTx (class Tx) and run through the platform's
// unit of work (outbox::WriteOnce: audit row, idempotency key and stored
// answer in the write's transaction); this adapter keeps the SQL, the row
// mapping and the sealed answer codec.
//
// Stored answers hold a key's secret, which must never rest in plaintext:
// the answer of a create with a request_id is stored in
// access.idempotency_keys.response sealed with AES-256-GCM, under a key
// derived (HKDF-SHA256) from the gateway's CRM_CONTEXT_KEY for this one use,
// with the tenant, request_id and method as associated data (a sealed answer
// copied to another key does not open). It expires with its idempotency key
// (CRM_IDEMPOTENCY_KEY_TTL; KeyPurger deletes it), after which the secret
// exists nowhere but with the client. Deriving the secret from the request
// instead would make every key's secret recomputable forever by whoever
// holds the gateway secret and the (non-secret) request_id.
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "libs/outbox/unit_of_work.h"
#include "libs/pg/pool.h"
#include "services/gateway/app/ports.h"

namespace crm::gateway::storage {

class PgKeyStore final : public app::KeyStore {
 public:
  // `answer_secret`: the secret the sealing key is derived from (the
  // gateway's CRM_CONTEXT_KEY); "" (the bootstrap tool) refuses writes with
  // a request_id.
  explicit PgKeyStore(pg::Pool& pool, absl::string_view answer_secret = "");
  static std::vector<pg::NamedQuery> Queries();

  absl::StatusOr<std::optional<app::KeyRecord>> FindKey(const std::string& key_id) override;
  absl::StatusOr<app::CreatedTenant> Write(
      const outbox::WriteMeta& meta, const std::string& resource,
      absl::FunctionRef<absl::StatusOr<app::CreatedTenant>(app::KeyTx&)> work) override;
  absl::StatusOr<app::CreatedKey> Write(
      const outbox::WriteMeta& meta, const std::string& resource,
      absl::FunctionRef<absl::StatusOr<app::CreatedKey>(app::KeyTx&)> work) override;
  absl::StatusOr<std::vector<app::KeyRecord>> ListKeys(const std::string& tenant_id,
                                                       const std::string& after_key_id,
                                                       int limit) override;
  absl::StatusOr<app::KeyRecord> RevokeKey(const std::string& tenant_id, const std::string& key_id,
                                           absl::Time now, const std::string& principal) override;
  // Tenant by display name (bootstrap tool only; platform scope).
  absl::StatusOr<std::optional<app::Tenant>> FindTenantByName(const std::string& name);

 private:
  void InsertKeyRow(pqxx::work& tx, const app::KeyRecord& k, const std::string& principal);
  class Tx;  // app::KeyTx over one outbox::WriteTx
  // Runs `work` once per idempotency key (outbox::WriteOnce); its answer is
  // stored as JSON (`to_json`) sealed, and a replay opens it (`from_json`).
  template <typename T>
  absl::StatusOr<T> RunTx(const outbox::WriteMeta& meta, const std::string& resource,
                          std::string (*to_json)(const T&),
                          T (*from_json)(const nlohmann::json&, bool&),
                          absl::FunctionRef<absl::StatusOr<T>(app::KeyTx&)> work);
  std::string Seal(const outbox::WriteMeta& meta, const std::string& answer) const;
  absl::StatusOr<std::string> Open(const outbox::WriteMeta& meta, const std::string& sealed) const;

  pg::Pool& pool_;
  outbox::TransactionalWriter writer_;
  std::string answer_key_;  // 32 bytes, "" when not configured
};

}  // namespace crm::gateway::storage
