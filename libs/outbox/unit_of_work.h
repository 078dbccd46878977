#pragma once
// One write, written once. Every mutating RPC of every service runs through
// WriteOnce:
//
//   claim the idempotency key → on a retry, answer what the first call
//   answered (its stored answer, or its stored refusal) → else do the work
//   (load for update, rules, save, append, emit) → audit → outbox events →
//   store the answer with the key; all in one tenant transaction.
//
// The work gets a WriteTx: the transaction, the call's WriteMeta and Emit.
// It holds no idempotency code of its own; a repository keeps only its
// named SQL and row mapping, and an AnswerCodec saying how its answer is
// kept with the key (libs/outbox/writer.h has the key discipline itself:
// fingerprints, stored refusals, expiry).
#include <functional>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <utility>

#include "absl/functional/function_ref.h"
#include "absl/status/statusor.h"
#include "libs/common/status_macros.h"
#include "libs/outbox/writer.h"

namespace crm::outbox {

// A write's transaction, as the work sees it.
class WriteTx final {
 public:
  WriteTx(TransactionalWriter& writer, pqxx::work& tx, const WriteMeta& meta)
      : writer_(writer), tx_(tx), meta_(meta) {}
  pqxx::work& sql() const { return tx_; }
  const WriteMeta& meta() const { return meta_; }
  const std::string& tenant() const { return meta_.tenant_id; }
  // An outbox event, committed with the write. subject: the customer id the
  // event concerns ("" when none).
  void Emit(const std::string& subject, const std::string& type,
            const std::string& payload_json) const {
    writer_.Emit(tx_, meta_, subject, type, payload_json);
  }
  // The resource the key names, when its id is known only after an insert.
  void SetResource(const std::string& id) const { writer_.SetResource(tx_, meta_, id); }

 private:
  TransactionalWriter& writer_;
  pqxx::work& tx_;
  const WriteMeta& meta_;
};

// How a write's answer is kept with its idempotency key and given back on a
// retry.
template <typename T>
struct AnswerCodec {
  // The text stored with the key; unset: nothing is stored and `replay`
  // reads the answer back from the resource (immutable records).
  std::function<std::string(const T&)> encode;
  // A retry's answer, from the stored text ("" when none was stored) and the
  // resource id the key names, in the retry's transaction.
  std::function<absl::StatusOr<T>(const WriteTx&, const std::string& stored,
                                  const std::string& resource_id)>
      replay;
};

// An AnswerCodec whose answers are snapshots: encode to text, decode back.
template <typename T>
AnswerCodec<T> SnapshotCodec(std::function<std::string(const T&)> encode,
                             std::function<absl::StatusOr<T>(const std::string&)> decode) {
  AnswerCodec<T> c;
  c.encode = std::move(encode);
  c.replay = [decode = std::move(decode)](const WriteTx&, const std::string& stored,
                                          const std::string&) { return decode(stored); };
  return c;
}

// An answer stored as JSON: `fn(json, ok)` builds it and clears `ok` on a
// bad value; text that does not parse, a missing key or a cleared `ok` is
// DATA_LOSS with the message `corrupt`.
template <typename T, typename Fn>
absl::StatusOr<T> ParseJsonAnswer(const std::string& stored, Fn fn, const char* corrupt) {
  try {
    bool ok = true;
    T out = fn(nlohmann::json::parse(stored), ok);
    if (!ok) return absl::DataLossError(corrupt);
    return out;
  } catch (const nlohmann::json::exception&) {
    return absl::DataLossError(corrupt);
  }
}

// Runs `work` as one write of `meta` on `resource` (the audit row's resource
// and the id the key names first). Without an idempotency key every call
// does the work. The work may run more than once (a serialization failure
// retries the transaction): it must not act outside it.
template <typename T>
absl::StatusOr<T> WriteOnce(TransactionalWriter& writer, const WriteMeta& meta,
                            const std::string& resource, const AnswerCodec<T>& codec,
                            absl::FunctionRef<absl::StatusOr<T>(const WriteTx&)> work) {
  std::optional<T> out;
  CRM_RETURN_IF_ERROR(writer.Write(meta, resource, [&](pqxx::work& tx) -> absl::Status {
    out.reset();
    const WriteTx w(writer, tx, meta);
    CRM_ASSIGN_OR_RETURN(std::optional<std::string> first,
                         writer.ClaimIdempotencyKey(tx, meta, resource));
    if (first) {
      CRM_ASSIGN_OR_RETURN(T answer, codec.replay(w, writer.StoredResponse(tx, meta), *first));
      out = std::move(answer);
      return absl::OkStatus();
    }
    CRM_ASSIGN_OR_RETURN(T answer, work(w));
    if (codec.encode && !meta.idempotency_key.empty()) {
      writer.SetResponse(tx, meta, codec.encode(answer));
    }
    out = std::move(answer);
    return absl::OkStatus();
  }));
  return std::move(*out);
}

}  // namespace crm::outbox
