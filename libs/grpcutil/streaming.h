#pragma once
// The streaming counterpart of unary.h: what a streaming reactor (client,
// server or bidirectional stream) shares with every unary call.
//   no tenant       -> UNAUTHENTICATED (ReadContext)
//   queue full      -> RESOURCE_EXHAUSTED (OVERLOADED), rejection counted
//   client gone     -> CANCELLED (cancelled or past its deadline), the work not run
//   exception       -> INTERNAL with a generic message (detail logged)
// and the call ends exactly once through EndOfCall (end_of_call.h): the
// same status conversion, reason trailer, RPC metrics and access-log line
// as a unary call.
//
//   class ImportReactor : public grpc::ServerReadReactor<Req> {
//     ImportReactor(...) : call_(ctx, metrics, "ImportThings") {
//       if (absl::Status s = call_.ReadContext(); !s.ok()) { call_.Finish(this, s); return; }
//       StartRead(&msg_);
//     }
//     void OnReadDone(bool ok) override {
//       if (!ok) call_.Offload(this, executor_, [this] { return Work(); },
//                              [this](const absl::Status& s) { call_.Finish(this, s); });
//       ...
//     }
//     StreamCall call_;
//   };
#include <atomic>
#include <utility>

#include <grpcpp/server_context.h>

#include "absl/status/status.h"
#include "absl/time/clock.h"
#include "libs/common/executor.h"
#include "libs/grpcutil/context.h"
#include "libs/grpcutil/end_of_call.h"
#include "libs/grpcutil/rpc_metrics.h"

namespace crm::grpcutil {

class StreamCall final {
 public:
  // `method` must outlive the call (a string literal).
  StreamCall(grpc::CallbackServerContext* ctx, RpcMetrics& metrics, const char* method)
      : ctx_(ctx), metrics_(metrics), method_(method), start_(absl::Now()) {}
  StreamCall(const StreamCall&) = delete;
  StreamCall& operator=(const StreamCall&) = delete;

  // Reads and verifies the sealed request context (call before any other
  // reaction can run, e.g. in the reactor's constructor). Not OK: the
  // refusal to Finish with (the context is then kept for the log only).
  [[nodiscard]] absl::Status ReadContext() {
    auto read = ReadRequestContext(*ctx_);
    if (!read.ok()) {
      rc_ = ReadRequestContextLenient(*ctx_);
      return read.status();
    }
    rc_ = *std::move(read);
    return absl::OkStatus();
  }
  const RequestContext& rc() const { return rc_; }
  grpc::CallbackServerContext* context() const { return ctx_; }
  // The client cancelled the call or its deadline has passed.
  bool cancelled() const { return CallAbandoned(*ctx_); }

  // Runs work (absl::Status()) on the executor, then then(status) on the
  // same worker: CANCELLED without running the work when the client has
  // gone, INTERNAL for an escaped exception. A full queue finishes the call
  // with OVERLOADED at once (then is not called).
  template <typename Reactor, typename Work, typename Then>
  void Offload(Reactor* reactor, common::Executor& executor, Work work, Then then) {
    bool queued = executor.TrySubmit(
        [this, work = std::move(work), then = std::move(then)]() mutable {
          absl::Status s = cancelled() ? ClientGoneError() : RunGuarded(method_, rc_, work);
          then(s);
        });
    if (!queued) {
      metrics_.RecordRejected();
      Finish(reactor, OverloadedError());
    }
  }

  // Ends the call through EndOfCall and finishes the reactor; later calls
  // are ignored (a reactor must be finished exactly once).
  template <typename Reactor>
  void Finish(Reactor* reactor, const absl::Status& status) {
    if (ended_.exchange(true)) return;
    reactor->Finish(EndOfCall(ctx_, metrics_, method_, rc_, start_, status));
  }
  bool ended() const { return ended_.load(); }

 private:
  grpc::CallbackServerContext* ctx_;
  RpcMetrics& metrics_;
  const char* method_;
  absl::Time start_;
  RequestContext rc_;
  std::atomic<bool> ended_{false};
};

}  // namespace crm::grpcutil
