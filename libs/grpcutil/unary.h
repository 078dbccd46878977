#pragma once
// The offload helper: a callback unary handler does cheap work only and hands
// the use case to the bounded executor. The worker finishes the reactor.
//   queue full      -> RESOURCE_EXHAUSTED (OVERLOADED)
//   no tenant       -> UNAUTHENTICATED (MISSING_TENANT_CONTEXT)
//   client gone     -> CANCELLED (cancelled, or past its deadline, before the work ran)
//   exception       -> INTERNAL with a generic message (detail logged)
// and always the one end of a call (end_of_call.h): ToGrpcStatus, RPC
// metrics, one access-log line, then Finish(). Streaming calls end through
// the same path (streaming.h).
#include <utility>

#include <grpcpp/server_context.h>
#include <grpcpp/support/server_callback.h>

#include "absl/status/status.h"
#include "absl/time/clock.h"
#include "libs/common/errors.h"
#include "libs/common/executor.h"
#include "libs/grpcutil/context.h"
#include "libs/grpcutil/end_of_call.h"
#include "libs/grpcutil/rpc_metrics.h"

namespace crm::grpcutil {

struct OffloadOptions {
  bool require_tenant = true;
};

void FinishRpc(grpc::CallbackServerContext* ctx, grpc::ServerUnaryReactor* reactor,
               RpcMetrics& metrics, const char* method, const RequestContext& rc,
               absl::Time start, const absl::Status& status);

// fn: absl::Status(const RequestContext&)
template <typename Fn>
grpc::ServerUnaryReactor* Offload(grpc::CallbackServerContext* ctx, common::Executor& executor,
                                  RpcMetrics& metrics, const char* method, Fn fn,
                                  OffloadOptions options = {}) {
  grpc::ServerUnaryReactor* reactor = ctx->DefaultReactor();
  absl::Time start = absl::Now();
  RequestContext rc;
  if (options.require_tenant) {
    auto read = ReadRequestContext(*ctx);
    if (!read.ok()) {
      FinishRpc(ctx, reactor, metrics, method, ReadRequestContextLenient(*ctx), start,
                read.status());
      return reactor;
    }
    rc = *std::move(read);
  } else {
    rc = ReadRequestContextLenient(*ctx);
  }
  bool queued = executor.TrySubmit([ctx, reactor, &metrics, method, rc, start,
                                    fn = std::move(fn)]() mutable {
    absl::Status status =
        CallAbandoned(*ctx)
            ? ClientGoneError()
            : RunGuarded(method, rc, [&] { return fn(static_cast<const RequestContext&>(rc)); });
    FinishRpc(ctx, reactor, metrics, method, rc, start, status);
  });
  if (!queued) {
    metrics.RecordRejected();
    FinishRpc(ctx, reactor, metrics, method, rc, start, OverloadedError());
  }
  return reactor;
}

}  // namespace crm::grpcutil
