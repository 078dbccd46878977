#pragma once
// The public gRPC surface: every call not served by a registered service
// (health) lands here. Reflection calls are answered by `reflection`;
// unary calls and client streams (collected, at most max_stream_bytes) go
// through Proxy::Handle; server-streaming and bidirectional calls are
// relayed message by message (stream_relay.h): one outstanding read and one
// outstanding write per side, nothing buffered beyond the message in flight.
// Every proxied call ends through the services' shared end of call
// (EndProxiedCall, call_metadata.h): status, RPC metrics under `metrics`'s
// service ("gateway") and one access-log line.
#include <grpcpp/generic/async_generic_service.h>

#include <cstddef>

#include "libs/grpcutil/rpc_metrics.h"
#include "services/gateway/api/proxy.h"
#include "services/gateway/api/reflection.h"

namespace crm::gateway::api {

class GrpcProxyService final : public grpc::CallbackGenericService {
 public:
  // max_stream_bytes bounds what one client stream may carry in total.
  GrpcProxyService(Proxy& proxy, const Reflection& reflection, size_t max_stream_bytes,
                   grpcutil::RpcMetrics& metrics)
      : proxy_(proxy),
        reflection_(reflection),
        max_stream_bytes_(max_stream_bytes),
        metrics_(metrics) {}
  grpc::ServerGenericBidiReactor* CreateReactor(grpc::GenericCallbackServerContext* ctx) override;

 private:
  Proxy& proxy_;
  const Reflection& reflection_;
  size_t max_stream_bytes_;
  grpcutil::RpcMetrics& metrics_;
};

}  // namespace crm::gateway::api
