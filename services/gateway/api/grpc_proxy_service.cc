#include "services/gateway/api/grpc_proxy_service.h"

#include "services/gateway/api/stream_relay.h"

namespace crm::gateway::api {
namespace {

// One reactor per inbound unary or client-streaming call: read the request
// message(s), run the pipeline, write the response and finish (through
// EndProxiedCall, whatever the outcome).
class ProxyReactor final : public grpc::ServerGenericBidiReactor {
 public:
  ProxyReactor(grpc::GenericCallbackServerContext* ctx, Proxy& proxy, grpcutil::RpcMetrics& metrics,
               const char* method, bool streaming, size_t max_stream_bytes)
      : ctx_(ctx),
        proxy_(proxy),
        metrics_(metrics),
        method_(method),
        start_(absl::Now()),
        call_(InboundCallFrom(*ctx, /*upload=*/streaming)),
        max_stream_bytes_(max_stream_bytes),
        streaming_(streaming) {
    StartRead(&request_);
  }

  void OnReadDone(bool ok) override {
    if (ok) {
      bytes_ += request_.Length();
      if (bytes_ > max_stream_bytes_) {
        End(grpc::Status(grpc::StatusCode::RESOURCE_EXHAUSTED,
                         "the request stream is too large for one call; split it into batches"));
        return;
      }
      // ByteBuffer has no move: swap the read buffer out (no copy) and
      // leave an empty one for the next read.
      requests_.emplace_back();
      requests_.back().Swap(&request_);
      if (streaming_) {
        StartRead(&request_);
        return;
      }
    } else if (requests_.empty() && !streaming_) {
      End(grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "no request message received"));
      return;
    }
    proxy_.Handle(call_, std::move(requests_), [this](ForwardResult r) { Reply(std::move(r)); });
  }

  void OnDone() override { delete this; }

 private:
  void Reply(ForwardResult r) {
    ctx_->AddInitialMetadata(grpcutil::kRequestIdHeader, call_->request_id);
    grpc::Status s = EndProxiedCall(ctx_, metrics_, method_, start_, *call_, r);
    if (s.ok()) {
      response_.Swap(&r.response);
      StartWriteAndFinish(&response_, grpc::WriteOptions(), s);
    } else {
      Finish(s);
    }
  }

  // Refused before the pipeline ran (the request stream itself is wrong).
  void End(grpc::Status s) {
    ForwardResult r;
    r.status = std::move(s);
    Finish(EndProxiedCall(ctx_, metrics_, method_, start_, *call_, r));
  }

  grpc::GenericCallbackServerContext* ctx_;
  Proxy& proxy_;
  grpcutil::RpcMetrics& metrics_;
  const char* method_;
  absl::Time start_;
  std::shared_ptr<InboundCall> call_;
  size_t max_stream_bytes_;
  bool streaming_;
  size_t bytes_ = 0;
  grpc::ByteBuffer request_;
  std::vector<grpc::ByteBuffer> requests_;
  grpc::ByteBuffer response_;
};

}  // namespace

grpc::ServerGenericBidiReactor* GrpcProxyService::CreateReactor(
    grpc::GenericCallbackServerContext* ctx) {
  if (Reflection::IsReflectionMethod(ctx->method())) return reflection_.CreateReactor();
  MethodRoute route = proxy_.RouteFor(ctx->method());
  const char* method = route.name != nullptr ? route.name : kUnknownMethod;
  if (route.relayed_stream()) return CreateStreamRelay(ctx, proxy_, metrics_, method);
  return new ProxyReactor(ctx, proxy_, metrics_, method, route.kind == MethodKind::kClientStreaming,
                          max_stream_bytes_);
}

}  // namespace crm::gateway::api
