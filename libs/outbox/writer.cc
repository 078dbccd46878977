#include "libs/outbox/writer.h"

#include <atomic>
#include <optional>
#include <vector>

#include "absl/strings/str_cat.h"
#include "libs/common/errors.h"
#include "libs/common/id.h"
#include "libs/common/status_macros.h"
#include "libs/observability/log.h"
#include "libs/outbox/wakeup.h"
#include "libs/outbox/write_port.h"
#include "libs/pg/sql.h"

namespace crm::outbox {
namespace {

std::atomic<int64_t> key_ttl_seconds{absl::ToInt64Seconds(kMinIdempotencyKeyTtl)};

// ON CONFLICT clause of a key claim: a row older than the TTL (parameter
// `ttl`, seconds) is taken over as if the key were unused.
std::string ReplaceExpired(const std::string& s, const char* ttl) {
  return absl::StrCat(
      "ON CONFLICT (tenant_id, request_id) DO UPDATE SET method = EXCLUDED.method, resource_id = "
      "EXCLUDED.resource_id, fingerprint = EXCLUDED.fingerprint, created_at = now(), error_code = "
      "EXCLUDED.error_code, error_reason = EXCLUDED.error_reason, error_message = "
      "EXCLUDED.error_message, error_field = EXCLUDED.error_field, response = NULL WHERE ",
      s, ".idempotency_keys.created_at < now() - make_interval(secs => ", ttl, "::float8)");
}

// The write TransactionalWriter::Write runs on this thread. Its outbox
// events and its answer wait here and go in with the audit row, in one
// statement at the end of the work (finish_write): three round trips to
// PostgreSQL become one.
struct PendingWrite {
  std::string schema;  // whose tables the pending rows go to
  const pqxx::work* tx = nullptr;
  std::string idempotency_key;  // the write's key: the answer is stored with it
  std::vector<std::string> event_ids, subjects, types, payloads;
  std::optional<std::string> response;
};
thread_local PendingWrite* pending_write = nullptr;

// The pending write of `tx` on `schema`, or nullptr: Emit / SetResponse
// outside a Write (or of another schema's writer) execute at once. Writers
// of one schema share it (a repository writing through another's, e.g. an
// opportunity won creating its order), so events keep the order emitted.
PendingWrite* PendingFor(const std::string& schema, const pqxx::work& tx) {
  return pending_write != nullptr && pending_write->tx == &tx && pending_write->schema == schema
             ? pending_write
             : nullptr;
}

// Sets pending_write for a scope (also when the work throws).
class ScopedPendingWrite final {
 public:
  explicit ScopedPendingWrite(PendingWrite* p) { pending_write = p; }
  ~ScopedPendingWrite() { pending_write = nullptr; }
  ScopedPendingWrite(const ScopedPendingWrite&) = delete;
  ScopedPendingWrite& operator=(const ScopedPendingWrite&) = delete;
};

}  // namespace

absl::Status SetIdempotencyKeyTtl(absl::Duration ttl) {
  if (ttl < kMinIdempotencyKeyTtl) {
    return absl::InvalidArgumentError("the idempotency key TTL must be at least 24h");
  }
  key_ttl_seconds.store(absl::ToInt64Seconds(ttl));
  return absl::OkStatus();
}

absl::Duration IdempotencyKeyTtl() { return absl::Seconds(key_ttl_seconds.load()); }

WriterQueries WriterQueries::ForSchema(const std::string& s) {
  WriterQueries q;
  // The end of a successful write: its audit row, its outbox events (in
  // the order emitted) and, when $10, the answer stored with its key.
  q.finish_write = {
      s + ".finish_write",
      absl::StrCat("WITH audit AS (INSERT INTO ", s,
                   ".audit_log (tenant_id, principal, method, resource, outcome, request_id) "
                   "VALUES ($1::uuid, $2, $3, $4, 'OK', $5)), events AS (INSERT INTO ",
                   s,
                   ".outbox (event_id, tenant_id, customer_id, event_type, payload) SELECT "
                   "e.id::uuid, $1::uuid, nullif(e.subject, '')::uuid, e.type, e.payload::jsonb "
                   "FROM unnest($6::text[], $7::text[], $8::text[], $9::text[]) WITH ORDINALITY "
                   "AS e(id, subject, type, payload, n) ORDER BY e.n) UPDATE ",
                   s,
                   ".idempotency_keys SET response = $11 WHERE $10::bool AND tenant_id = "
                   "$1::uuid AND request_id = $12"),
      0};
  q.insert_audit = {
      s + ".insert_audit",
      absl::StrCat("INSERT INTO ", s,
                   ".audit_log (tenant_id, principal, method, resource, outcome, request_id) "
                   "VALUES ($1, $2, $3, $4, $5, $6)"),
      0};
  q.insert_outbox = {
      s + ".insert_outbox",
      absl::StrCat("INSERT INTO ", s,
                   ".outbox (event_id, tenant_id, customer_id, event_type, payload) VALUES "
                   "($1, $2, nullif($3, '')::uuid, $4, $5::jsonb)"),
      0};
  // A key older than the TTL ($ttl seconds) counts as unused: claiming
  // it again replaces the old row (the purge may not have run yet).
  q.insert_idempotency_key = {
      s + ".insert_idempotency_key",
      absl::StrCat("INSERT INTO ", s,
                   ".idempotency_keys (tenant_id, request_id, method, resource_id, fingerprint) "
                   "VALUES ($1, $2, $3, $4, $5) ",
                   ReplaceExpired(s, "$6"), " RETURNING 1"),
      1};
  q.insert_idempotency_error = {
      s + ".insert_idempotency_error",
      absl::StrCat("INSERT INTO ", s,
                   ".idempotency_keys (tenant_id, request_id, method, resource_id, fingerprint, "
                   "error_code, error_reason, error_message, error_field) VALUES ($1, $2, $3, '', "
                   "$4, $5, $6, $7, $8) ",
                   ReplaceExpired(s, "$9")),
      0};
  q.select_idempotency_key = {
      s + ".select_idempotency_key",
      absl::StrCat("SELECT method, resource_id, fingerprint, coalesce(error_code, 0), "
                   "coalesce(error_reason, ''), coalesce(error_message, ''), "
                   "coalesce(error_field, '') FROM ",
                   s,
                   ".idempotency_keys WHERE tenant_id = $1 AND request_id = $2 AND created_at >= "
                   "now() - make_interval(secs => $3::float8)"),
      7};
  // The purge (KeyPurger): a bounded batch of expired keys, any tenant
  // (app.maintenance = 'on'). The outer condition is re-checked on a row
  // that a concurrent claim just replaced, so a fresh key is never lost.
  // The outbox purge (KeyPurger): a bounded batch of rows published more
  // than $1 seconds ago, any tenant (app.maintenance = 'on'); unpublished
  // rows are never deleted.
  q.purge_outbox = {
      s + ".purge_outbox",
      absl::StrCat("DELETE FROM ", s, ".outbox o USING (SELECT id FROM ", s,
                   ".outbox WHERE published_at < now() - make_interval(secs => $1::float8) "
                   "ORDER BY id LIMIT $2) old WHERE o.id = old.id"),
      0};
  q.purge_idempotency_keys = {
      s + ".purge_idempotency_keys",
      absl::StrCat("DELETE FROM ", s,
                   ".idempotency_keys k USING (SELECT tenant_id, request_id FROM ", s,
                   ".idempotency_keys WHERE created_at < now() - make_interval(secs => "
                   "$1::float8) LIMIT $2) old WHERE k.tenant_id = old.tenant_id AND k.request_id "
                   "= old.request_id AND k.created_at < now() - make_interval(secs => "
                   "$1::float8)"),
      0};
  q.set_idempotency_response = {
      s + ".set_idempotency_response",
      absl::StrCat("UPDATE ", s,
                   ".idempotency_keys SET response = $3 WHERE tenant_id = $1 AND request_id = "
                   "$2"),
      0};
  q.select_idempotency_response = {
      s + ".select_idempotency_response",
      absl::StrCat("SELECT coalesce(response, '') FROM ", s,
                   ".idempotency_keys WHERE tenant_id = $1 AND request_id = $2"),
      1};
  q.set_idempotency_resource = {
      s + ".set_idempotency_resource",
      absl::StrCat("UPDATE ", s,
                   ".idempotency_keys SET resource_id = $3 WHERE tenant_id = $1 AND "
                   "request_id = $2"),
      0};
  return q;
}

std::vector<pg::NamedQuery> WriterQueries::All() const {
  return {finish_write,
          insert_audit,
          insert_outbox,
          insert_idempotency_key,
          insert_idempotency_error,
          select_idempotency_key,
          purge_idempotency_keys,
          purge_outbox,
          set_idempotency_response,
          select_idempotency_response,
          set_idempotency_resource};
}

std::vector<pg::NamedQuery> TransactionalWriter::Queries(const std::string& schema) {
  return WriterQueries::ForSchema(schema).All();
}

absl::Status TransactionalWriter::Write(const WriteMeta& meta, const std::string& resource,
                                        const std::function<absl::Status(pqxx::work&)>& fn) {
  absl::Status s = pool_.WithTenantTx(meta.tenant_id, [&](pqxx::work& tx) -> absl::Status {
    PendingWrite p;  // a retried transaction starts over
    p.schema = schema_;
    p.tx = &tx;
    p.idempotency_key = meta.idempotency_key;
    {
      ScopedPendingWrite scope(&p);
      CRM_RETURN_IF_ERROR(fn(tx));
    }
    pool_.Exec(tx, q_.finish_write, meta.tenant_id, meta.principal, meta.method, resource,
               meta.request_id, pg::TextArrayLiteral(p.event_ids), pg::TextArrayLiteral(p.subjects),
               pg::TextArrayLiteral(p.types), pg::TextArrayLiteral(p.payloads),
               p.response.has_value(), p.response.value_or(std::string()), meta.idempotency_key);
    return absl::OkStatus();
  });
  // Committed: the relay publishes now rather than at its next poll.
  if (s.ok()) WakeupFor(schema_).Notify();
  if (!s.ok() && s.code() != absl::StatusCode::kUnavailable &&
      s.code() != absl::StatusCode::kInternal) {
    // The write rolled back; record the refused attempt on its own, and a
    // deterministic refusal with its idempotency key.
    const bool replayable = IsReplayableRefusal(meta, s);
    std::string outcome = absl::StatusCodeToString(s.code());
    absl::Status a = pool_.WithTenantTx(meta.tenant_id, [&](pqxx::work& tx) {
      pool_.Exec(tx, q_.insert_audit, meta.tenant_id, meta.principal, meta.method, resource,
                 outcome, meta.request_id);
      if (replayable) {
        pool_.Exec(tx, q_.insert_idempotency_error, meta.tenant_id, meta.idempotency_key,
                   meta.method, meta.fingerprint, static_cast<int>(s.code()), common::ReasonOf(s),
                   std::string(s.message()), common::FieldOf(s), key_ttl_seconds.load());
      }
      return absl::OkStatus();
    });
    if (!a.ok()) CRM_LOG(Warning).Field("rpc", meta.method) << "audit of a failed write: " << a;
  }
  return s;
}

void TransactionalWriter::Emit(pqxx::work& tx, const WriteMeta& meta,
                               const std::string& customer_id, const std::string& type,
                               const std::string& payload_json) {
  if (PendingWrite* p = PendingFor(schema_, tx)) {
    p->event_ids.push_back(common::NewUuid());
    p->subjects.push_back(customer_id);
    p->types.push_back(type);
    p->payloads.push_back(payload_json);
    return;
  }
  pool_.Exec(tx, q_.insert_outbox, common::NewUuid(), meta.tenant_id, customer_id, type,
             payload_json);
}

absl::StatusOr<std::optional<std::string>> TransactionalWriter::ClaimIdempotencyKey(
    pqxx::work& tx, const WriteMeta& meta, const std::string& resource_id) {
  if (meta.idempotency_key.empty()) return std::optional<std::string>();
  pqxx::result k = pool_.Exec(tx, q_.insert_idempotency_key, meta.tenant_id, meta.idempotency_key,
                              meta.method, resource_id, meta.fingerprint, key_ttl_seconds.load());
  if (!k.empty()) return std::optional<std::string>();
  pqxx::result prev = pool_.Exec(tx, q_.select_idempotency_key, meta.tenant_id,
                                 meta.idempotency_key, key_ttl_seconds.load());
  if (prev.empty()) return absl::AbortedError("request_id in flight, retry");
  return Previous(prev[0], meta);
}

absl::StatusOr<std::optional<std::string>> TransactionalWriter::PeekIdempotencyKey(
    pqxx::work& tx, const WriteMeta& meta) {
  if (meta.idempotency_key.empty()) return std::optional<std::string>();
  pqxx::result prev = pool_.Exec(tx, q_.select_idempotency_key, meta.tenant_id,
                                 meta.idempotency_key, key_ttl_seconds.load());
  if (prev.empty()) return std::optional<std::string>();
  return Previous(prev[0], meta);
}

absl::StatusOr<std::optional<std::string>> TransactionalWriter::Previous(const pqxx::row& prev,
                                                                        const WriteMeta& meta) {
  if (prev[0].as<std::string>() != meta.method) {
    return KeyUsedForAnotherCall();
  }
  // A key stored without a fingerprint was claimed by a lenient write (a
  // method before it became strict): it replays, whatever the body.
  const std::string stored_fingerprint = prev[2].as<std::string>();
  if (!stored_fingerprint.empty() && stored_fingerprint != meta.fingerprint) {
    return KeyReusedWithAnotherBody();
  }
  if (int code = prev[3].as<int>(); code != 0) {
    // The first call failed: answer the same error.
    absl::Status first(static_cast<absl::StatusCode>(code), prev[5].as<std::string>());
    std::string reason = prev[4].as<std::string>();
    std::string field = prev[6].as<std::string>();
    if (!reason.empty()) first = common::WithReason(first, reason);
    if (!field.empty()) first = common::WithField(first, field);
    return first;
  }
  return std::optional<std::string>(prev[1].as<std::string>());
}

void TransactionalWriter::SetResource(pqxx::work& tx, const WriteMeta& meta,
                                      const std::string& resource_id) {
  if (meta.idempotency_key.empty()) return;
  pool_.Exec(tx, q_.set_idempotency_resource, meta.tenant_id, meta.idempotency_key, resource_id);
}

void TransactionalWriter::SetResponse(pqxx::work& tx, const WriteMeta& meta,
                                      const std::string& response) {
  if (meta.idempotency_key.empty()) return;
  if (PendingWrite* p = PendingFor(schema_, tx);
      p != nullptr && p->idempotency_key == meta.idempotency_key) {
    p->response = response;
    return;
  }
  pool_.Exec(tx, q_.set_idempotency_response, meta.tenant_id, meta.idempotency_key, response);
}

absl::StatusOr<std::optional<std::string>> TransactionalWriter::FindStoredResponse(
    const WriteMeta& meta) {
  std::optional<std::string> out;
  if (meta.idempotency_key.empty()) return out;
  CRM_RETURN_IF_ERROR(pool_.WithTenantTx(meta.tenant_id, [&](pqxx::work& tx) -> absl::Status {
    out.reset();
    CRM_ASSIGN_OR_RETURN(std::optional<std::string> used, PeekIdempotencyKey(tx, meta));
    if (!used) return absl::OkStatus();
    std::string stored = StoredResponse(tx, meta);
    if (!stored.empty()) out = std::move(stored);
    return absl::OkStatus();
  }));
  return out;
}

std::string TransactionalWriter::StoredResponse(pqxx::work& tx, const WriteMeta& meta) {
  if (meta.idempotency_key.empty()) return {};
  if (PendingWrite* p = PendingFor(schema_, tx);
      p != nullptr && p->idempotency_key == meta.idempotency_key && p->response) {
    return *p->response;
  }
  pqxx::result r =
      pool_.Exec(tx, q_.select_idempotency_response, meta.tenant_id, meta.idempotency_key);
  return r.empty() ? std::string() : r[0][0].as<std::string>();
}

}  // namespace crm::outbox
