#include "services/gateway/api/proxy.h"

#include <algorithm>
#include <chrono>
#include <optional>

#include <google/protobuf/descriptor.h>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "libs/common/crypto.h"
#include "libs/common/errors.h"
#include "libs/common/id.h"
#include "libs/grpcutil/rpc_metrics.h"
#include "libs/grpcutil/status_conversion.h"
#include "libs/observability/log.h"
#include "services/gateway/domain/permissions.h"

namespace crm::gateway::api {
namespace {

std::string ServiceOf(absl::string_view full_method) {
  // "/pkg.Service/Method" -> "pkg.Service"
  if (full_method.empty() || full_method[0] != '/') return {};
  size_t slash = full_method.find('/', 1);
  if (slash == absl::string_view::npos) return {};
  return std::string(full_method.substr(1, slash - 1));
}

std::chrono::system_clock::time_point ToChrono(absl::Time t) {
  return std::chrono::system_clock::from_time_t(0) +
         std::chrono::microseconds(absl::ToUnixMicros(t));
}

absl::Time FromChrono(std::chrono::system_clock::time_point t) {
  return absl::FromUnixMicros(
      std::chrono::duration_cast<std::chrono::microseconds>(t.time_since_epoch()).count());
}

}  // namespace

void LogAccess(const char* transport, absl::string_view what, absl::string_view code,
               absl::Duration latency, const InboundCall& call, const ForwardResult& r) {
  auto line = CRM_LOG(Info);
  line.Field("transport", transport)
      .Field("rpc", std::string(what))
      .Field("code", std::string(code))
      .Field("latency_ms", absl::ToDoubleMilliseconds(latency))
      .Field("request_id", call.request_id)
      .Field("trace_id", grpcutil::TraceIdOf(std::string_view(call.traceparent)));
  if (!r.tenant_id.empty()) line.Field("tenant_id", r.tenant_id);
  if (!r.principal.empty()) line.Field("principal", r.principal);
  if (!r.reason.empty()) line.Field("reason", r.reason);
  line << "access";
}

grpc::Status SanitizeBackendStatus(const grpc::Status& s, std::string* reason) {
  // Our services always attach an ErrorInfo; a status without one comes from
  // the transport (backend down, reset, timeout) and its message names
  // internal addresses: keep the code, log the detail, answer generically.
  if (s.ok() || !s.error_details().empty()) return s;
  if (s.error_code() == grpc::StatusCode::UNIMPLEMENTED) {
    *reason = "MALFORMED_REQUEST";
    return grpcutil::ToGrpcStatus(common::WithReason(
        absl::InvalidArgumentError(
            "the request message could not be parsed: malformed protobuf bytes, a string "
            "field that is not valid UTF-8, or nesting deeper than 100 levels"),
        "MALFORMED_REQUEST"));
  }
  switch (s.error_code()) {
    case grpc::StatusCode::UNAVAILABLE:
    case grpc::StatusCode::DEADLINE_EXCEEDED:
    case grpc::StatusCode::CANCELLED:
    case grpc::StatusCode::RESOURCE_EXHAUSTED:
    case grpc::StatusCode::UNKNOWN:
    case grpc::StatusCode::INTERNAL:
      break;
    default:
      return s;
  }
  CRM_LOG(Warning).Field("code", grpcutil::CodeName(s.error_code()))
      << "backend call failed: " << s.error_message();
  switch (s.error_code()) {
    case grpc::StatusCode::UNAVAILABLE:
      return grpc::Status(s.error_code(), "service unavailable, retry later");
    case grpc::StatusCode::DEADLINE_EXCEEDED:
      return grpc::Status(s.error_code(), "the service did not answer in time");
    case grpc::StatusCode::CANCELLED:
      return grpc::Status(s.error_code(), "call cancelled");
    case grpc::StatusCode::RESOURCE_EXHAUSTED:
      return grpc::Status(s.error_code(), "request or response too large, or service overloaded");
    case grpc::StatusCode::UNKNOWN:
    case grpc::StatusCode::INTERNAL:
      return grpc::Status(grpc::StatusCode::INTERNAL, "internal error");
    default:
      return s;  // our own refusals without a reason (e.g. ABORTED "retry"): messages are ours
  }
}

ForwardResult ErrorResult(const absl::Status& s) {
  ForwardResult r;
  r.status = grpcutil::ToGrpcStatus(s);
  r.reason = common::ReasonOf(s);
  return r;
}

Proxy::Proxy(app::Access& access, common::Executor& executor, prometheus::Registry& metrics,
             absl::Duration default_deadline, absl::Duration upload_deadline,
             int max_streams_per_tenant)
    : access_(access),
      executor_(executor),
      default_deadline_(default_deadline),
      upload_deadline_(upload_deadline),
      max_streams_per_tenant_(max_streams_per_tenant),
      admission_(prometheus::BuildCounter()
                     .Name("crm_gateway_admission_total")
                     .Help("Gateway admission decisions by outcome")
                     .Register(metrics)),
      streams_(prometheus::BuildCounter()
                   .Name("crm_gateway_grpc_streams_total")
                   .Help("Relayed gRPC streams (server-streaming, bidi) by method and code")
                   .Register(metrics)),
      stream_messages_(prometheus::BuildCounter()
                           .Name("crm_gateway_grpc_stream_messages_total")
                           .Help("Messages relayed on gRPC streams by method and direction")
                           .Register(metrics)),
      streams_open_(prometheus::BuildGauge()
                        .Name("crm_gateway_grpc_streams_open")
                        .Help("Relayed gRPC streams in progress")
                        .Register(metrics)
                        .Add({})) {}

void Proxy::AddBackend(const std::string& service_full_name,
                       std::shared_ptr<grpc::Channel> channel) {
  Backend b;
  b.stub = std::make_unique<grpc::GenericStub>(channel);
  b.channel = std::move(channel);
  backends_[service_full_name] = std::move(b);
}

const Proxy::Backend* Proxy::BackendFor(absl::string_view full_method) const {
  auto it = backends_.find(ServiceOf(full_method));
  return it == backends_.end() ? nullptr : &it->second;
}

bool Proxy::HasBackend(absl::string_view full_method) const {
  return BackendFor(full_method) != nullptr;
}

std::string Proxy::RequestIdFrom(absl::string_view v) {
  bool ok = !v.empty() && v.size() <= 128;
  for (char c : v) {
    if (!(absl::ascii_isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.')) {
      ok = false;
    }
  }
  return ok ? std::string(v) : common::NewUuid();
}

std::string Proxy::TraceparentFrom(absl::string_view v) {
  if (v.size() == 55 && !grpcutil::TraceIdOf(std::string_view(v.data(), v.size())).empty()) return std::string(v);
  return absl::StrCat("00-", common::HexEncode(common::RandomBytes(16)), "-",
                      common::HexEncode(common::RandomBytes(8)), "-01");
}

Proxy::MethodKind Proxy::KindOf(absl::string_view full_method) {
  std::string name(full_method.substr(full_method.empty() ? 0 : 1));
  std::replace(name.begin(), name.end(), '/', '.');
  const auto* m = google::protobuf::DescriptorPool::generated_pool()->FindMethodByName(name);
  if (m == nullptr) return MethodKind::kUnknown;
  if (m->client_streaming()) {
    return m->server_streaming() ? MethodKind::kBidiStreaming : MethodKind::kClientStreaming;
  }
  return m->server_streaming() ? MethodKind::kServerStreaming : MethodKind::kUnary;
}

bool Proxy::IsClientStreaming(absl::string_view full_method) {
  return KindOf(full_method) == MethodKind::kClientStreaming;
}

bool Proxy::IsRelayedStream(absl::string_view full_method) {
  MethodKind k = KindOf(full_method);
  return k == MethodKind::kServerStreaming || k == MethodKind::kBidiStreaming;
}

Proxy::StreamTarget Proxy::TargetFor(const InboundCall& call,
                                     const app::Principal& principal) const {
  StreamTarget t;
  const Backend* backend = BackendFor(call.full_method);
  t.stub = backend == nullptr ? nullptr : backend->stub.get();
  t.context.tenant_id = principal.tenant_id;
  t.context.principal = principal.key_id;
  t.context.roles = domain::RolesHeader(principal.roles);
  t.context.request_id = call.request_id;
  t.context.traceparent = call.traceparent;
  t.deadline = std::min(call.deadline, absl::Now() + upload_deadline_);
  return t;
}

void Proxy::RecordStream(absl::string_view full_method, absl::string_view code,
                         int64_t messages_in, int64_t messages_out) {
  std::string rpc(full_method);
  streams_.Add({{"rpc", rpc}, {"code", std::string(code)}}).Increment();
  stream_messages_.Add({{"rpc", rpc}, {"direction", "in"}})
      .Increment(static_cast<double>(messages_in));
  stream_messages_.Add({{"rpc", rpc}, {"direction", "out"}})
      .Increment(static_cast<double>(messages_out));
}

void Proxy::StreamOpened(int delta) { streams_open_.Increment(delta); }

absl::Status Proxy::AcquireStreamSlot(const std::string& tenant_id) {
  absl::MutexLock l(&streams_mu_);
  int& open = streams_by_tenant_[tenant_id];
  if (open >= max_streams_per_tenant_) {
    if (open == 0) streams_by_tenant_.erase(tenant_id);
    return common::WithReason(
        absl::ResourceExhaustedError(absl::StrCat(
            "this tenant already has ", max_streams_per_tenant_,
            " streaming calls open (the limit); finish one before opening another")),
        "TOO_MANY_STREAMS");
  }
  ++open;
  return absl::OkStatus();
}

void Proxy::ReleaseStreamSlot(const std::string& tenant_id) {
  absl::MutexLock l(&streams_mu_);
  auto it = streams_by_tenant_.find(tenant_id);
  if (it != streams_by_tenant_.end() && --it->second <= 0) streams_by_tenant_.erase(it);
}

void Proxy::AdmitMessage(const app::Principal& p, std::function<void(absl::Status)> done) {
  if (access_.TakeLeasedToken(p)) {
    done(absl::OkStatus());
    return;
  }
  auto shared_done = std::make_shared<std::function<void(absl::Status)>>(std::move(done));
  bool queued = executor_.TrySubmit([this, p, shared_done] {
    absl::Status s = access_.Admit(p);
    admission_.Add({{"outcome", s.ok() ? "stream_message" : "stream_message_rate_limited"}})
        .Increment();
    (*shared_done)(s);
  });
  if (!queued) {
    admission_.Add({{"outcome", "overloaded"}}).Increment();
    (*shared_done)(common::WithReason(
        absl::ResourceExhaustedError("gateway overloaded, retry later"), "OVERLOADED"));
  }
}

void Proxy::Handle(std::shared_ptr<InboundCall> call, std::vector<grpc::ByteBuffer> requests,
                   std::function<void(ForwardResult)> done) {
  if (IsRelayedStream(call->full_method)) {
    // Only the gRPC front door relays streams (GrpcProxyService); REST
    // exposes no streaming method.
    done(ErrorResult(common::WithReason(
        absl::UnimplementedError(absl::StrCat(
            call->full_method, " is a streaming method: call it over gRPC, not REST")),
        "ROUTE_NOT_FOUND")));
    return;
  }
  auto req = std::make_shared<std::vector<grpc::ByteBuffer>>(std::move(requests));
  auto shared_done = std::make_shared<std::function<void(ForwardResult)>>(std::move(done));
  Admit(call, [this, call, req, shared_done](const app::Principal* p, ForwardResult refusal) {
    if (p == nullptr) {
      (*shared_done)(std::move(refusal));
      return;
    }
    Forward(call, *p, std::move(*req), std::move(*shared_done));
  });
}

void Proxy::Admit(std::shared_ptr<InboundCall> call, AdmitDone done) {
  if (!domain::IsKnownMethod(call->full_method) || !HasBackend(call->full_method)) {
    admission_.Add({{"outcome", "unknown_method"}}).Increment();
    done(nullptr, ErrorResult(common::WithReason(
                      absl::UnimplementedError(absl::StrCat("unknown method ", call->full_method)),
                      "ROUTE_NOT_FOUND")));
    return;
  }
  // Most calls need no I/O to be admitted (cached key, leased token): go on
  // from this thread; the rest go to the executor, which may block.
  if (auto fast = access_.AdmitWithoutIo(call->authorization, call->full_method)) {
    if (!fast->ok()) {
      admission_.Add({{"outcome", fast->status().code() == absl::StatusCode::kPermissionDenied
                                      ? "forbidden"
                                      : "unauthenticated"}})
          .Increment();
      done(nullptr, ErrorResult(fast->status()));
      return;
    }
    admission_.Add({{"outcome", "admitted"}}).Increment();
    const app::Principal& p = **fast;
    done(&p, ForwardResult{});
    return;
  }
  auto shared_done = std::make_shared<AdmitDone>(std::move(done));
  bool queued = executor_.TrySubmit([this, call, shared_done] {
    absl::StatusOr<app::Principal> p = access_.Authenticate(call->authorization);
    absl::Status s = p.status();
    const char* outcome = "unauthenticated";
    if (s.ok()) {
      s = access_.Authorize(*p, call->full_method);
      outcome = "forbidden";
    }
    if (s.ok()) {
      s = access_.Admit(*p);
      outcome = "rate_limited";
    }
    if (!s.ok()) {
      if (s.code() == absl::StatusCode::kUnavailable) outcome = "unavailable";
      admission_.Add({{"outcome", outcome}}).Increment();
      ForwardResult r = ErrorResult(s);
      if (auto retry = s.GetPayload(app::kRetryAfterPayload)) {
        int64_t ms = 0;
        if (absl::SimpleAtoi(std::string(*retry), &ms)) r.retry_after_ms = ms;
      }
      (*shared_done)(nullptr, std::move(r));
      return;
    }
    admission_.Add({{"outcome", "admitted"}}).Increment();
    (*shared_done)(&*p, ForwardResult{});
  });
  if (!queued) {
    admission_.Add({{"outcome", "overloaded"}}).Increment();
    (*shared_done)(nullptr, ErrorResult(common::WithReason(
                                absl::ResourceExhaustedError("gateway overloaded, retry later"),
                                "OVERLOADED")));
  }
}

void Proxy::ForwardAdmitted(std::shared_ptr<InboundCall> call, const app::Principal& principal,
                            std::vector<grpc::ByteBuffer> requests,
                            std::function<void(ForwardResult)> done) {
  if (IsRelayedStream(call->full_method) || !HasBackend(call->full_method)) {
    done(ErrorResult(common::WithReason(
        absl::UnimplementedError(absl::StrCat(call->full_method, " cannot be forwarded here")),
        "ROUTE_NOT_FOUND")));
    return;
  }
  Forward(std::move(call), principal, std::move(requests), std::move(done));
}

namespace {

// Forwards a collected client stream: writes every message, half-closes,
// reads the single response.
class StreamForwarder final : public grpc::ClientBidiReactor<grpc::ByteBuffer, grpc::ByteBuffer> {
 public:
  StreamForwarder(std::vector<grpc::ByteBuffer> requests, std::function<void(ForwardResult)> done)
      : requests_(std::move(requests)), done_(std::move(done)) {}
  grpc::ClientContext* context() { return &ctx_; }

  void Start(grpc::GenericStub& stub, const std::string& method) {
    stub.PrepareBidiStreamingCall(&ctx_, method, grpc::StubOptions(), this);
    StartRead(&result_.response);
    WriteNext();
    StartCall();
  }
  void OnWriteDone(bool ok) override {
    if (ok) WriteNext();  // a failed write ends the call; OnDone reports its status
  }
  void OnReadDone(bool ok) override { got_response_ = ok; }
  void OnDone(const grpc::Status& s) override {
    const auto& trailers = ctx_.GetServerTrailingMetadata();
    auto it = trailers.find(grpcutil::kReasonTrailer);
    if (it != trailers.end()) result_.reason = std::string(it->second.data(), it->second.size());
    result_.status = SanitizeBackendStatus(s, &result_.reason);
    if (s.ok() && !got_response_) {
      result_.status = grpc::Status(grpc::StatusCode::INTERNAL, "backend sent no response");
    }
    done_(std::move(result_));
    delete this;
  }

 private:
  void WriteNext() {
    if (next_ < requests_.size()) {
      StartWrite(&requests_[next_++]);
    } else {
      StartWritesDone();
    }
  }
  grpc::ClientContext ctx_;
  std::vector<grpc::ByteBuffer> requests_;
  size_t next_ = 0;
  bool got_response_ = false;
  ForwardResult result_;
  std::function<void(ForwardResult)> done_;
};

}  // namespace

void Proxy::Forward(std::shared_ptr<InboundCall> call, const app::Principal& principal,
                    std::vector<grpc::ByteBuffer> requests, std::function<void(ForwardResult)> done) {
  const Backend* backend = BackendFor(call->full_method);
  grpcutil::RequestContext rc;
  rc.tenant_id = principal.tenant_id;
  rc.principal = principal.key_id;
  rc.roles = domain::RolesHeader(principal.roles);
  rc.request_id = call->request_id;
  rc.traceparent = call->traceparent;
  absl::Time deadline = std::min(
      call->deadline, absl::Now() + (call->upload ? upload_deadline_ : default_deadline_));
  auto tag = [tenant = principal.tenant_id, key = principal.key_id,
              done = std::move(done)](ForwardResult r) {
    r.tenant_id = tenant;
    r.principal = key;
    done(std::move(r));
  };
  if (IsClientStreaming(call->full_method)) {
    auto* fwd = new StreamForwarder(std::move(requests), std::move(tag));
    grpcutil::PropagateRequestContext(rc, fwd->context());
    fwd->context()->set_deadline(ToChrono(deadline));
    fwd->Start(*backend->stub, call->full_method);
    return;
  }
  if (requests.size() != 1) {
    tag(ErrorResult(common::InvalidField("", "a unary method takes exactly one request message")));
    return;
  }
  struct State {
    grpc::ClientContext ctx;
    grpc::ByteBuffer request;
    ForwardResult result;
    std::function<void(ForwardResult)> done;
  };
  auto st = std::make_shared<State>();
  st->request = std::move(requests[0]);
  st->done = std::move(tag);
  grpcutil::PropagateRequestContext(rc, &st->ctx);
  st->ctx.set_deadline(ToChrono(deadline));
  backend->stub->UnaryCall(&st->ctx, call->full_method, grpc::StubOptions(), &st->request,
                           &st->result.response, [st](grpc::Status s) {
                             const auto& trailers = st->ctx.GetServerTrailingMetadata();
                             auto it = trailers.find(grpcutil::kReasonTrailer);
                             if (it != trailers.end()) {
                               st->result.reason = std::string(it->second.data(), it->second.size());
                             }
                             st->result.status = SanitizeBackendStatus(s, &st->result.reason);
                             st->done(std::move(st->result));
                           });
}

namespace {

// One reactor per inbound gRPC call: read the single request message, run
// the pipeline, write the response and finish.
class ProxyReactor final : public grpc::ServerGenericBidiReactor {
 public:
  ProxyReactor(grpc::GenericCallbackServerContext* ctx, Proxy& proxy, size_t max_stream_bytes)
      : ctx_(ctx), proxy_(proxy), start_(absl::Now()), max_stream_bytes_(max_stream_bytes) {
    call_ = std::make_shared<InboundCall>();
    call_->full_method = ctx->method();
    const auto& md = ctx->client_metadata();
    auto get = [&](const char* k) {
      auto it = md.find(k);
      return it == md.end() ? std::string() : std::string(it->second.data(), it->second.size());
    };
    call_->authorization = get("authorization");
    call_->request_id = Proxy::RequestIdFrom(get(grpcutil::kRequestIdHeader));
    call_->traceparent = Proxy::TraceparentFrom(get(grpcutil::kTraceparentHeader));
    call_->deadline = FromChrono(ctx->deadline());
    streaming_ = Proxy::IsClientStreaming(call_->full_method);
    call_->upload = streaming_;
    StartRead(&request_);
  }

  void OnReadDone(bool ok) override {
    if (ok) {
      bytes_ += request_.Length();
      if (bytes_ > max_stream_bytes_) {
        Finish(grpc::Status(grpc::StatusCode::RESOURCE_EXHAUSTED,
                            "the request stream is too large for one call; split it into batches"));
        return;
      }
      requests_.push_back(request_);
      request_.Clear();
      if (streaming_) {
        StartRead(&request_);
        return;
      }
    } else if (requests_.empty() && !streaming_) {
      Finish(grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "no request message received"));
      return;
    }
    proxy_.Handle(call_, std::move(requests_), [this](ForwardResult r) {
      LogAccess("grpc", call_->full_method, grpcutil::CodeName(r.status.error_code()),
                absl::Now() - start_, *call_, r);
      ctx_->AddInitialMetadata(grpcutil::kRequestIdHeader, call_->request_id);
      if (!r.reason.empty()) ctx_->AddTrailingMetadata(grpcutil::kReasonTrailer, r.reason);
      if (r.retry_after_ms > 0) {
        ctx_->AddTrailingMetadata("retry-after-ms", absl::StrCat(r.retry_after_ms));
      }
      if (r.status.ok()) {
        response_ = std::move(r.response);
        StartWriteAndFinish(&response_, grpc::WriteOptions(), grpc::Status::OK);
      } else {
        Finish(r.status);
      }
    });
  }

  void OnDone() override { delete this; }

 private:
  grpc::GenericCallbackServerContext* ctx_;
  Proxy& proxy_;
  absl::Time start_;
  std::shared_ptr<InboundCall> call_;
  size_t max_stream_bytes_;
  bool streaming_ = false;
  size_t bytes_ = 0;
  grpc::ByteBuffer request_;
  std::vector<grpc::ByteBuffer> requests_;
  grpc::ByteBuffer response_;
};

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
class StreamRelay final : public grpc::ServerGenericBidiReactor {
 public:
  static StreamRelay* Create(grpc::GenericCallbackServerContext* ctx, Proxy& proxy) {
    std::shared_ptr<StreamRelay> r(new StreamRelay(ctx, proxy));
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
    proxy_.RecordStream(call_->full_method, grpcutil::CodeName(final_status_.error_code()),
                        messages_in_, messages_out_);
    if (backend_started_) proxy_.StreamOpened(-1);
    if (holds_slot_) proxy_.ReleaseStreamSlot(principal_.tenant_id);
    LogAccess("grpc", call_->full_method, grpcutil::CodeName(final_status_.error_code()),
              absl::Now() - start_, *call_, result_);
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

  StreamRelay(grpc::GenericCallbackServerContext* ctx, Proxy& proxy)
      : ctx_(ctx), proxy_(proxy), start_(absl::Now()), leg_(this) {
    call_ = std::make_shared<InboundCall>();
    call_->full_method = ctx->method();
    const auto& md = ctx->client_metadata();
    auto get = [&](const char* k) {
      auto it = md.find(k);
      return it == md.end() ? std::string() : std::string(it->second.data(), it->second.size());
    };
    call_->authorization = get("authorization");
    call_->request_id = Proxy::RequestIdFrom(get(grpcutil::kRequestIdHeader));
    call_->traceparent = Proxy::TraceparentFrom(get(grpcutil::kTraceparentHeader));
    call_->deadline = FromChrono(ctx->deadline());
    call_->upload = true;
  }

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
      if (!result_.reason.empty()) {
        ctx_->AddTrailingMetadata(grpcutil::kReasonTrailer, result_.reason);
      }
      if (result_.retry_after_ms > 0) {
        ctx_->AddTrailingMetadata("retry-after-ms", absl::StrCat(result_.retry_after_ms));
      }
      FinishInbound(result_.status);
      return;
    }
    result_.tenant_id = p->tenant_id;
    result_.principal = p->key_id;
    principal_ = *p;
    if (absl::Status slot = proxy_.AcquireStreamSlot(p->tenant_id); !slot.ok()) {
      result_.reason = common::ReasonOf(slot);
      ctx_->AddTrailingMetadata(grpcutil::kReasonTrailer, result_.reason);
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
    if (refusal) {
      result_.reason = common::ReasonOf(*refusal);
      ctx_->AddTrailingMetadata(grpcutil::kReasonTrailer, result_.reason);
      if (auto retry = refusal->GetPayload(app::kRetryAfterPayload)) {
        ctx_->AddTrailingMetadata("retry-after-ms", std::string(*retry));
      }
      std::shared_ptr<StreamRelay> keep = std::move(leg_self_);
      FinishInbound(grpcutil::ToGrpcStatus(*refusal));
      return;
    }
    const auto& trailers = leg_ctx_.GetServerTrailingMetadata();
    auto it = trailers.find(grpcutil::kReasonTrailer);
    if (it != trailers.end()) {
      result_.reason = std::string(it->second.data(), it->second.size());
      ctx_->AddTrailingMetadata(grpcutil::kReasonTrailer, result_.reason);
    }
    std::shared_ptr<StreamRelay> keep = std::move(leg_self_);
    std::string reason;
    grpc::Status sanitized = SanitizeBackendStatus(s, &reason);
    if (!reason.empty()) {
      result_.reason = reason;
      ctx_->AddTrailingMetadata(grpcutil::kReasonTrailer, reason);
    }
    FinishInbound(sanitized);
  }

  void FinishInbound(const grpc::Status& s) {
    final_status_ = s;
    Finish(s);
  }

  grpc::GenericCallbackServerContext* ctx_;
  Proxy& proxy_;
  absl::Time start_;
  std::shared_ptr<InboundCall> call_;
  ForwardResult result_;  // tenant, principal, reason for the access log
  grpc::Status final_status_;

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

grpc::ServerGenericBidiReactor* GrpcProxyService::CreateReactor(
    grpc::GenericCallbackServerContext* ctx) {
  if (Reflection::IsReflectionMethod(ctx->method())) return reflection_.CreateReactor();
  if (Proxy::IsRelayedStream(ctx->method())) return StreamRelay::Create(ctx, proxy_);
  return new ProxyReactor(ctx, proxy_, max_stream_bytes_);
}

}  // namespace crm::gateway::api
