#pragma once
// The one end of every server call, unary (unary.h) or streaming
// (streaming.h): the absl::Status converted once (ToGrpcStatus), the reason
// trailer, an ERROR line with the internal detail of an INTERNAL status,
// the RPC metrics and one access-log line (RpcMetrics::Record). The
// statuses every handler shares (overload, client gone, escaped exception)
// are made here too, so no handler spells them differently.
#include <exception>
#include <stdexcept>
#include <string_view>

#include <grpcpp/server_context.h>
#include <grpcpp/support/status.h>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "libs/grpcutil/context.h"
#include "libs/grpcutil/rpc_metrics.h"
#include "libs/observability/log.h"

namespace crm::grpcutil {

// RESOURCE_EXHAUSTED (OVERLOADED): the executor's queue is full.
absl::Status OverloadedError();
// CANCELLED: the client cancelled the call or its deadline passed before
// the work ran (what the server records; the client sees CANCELLED or
// DEADLINE_EXCEEDED).
absl::Status ClientGoneError();
// INTERNAL (INTERNAL_ERROR) with a generic message: what an escaped
// exception becomes (its text is logged, never sent).
absl::Status UnexpectedError();

// Whether the work of a call is pointless: the client cancelled it or its
// deadline has passed (checked directly, not only once gRPC's timer fired).
bool CallAbandoned(const grpc::CallbackServerContext& ctx);

// Logs an escaped exception with the call's ids.
void LogEscapedException(const char* method, const RequestContext& rc, const std::exception& e);

// Runs fn (absl::Status()), turning an escaped exception into UnexpectedError().
template <typename Fn>
absl::Status RunGuarded(const char* method, const RequestContext& rc, Fn&& fn) {
  try {
    return fn();
  } catch (const std::exception& e) {
    LogEscapedException(method, rc, e);
  } catch (...) {
    LogEscapedException(method, rc, std::runtime_error("non-standard exception"));
  }
  return UnexpectedError();
}

// Ends a call: reason trailer, log, metrics and access-log line; returns the
// status to finish the reactor with. `start` is when the call arrived.
grpc::Status EndOfCall(grpc::CallbackServerContext* ctx, RpcMetrics& metrics, const char* method,
                       const RequestContext& rc, absl::Time start, const absl::Status& status);
// The same end for a call whose status is already a grpc::Status, kept as
// it is (code, message, details): one relayed from a backend by the
// gateway's proxy. `reason` (may be empty) goes into the reason trailer and
// the access-log line. No ERROR line: such a status was made, and its
// internal detail logged, where it came from. The absl::Status overload
// ends here too.
grpc::Status EndOfCall(grpc::CallbackServerContext* ctx, RpcMetrics& metrics, const char* method,
                       const RequestContext& rc, absl::Time start, const grpc::Status& status,
                       std::string_view reason);

}  // namespace crm::grpcutil
