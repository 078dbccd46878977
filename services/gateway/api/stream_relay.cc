// A relayed server-streaming or bidirectional gRPC call (see StreamRelay).
#include "services/gateway/api/stream_relay.h"

#include <optional>

#include "absl/strings/numbers.h"
#include "absl/synchronization/mutex.h"
#include "libs/common/errors.h"
#include "libs/grpcutil/status_conversion.h"

namespace crm::gateway::api {
namespace {

// A relayed server-streaming or bidirectional call: the inbound stream
// (this reactor) and the backend leg (a generic client bidi reactor) joined
// message by message.
//
// Flow control: one read and one write outstanding per side. A message read
// from the client is written to the backend, and the next client read starts
// only when that write completed; a message read from the backend is written
// to the client, and the next backend read starts only when that write
// completed. So at most one message per direction is held here, and a slow
// reader on either side slows the sender through gRPC's own flow control.
//
// Lifetime: the relay owns itself (self_) until the inbound OnDone, and the
// backend leg holds a reference (leg_self_) until its OnDone. The leg's
// operations are also started outside its own reactions, so it carries two
// holds (one per direction), each removed when its direction is over; the
// leg's OnDone (status received, every operation complete) then finishes the
// inbound call with the backend's sanitized status and reason trailer.
//
// Every end (a refusal at admission, a refused message, the backend's end)
// goes through FinishInbound: EndProxiedCall, the end every server call
// takes (RPC metrics, one access-log line).
class StreamRelay final : public grpc::ServerGenericBidiReactor {
 public:
  static StreamRelay* Create(grpc::GenericCallbackServerContext* ctx, Proxy& proxy,
                             grpcutil::RpcMetrics& metrics, const char* method) {
    std::shared_ptr<StreamRelay> r(new StreamRelay(ctx, proxy, metrics, method));
    r->self_ = r;
    r->Begin();
    return r.get();
  }

  // ---- inbound side ----
  void OnReadDone(bool ok) override {
    bool half_close = false;
    {
      absl::MutexLock l(&mu_);
      if (!write_hold_) return;  // the backend is gone: stop reading the client
      if (ok) {
        leg_write_in_flight_ = true;
        ++messages_in_;
      } else {
        write_hold_ = false;
        half_close = true;
      }
    }
    if (ok) {
      // Every client message takes a rate-limit token before it goes on.
      std::shared_ptr<StreamRelay> self = self_;
      proxy_.AdmitMessage(principal_, [self](absl::Status s) { self->MessageAdmitted(s); });
      return;
    }
    if (half_close) {
      // The client half-closed (or went away: then OnCancel cancels the leg).
      if (!ctx_->IsCancelled()) leg_.StartWritesDone();
      leg_.RemoveHold();
    }
  }

  void OnWriteDone(bool ok) override {
    if (ok) {
      leg_.StartRead(&from_backend_);
      return;
    }
    // The client stopped reading (cancelled, gone): cancel the backend call.
    leg_ctx_.TryCancel();
    {
      absl::MutexLock l(&mu_);
      read_hold_ = false;
    }
    leg_.RemoveHold();
  }

  void OnCancel() override {
    bool started;
    {
      absl::MutexLock l(&mu_);
      cancelled_ = true;
      started = backend_started_;
    }
    if (started) leg_ctx_.TryCancel();
  }

  void OnDone() override {
    proxy_.RecordStreamMessages(method_, messages_in_, messages_out_);
    if (backend_started_) proxy_.StreamOpened(-1);
    if (holds_slot_) proxy_.ReleaseStreamSlot(principal_.tenant_id);
    std::shared_ptr<StreamRelay> keep = std::move(self_);  // may delete this on return
  }

 private:
  // ---- backend leg ----
  class Leg final : public grpc::ClientBidiReactor<grpc::ByteBuffer, grpc::ByteBuffer> {
   public:
    explicit Leg(StreamRelay* relay) : relay_(relay) {}
    void OnReadDone(bool ok) override { relay_->BackendReadDone(ok); }
    void OnWriteDone(bool ok) override { relay_->BackendWriteDone(ok); }
    void OnDone(const grpc::Status& s) override { relay_->BackendDone(s); }

   private:
    StreamRelay* relay_;
  };

  StreamRelay(grpc::GenericCallbackServerContext* ctx, Proxy& proxy, grpcutil::RpcMetrics& metrics,
              const char* method)
      : ctx_(ctx),
        proxy_(proxy),
        metrics_(metrics),
        method_(method),
        start_(absl::Now()),
        call_(InboundCallFrom(*ctx, /*upload=*/true)),
        leg_(this) {}

  void Begin() {
    ctx_->AddInitialMetadata(grpcutil::kRequestIdHeader, call_->request_id);
    std::shared_ptr<StreamRelay> self = self_;
    proxy_.Admit(call_, [self](const app::Principal* p, ForwardResult refusal) {
      self->Admitted(p, std::move(refusal));
    });
  }

