#pragma once
// The app layer's side of the unit of work: a use case runs its write as
//
//   repository.Run<Opportunity>(actor, id, [&](PipelineTx& tx) -> absl::StatusOr<Opportunity> {
//     CRM_ASSIGN_OR_RETURN(Opportunity o, tx.LoadOpportunity(id));  // load for update
//     CRM_RETURN_IF_ERROR(domain::ApplyStageMove(o, move, now));    // the rules
//     tx.SaveOpportunity(o);                                         // save
//     tx.AppendStageChange(...);                                     // append
//     tx.EmitOpportunity("opportunity.stage_changed", o, from);      // emit
//     return o;
//   });
//
// `Port` is the aggregate's transaction port (PipelineTx above): the only
// things a write may do, named in the domain's words. The repository behind
// the port runs the work once per idempotency key, in one tenant
// transaction with its audit row, outbox events and stored answer
// (PostgreSQL: outbox::WriteOnce in unit_of_work.h; tests: an in-memory
// fake), so a use case holds the order of a write and its rules and no
// idempotency, audit or SQL code. Free of database headers.
#include <string>

#include "absl/functional/function_ref.h"
#include "absl/status/statusor.h"
#include "libs/common/errors.h"
#include "libs/outbox/write_meta.h"

namespace crm::outbox {

// The key discipline's refusals and rule, shared by the PostgreSQL writer
// (writer.cc) and the in-memory fakes of the tests.
// INVALID_ARGUMENT INVALID_FIELD request_id: the key named another method.
inline absl::Status KeyUsedForAnotherCall() {
  return common::WithField(
      common::WithReason(
          absl::InvalidArgumentError("request_id was already used for a different call"),
          "INVALID_FIELD"),
      "request_id");
}
// INVALID_ARGUMENT IDEMPOTENCY_KEY_REUSED request_id: same key, another body.
inline absl::Status KeyReusedWithAnotherBody() {
  return common::WithField(
      common::WithReason(
          absl::InvalidArgumentError("request_id was already used with a different request body; "
                                     "use a new request_id for a new request"),
          "IDEMPOTENCY_KEY_REUSED"),
      "request_id");
}
// Whether a refused write's status is kept with its (strict) key and
// answered again on a retry: the deterministic refusals, which the same
// request meets again (not UNAVAILABLE, ABORTED, INTERNAL, ...).
inline bool IsReplayableRefusal(const WriteMeta& meta, const absl::Status& s) {
  return !meta.idempotency_key.empty() && !meta.fingerprint.empty() &&
         common::ReasonOf(s) != "IDEMPOTENCY_KEY_REUSED" &&
         (s.code() == absl::StatusCode::kInvalidArgument ||
          s.code() == absl::StatusCode::kFailedPrecondition ||
          s.code() == absl::StatusCode::kNotFound || s.code() == absl::StatusCode::kAlreadyExists ||
          s.code() == absl::StatusCode::kOutOfRange);
}

// Writes through `Port` that answer a T.
template <typename Port, typename T>
class WritesOf {
 public:
  virtual ~WritesOf() = default;
  // Runs `work` as one write of `meta` on `resource` (the audit row's
  // resource and the id the key names first): once per idempotency key; a
  // retry answers the first call's answer or refusal without running it; a
  // refusal writes nothing. The work may run more than once (a
  // serialization failure retries the transaction): it must not act outside
  // the port.
  virtual absl::StatusOr<T> Write(const WriteMeta& meta, const std::string& resource,
                                  absl::FunctionRef<absl::StatusOr<T>(Port&)> work) = 0;
};

// A unit of work over `Port` whose writes answer one of `Answers`.
template <typename Port, typename... Answers>
class UnitOfWork : public WritesOf<Port, Answers>... {
 public:
  template <typename T>
  absl::StatusOr<T> Run(const WriteMeta& meta, const std::string& resource,
                        absl::FunctionRef<absl::StatusOr<T>(Port&)> work) {
    return static_cast<WritesOf<Port, T>&>(*this).Write(meta, resource, work);
  }
};

}  // namespace crm::outbox
