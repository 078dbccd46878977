#include "services/gateway/api/proxy.h"

#include <algorithm>
#include <chrono>

#include <google/protobuf/descriptor.h>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
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

grpc::Status SanitizeBackendStatus(const grpc::Status& s) {
  // Our services always attach an ErrorInfo; a status without one comes from
  // the transport (backend down, reset, timeout) and its message names
  // internal addresses: keep the code, log the detail, answer generically.
  if (s.ok() || !s.error_details().empty()) return s;
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
             absl::Duration default_deadline, absl::Duration upload_deadline)
    : access_(access),
      executor_(executor),
      default_deadline_(default_deadline),
      upload_deadline_(upload_deadline),
      admission_(prometheus::BuildCounter()
                     .Name("crm_gateway_admission_total")
                     .Help("Gateway admission decisions by outcome")
                     .Register(metrics)) {}

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

bool Proxy::IsClientStreaming(absl::string_view full_method) {
  std::string name(full_method.substr(full_method.empty() ? 0 : 1));
  std::replace(name.begin(), name.end(), '/', '.');
  const auto* m = google::protobuf::DescriptorPool::generated_pool()->FindMethodByName(name);
  return m != nullptr && m->client_streaming() && !m->server_streaming();
}

void Proxy::Handle(std::shared_ptr<InboundCall> call, std::vector<grpc::ByteBuffer> requests,
                   std::function<void(ForwardResult)> done) {
  if (!domain::IsKnownMethod(call->full_method) || !HasBackend(call->full_method)) {
    admission_.Add({{"outcome", "unknown_method"}}).Increment();
    done(ErrorResult(common::WithReason(
        absl::UnimplementedError(absl::StrCat("unknown method ", call->full_method)),
        "ROUTE_NOT_FOUND")));
    return;
  }
  // Most calls need no I/O to be admitted (cached key, leased token): forward
  // them from this thread; the rest go to the executor, which may block.
  if (auto fast = access_.AdmitWithoutIo(call->authorization, call->full_method)) {
    if (!fast->ok()) {
      admission_.Add({{"outcome", fast->status().code() == absl::StatusCode::kPermissionDenied
                                      ? "forbidden"
                                      : "unauthenticated"}})
          .Increment();
      done(ErrorResult(fast->status()));
      return;
    }
    admission_.Add({{"outcome", "admitted"}}).Increment();
    Forward(call, **fast, std::move(requests), std::move(done));
    return;
  }
  auto shared_done = std::make_shared<std::function<void(ForwardResult)>>(std::move(done));
  auto req = std::make_shared<std::vector<grpc::ByteBuffer>>(std::move(requests));
  bool queued = executor_.TrySubmit([this, call, req, shared_done] {
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
      (*shared_done)(std::move(r));
      return;
    }
    admission_.Add({{"outcome", "admitted"}}).Increment();
    Forward(call, *p, std::move(*req), std::move(*shared_done));
  });
  if (!queued) {
    admission_.Add({{"outcome", "overloaded"}}).Increment();
    (*shared_done)(ErrorResult(common::WithReason(
        absl::ResourceExhaustedError("gateway overloaded, retry later"), "OVERLOADED")));
  }
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
    result_.status = SanitizeBackendStatus(s);
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
                             st->result.status = SanitizeBackendStatus(s);
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

}  // namespace

grpc::ServerGenericBidiReactor* GrpcProxyService::CreateReactor(
    grpc::GenericCallbackServerContext* ctx) {
  return new ProxyReactor(ctx, proxy_, max_stream_bytes_);
}

}  // namespace crm::gateway::api
