#pragma once
// The public gRPC surface: every call not served by a registered service
// (health) lands here. Reflection calls are answered by `reflection`;
// unary calls and client streams (collected, at most max_stream_bytes) go
// through Proxy::Handle; server-streaming and bidirectional calls are
// relayed message by message (stream_relay.h): one outstanding read and one
// outstanding write per side, nothing buffered beyond the message in flight.
#include <grpcpp/generic/async_generic_service.h>

#include <cstddef>

#include "services/gateway/api/proxy.h"
#include "services/gateway/api/reflection.h"

namespace crm::gateway::api {

class GrpcProxyService final : public grpc::CallbackGenericService {
 public:
  // max_stream_bytes bounds what one client stream may carry in total.
  GrpcProxyService(Proxy& proxy, const Reflection& reflection, size_t max_stream_bytes)
      : proxy_(proxy), reflection_(reflection), max_stream_bytes_(max_stream_bytes) {}
  grpc::ServerGenericBidiReactor* CreateReactor(grpc::GenericCallbackServerContext* ctx) override;

 private:
  Proxy& proxy_;
  const Reflection& reflection_;
  size_t max_stream_bytes_;
};

}  // namespace crm::gateway::api
