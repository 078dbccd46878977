// Forwarding an admitted call: a unary request, or a collected client
// stream written message by message, to the method's backend.
#include "absl/strings/str_cat.h"
#include "libs/common/errors.h"
#include "services/gateway/api/proxy.h"

namespace crm::gateway::api {
namespace {

// Forwards a collected client stream: writes every message, half-closes,
// reads the single response.
class StreamForwarder final : public grpc::ClientBidiReactor<grpc::ByteBuffer, grpc::ByteBuffer> {
 public:
  StreamForwarder(std::vector<grpc::ByteBuffer> requests, ForwardResult result,
                  std::function<void(ForwardResult)> done)
      : requests_(std::move(requests)), result_(std::move(result)), done_(std::move(done)) {}
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
    SetBackendOutcome(ctx_, s, &result_);
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

// One unary backend call: context, request and result live together until
// the callback.
struct UnaryCall {
  grpc::ClientContext ctx;
  grpc::ByteBuffer request;
  ForwardResult result;
  std::function<void(ForwardResult)> done;
};

}  // namespace

void Proxy::Handle(std::shared_ptr<InboundCall> call, std::vector<grpc::ByteBuffer> requests,
                   std::function<void(ForwardResult)> done) {
  MethodRoute route = RouteFor(call->full_method);
  if (route.relayed_stream()) {
    // Only the gRPC front door relays streams (GrpcProxyService); REST
    // exposes no streaming method.
    done(ErrorResult(common::WithReason(
        absl::UnimplementedError(
            absl::StrCat(call->full_method, " is a streaming method: call it over gRPC, not REST")),
        "ROUTE_NOT_FOUND")));
    return;
  }
  // Admit usually answers on this thread (see Admit): the request and the
  // continuation move into the admission callback without extra copies.
  struct Pending {
    std::vector<grpc::ByteBuffer> requests;
    std::function<void(ForwardResult)> done;
  };
  auto pending = std::make_shared<Pending>(Pending{std::move(requests), std::move(done)});
  Admit(call, [this, call, route, pending](const app::Principal* p, ForwardResult refusal) {
    if (p == nullptr) {
      pending->done(std::move(refusal));
      return;
    }
    Forward(call, route, *p, std::move(pending->requests), std::move(pending->done));
  });
}

void Proxy::ForwardAdmitted(std::shared_ptr<InboundCall> call, const app::Principal& principal,
                            std::vector<grpc::ByteBuffer> requests,
                            std::function<void(ForwardResult)> done) {
  MethodRoute route = RouteFor(call->full_method);
  if (route.relayed_stream() || route.stub == nullptr) {
    done(ErrorResult(common::WithReason(
        absl::UnimplementedError(absl::StrCat(call->full_method, " cannot be forwarded here")),
        "ROUTE_NOT_FOUND")));
    return;
  }
  Forward(std::move(call), route, principal, std::move(requests), std::move(done));
}

void Proxy::Forward(std::shared_ptr<InboundCall> call, const MethodRoute& route,
                    const app::Principal& principal, std::vector<grpc::ByteBuffer> requests,
                    std::function<void(ForwardResult)> done) {
  grpcutil::RequestContext rc = BackendContext(*call, principal);
  absl::Time deadline =
      std::min(call->deadline, absl::Now() + (call->upload ? upload_deadline_ : default_deadline_));
  // The access log names who was admitted, whatever the backend answers.
  ForwardResult result;
  result.tenant_id = principal.tenant_id;
  result.principal = principal.key_id;
  if (route.kind == MethodKind::kClientStreaming) {
    auto* fwd = new StreamForwarder(std::move(requests), std::move(result), std::move(done));
    grpcutil::PropagateRequestContext(rc, fwd->context());
    fwd->context()->set_deadline(ToChrono(deadline));
    fwd->Start(*route.stub, call->full_method);
    return;
  }
  if (requests.size() != 1) {
    ForwardResult r =
        ErrorResult(common::InvalidField("", "a unary method takes exactly one request message"));
    r.tenant_id = std::move(result.tenant_id);
    r.principal = std::move(result.principal);
    done(std::move(r));
    return;
  }
  auto st = std::make_shared<UnaryCall>();
  st->request.Swap(&requests[0]);  // ByteBuffer has no move; a swap copies nothing
  st->result = std::move(result);
  st->done = std::move(done);
  grpcutil::PropagateRequestContext(rc, &st->ctx);
  st->ctx.set_deadline(ToChrono(deadline));
  route.stub->UnaryCall(&st->ctx, call->full_method, grpc::StubOptions(), &st->request,
                        &st->result.response, [st](grpc::Status s) {
                          SetBackendOutcome(st->ctx, s, &st->result);
                          st->done(std::move(st->result));
                        });
}

}  // namespace crm::gateway::api