  void Admitted(const app::Principal* p, ForwardResult refusal) {
    if (p == nullptr) {
      result_ = std::move(refusal);
      FinishInbound(result_.status);
      return;
    }
    result_.tenant_id = p->tenant_id;
    result_.principal = p->key_id;
    principal_ = *p;
    if (absl::Status slot = proxy_.AcquireStreamSlot(p->tenant_id); !slot.ok()) {
      result_.reason = common::ReasonOf(slot);
      FinishInbound(grpcutil::ToGrpcStatus(slot));
      return;
    }
    holds_slot_ = true;
    Proxy::StreamTarget target = proxy_.TargetFor(*call_, *p);
    if (target.stub == nullptr) {
      FinishInbound(grpc::Status(grpc::StatusCode::UNIMPLEMENTED, "unknown method"));
      return;
    }
    grpcutil::PropagateRequestContext(target.context, &leg_ctx_);
    leg_ctx_.set_deadline(ToChrono(target.deadline));
    {
      absl::MutexLock l(&mu_);
      if (cancelled_) {
        // Finished below; the leg never starts.
      } else {
        backend_started_ = true;
        leg_self_ = self_;
      }
    }
    if (!backend_started_) {
      FinishInbound(grpc::Status(grpc::StatusCode::CANCELLED, "call cancelled"));
      return;
    }
    proxy_.StreamOpened(1);
    target.stub->PrepareBidiStreamingCall(&leg_ctx_, call_->full_method, grpc::StubOptions(),
                                          &leg_);
    leg_.AddMultipleHolds(2);  // client -> backend, backend -> client
    leg_.StartRead(&from_backend_);
    // The inbound read starts before the leg: the leg's end finishes the
    // inbound call, after which no operation may start on it. (A client
    // message arriving before StartCall is queued by the leg.)
    StartRead(&from_client_);
    leg_.StartCall();
  }

  void BackendWriteDone(bool ok) {
    bool remove_hold = false;
    {
      absl::MutexLock l(&mu_);
      leg_write_in_flight_ = false;
      if (!ok || backend_ended_) {
        // The backend call is over: nothing more goes to it.
        remove_hold = write_hold_;
        write_hold_ = false;
      }
    }
    if (remove_hold) {
      leg_.RemoveHold();
      return;
    }
    if (ok) {
      from_client_.Clear();
      StartRead(&from_client_);
    }
  }

  void BackendReadDone(bool ok) {
    if (ok) {
      {
        absl::MutexLock l(&mu_);
        ++messages_out_;
      }
      StartWrite(&from_backend_);
      return;
    }
    // The backend ended its side (status on its way): stop both directions.
    // A client read still outstanding completes later and finds the write
    // direction closed.
    bool remove_write_hold = false;
    {
      absl::MutexLock l(&mu_);
      backend_ended_ = true;
      read_hold_ = false;
      if (write_hold_ && !leg_write_in_flight_) {
        write_hold_ = false;
        remove_write_hold = true;
      }
    }
    leg_.RemoveHold();
    if (remove_write_hold) leg_.RemoveHold();
  }

  // A client message's token: granted -> on to the backend; refused -> the
  // backend call is cancelled and the stream ends with the refusal.
  void MessageAdmitted(const absl::Status& s) {
    if (s.ok()) {
      leg_.StartWrite(&from_client_);  // the write hold keeps the leg alive
      return;
    }
    bool remove_hold = false;
    {
      absl::MutexLock l(&mu_);
      leg_write_in_flight_ = false;
      if (!refusal_) refusal_ = s;
      remove_hold = write_hold_;
      write_hold_ = false;
    }
    leg_ctx_.TryCancel();
    if (remove_hold) leg_.RemoveHold();
  }

  void BackendDone(const grpc::Status& s) {
    std::optional<absl::Status> refusal;
    {
      absl::MutexLock l(&mu_);
      refusal = refusal_;
    }
    std::shared_ptr<StreamRelay> keep = std::move(leg_self_);
    if (refusal) {
      result_.reason = common::ReasonOf(*refusal);
      if (auto retry = refusal->GetPayload(app::kRetryAfterPayload)) {
        int64_t ms = 0;
        if (absl::SimpleAtoi(std::string(*retry), &ms)) result_.retry_after_ms = ms;
      }
      FinishInbound(grpcutil::ToGrpcStatus(*refusal));
      return;
    }
    // The backend's status and reason trailer, as for a unary call.
    SetBackendOutcome(leg_ctx_, s, &result_);
    FinishInbound(result_.status);
  }

  void FinishInbound(const grpc::Status& s) {
    result_.status = s;
    Finish(EndProxiedCall(ctx_, metrics_, method_, start_, *call_, result_));
  }

  grpc::GenericCallbackServerContext* ctx_;
  Proxy& proxy_;
  grpcutil::RpcMetrics& metrics_;
  const char* method_;
  absl::Time start_;
  std::shared_ptr<InboundCall> call_;
  ForwardResult result_;  // status, reason, tenant and principal (once admitted)

  grpc::ClientContext leg_ctx_;
  Leg leg_;
  grpc::ByteBuffer from_client_;
  grpc::ByteBuffer from_backend_;

  absl::Mutex mu_;
  bool cancelled_ ABSL_GUARDED_BY(mu_) = false;
  bool backend_started_ = false;  // written once under mu_ before the leg starts
  bool write_hold_ ABSL_GUARDED_BY(mu_) = true;
  bool read_hold_ ABSL_GUARDED_BY(mu_) = true;
  bool leg_write_in_flight_ ABSL_GUARDED_BY(mu_) = false;
  bool backend_ended_ ABSL_GUARDED_BY(mu_) = false;
  int64_t messages_in_ = 0;
  int64_t messages_out_ = 0;
  app::Principal principal_;  // set once admitted
  bool holds_slot_ = false;   // one of the tenant's concurrent stream slots
  std::optional<absl::Status> refusal_ ABSL_GUARDED_BY(mu_);  // a message's token was refused

  std::shared_ptr<StreamRelay> self_;
  std::shared_ptr<StreamRelay> leg_self_;
};

}  // namespace

grpc::ServerGenericBidiReactor* CreateStreamRelay(grpc::GenericCallbackServerContext* ctx,
                                                  Proxy& proxy, grpcutil::RpcMetrics& metrics,
                                                  const char* method) {
  return StreamRelay::Create(ctx, proxy, metrics, method);
}

}  // namespace crm::gateway::api
