#pragma once
// The relay of server-streaming and bidirectional gRPC calls: one admission
// at stream start, a slot among the tenant's open streams, then every
// message passed on as it comes (each client message takes a rate-limit
// token), half-close and cancellation propagated both ways, the backend's
// sanitized status and reason trailer at the end, through the services'
// shared end of call (EndProxiedCall: RPC metrics, one access-log line).
#include <grpcpp/generic/async_generic_service.h>

#include "libs/grpcutil/rpc_metrics.h"
#include "services/gateway/api/proxy.h"

namespace crm::gateway::api {

// A reactor relaying `ctx`'s call through `proxy`; it deletes itself when
// done. `method` (the metrics label) must outlive the call.
grpc::ServerGenericBidiReactor* CreateStreamRelay(grpc::GenericCallbackServerContext* ctx,
                                                  Proxy& proxy, grpcutil::RpcMetrics& metrics,
                                                  const char* method);

}  // namespace crm::gateway::api
