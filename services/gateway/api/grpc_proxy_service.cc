#include "services/gateway/api/grpc_proxy_service.h"

#include "absl/strings/str_cat.h"
#include "libs/grpcutil/rpc_metrics.h"
#include "services/gateway/api/stream_relay.h"

namespace crm::gateway::api {
namespace {

// One reactor per inbound unary or client-streaming call: read the request
// message(s), run the pipeline, write the response and finish.
class ProxyReactor final : public grpc::ServerGenericBidiReactor {
 public:
  ProxyReactor(grpc::GenericCallbackServerContext* ctx, Proxy& proxy, bool streaming,
               size_t max_stream_bytes)
      : ctx_(ctx),
        proxy_(proxy),
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
        Finish(grpc::Status(grpc::StatusCode::RESOURCE_EXHAUSTED,
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
      Finish(grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "no request message received"));
      return;
    }
    proxy_.Handle(call_, std::move(requests_), [this](ForwardResult r) { Reply(std::move(r)); });
  }

  void OnDone() override { delete this; }

 private:
  void Reply(ForwardResult r) {
    LogAccess("grpc", call_->full_method, grpcutil::CodeName(r.status.error_code()),
              absl::Now() - start_, *call_, r);
    ctx_->AddInitialMetadata(grpcutil::kRequestIdHeader, call_->request_id);
    if (!r.reason.empty()) ctx_->AddTrailingMetadata(grpcutil::kReasonTrailer, r.reason);
    if (r.retry_after_ms > 0) {
      ctx_->AddTrailingMetadata("retry-after-ms", absl::StrCat(r.retry_after_ms));
    }
    if (r.status.ok()) {
      response_.Swap(&r.response);
      StartWriteAndFinish(&response_, grpc::WriteOptions(), grpc::Status::OK);
    } else {
      Finish(r.status);
    }
  }

  grpc::GenericCallbackServerContext* ctx_;
  Proxy& proxy_;
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
  if (route.relayed_stream()) return CreateStreamRelay(ctx, proxy_);
  return new ProxyReactor(ctx, proxy_, route.kind == MethodKind::kClientStreaming,
                          max_stream_bytes_);
}

}  // namespace crm::gateway::api
