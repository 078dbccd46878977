#pragma once
// The write discipline every service shares: a state change, its audit row
// and its outbox event in one tenant-scoped transaction; a refused write
// audited with its outcome in a transaction of its own; idempotency keys
// claimed in the same transaction. Tables live in the service's schema:
// <schema>.audit_log, <schema>.outbox, <schema>.idempotency_keys (the
// platform migrations of libs/outbox/platform_schema.h create them).
//
// Idempotency keys expire: a key older than IdempotencyKeyTtl() counts as
// unused (a new claim replaces it) and KeyPurger deletes it.
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "libs/outbox/write_meta.h"
#include "libs/pg/pool.h"

namespace crm::outbox {

inline constexpr absl::Duration kMinIdempotencyKeyTtl = absl::Hours(24);
// Process-wide, set once at start-up from CRM_IDEMPOTENCY_KEY_TTL (service
// runtime); INVALID_ARGUMENT below kMinIdempotencyKeyTtl (the default).
absl::Status SetIdempotencyKeyTtl(absl::Duration ttl);
absl::Duration IdempotencyKeyTtl();

// The writer's statements on one schema's platform tables, named
// <schema>.<query> (also the metric label).
struct WriterQueries {
  static WriterQueries ForSchema(const std::string& schema);
  std::vector<pg::NamedQuery> All() const;  // to prepare on the pool

  pg::NamedQuery finish_write;  // audit row + pending events + stored answer
  pg::NamedQuery insert_audit;
  pg::NamedQuery insert_outbox;
  pg::NamedQuery insert_idempotency_key;
  pg::NamedQuery insert_idempotency_error;
  pg::NamedQuery select_idempotency_key;
  pg::NamedQuery purge_idempotency_keys;  // KeyPurger
  pg::NamedQuery purge_outbox;            // KeyPurger, outbox_keep
  pg::NamedQuery set_idempotency_response;
  pg::NamedQuery select_idempotency_response;
  pg::NamedQuery set_idempotency_resource;
};

class TransactionalWriter final {
 public:
  TransactionalWriter(pg::Pool& pool, std::string schema)
      : pool_(pool), schema_(std::move(schema)), q_(WriterQueries::ForSchema(schema_)) {}
  // Named queries to prepare on the pool: WriterQueries::ForSchema(schema).All().
  static std::vector<pg::NamedQuery> Queries(const std::string& schema);

  // Runs fn in the tenant's transaction and appends the audit row (outcome
  // OK); a failed fn rolls back and is audited with its status code. With an
  // idempotency key AND a fingerprint (strict replay, e.g. orders), a refusal
  // (INVALID_ARGUMENT, FAILED_PRECONDITION, NOT_FOUND, ALREADY_EXISTS,
  // OUT_OF_RANGE) is stored with the key, so a retry answers the same error
  // even if the state changed since; without a fingerprint a refused call
  // leaves the key free.
  absl::Status Write(const WriteMeta& meta, const std::string& resource,
                     const std::function<absl::Status(pqxx::work&)>& fn);
  // An outbox event in the caller's transaction. Inside Write's work it is
  // inserted after the work, with the audit row and the stored answer in one
  // statement (so a statement of the work does not see it yet).
  void Emit(pqxx::work& tx, const WriteMeta& meta, const std::string& customer_id,
            const std::string& type, const std::string& payload_json);
  // With meta.idempotency_key: claims it for resource_id (may be "" and set
  // later with SetResource) and returns nullopt; returns the first call's
  // resource id when the key was used before by the same method with the
  // same fingerprint, or the first call's stored error; INVALID_ARGUMENT
  // (field request_id) for another method, INVALID_ARGUMENT
  // (IDEMPOTENCY_KEY_REUSED) for another fingerprint.
  absl::StatusOr<std::optional<std::string>> ClaimIdempotencyKey(pqxx::work& tx,
                                                                const WriteMeta& meta,
                                                                const std::string& resource_id);
  // Like ClaimIdempotencyKey but claims nothing: nullopt when the key is
  // unused, else what a claim would answer. Lets a caller answer a replay
  // before doing work that must not be repeated (a call to another service).
  absl::StatusOr<std::optional<std::string>> PeekIdempotencyKey(pqxx::work& tx,
                                                               const WriteMeta& meta);
  void SetResource(pqxx::work& tx, const WriteMeta& meta, const std::string& resource_id);
  // A snapshot of the first call's answer, stored with the key so a replay
  // answers exactly that even if the resource changed since (inside Write's
  // work: stored with the audit row after the work, like Emit).
  void SetResponse(pqxx::work& tx, const WriteMeta& meta, const std::string& response);
  // The snapshot stored by SetResponse ("" when none).
  std::string StoredResponse(pqxx::work& tx, const WriteMeta& meta);
  // In a tenant transaction of its own: the answer stored with meta's key
  // by SetResponse; nullopt when the key is unused (or expired) or claimed
  // but not answered yet (the caller goes the long way, where its claim
  // waits for or replays the first call); what PeekIdempotencyKey answers
  // for a misused key or a stored refusal. Lets a caller answer a replay
  // before doing work that must not be repeated.
  absl::StatusOr<std::optional<std::string>> FindStoredResponse(const WriteMeta& meta);

  pg::Pool& pool() { return pool_; }

 private:
  // What a key used before answers: its resource id, or its stored refusal;
  // INVALID_ARGUMENT for another method or another fingerprint.
  static absl::StatusOr<std::optional<std::string>> Previous(const pqxx::row& prev,
                                                             const WriteMeta& meta);
  pg::Pool& pool_;
  std::string schema_;
  const WriterQueries q_;
};

}  // namespace crm::outbox
