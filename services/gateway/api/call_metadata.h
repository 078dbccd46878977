#pragma once
// What a call carries through the gateway besides its messages: the inbound
// call (method, credential, request id, traceparent, deadline) read once
// from the client's metadata or HTTP headers, the context passed on to the
// backend, and how a call ends: the one access-log line of a REST call, the
// shared end of call (libs/grpcutil/end_of_call.h) of a proxied gRPC call.
#include <grpcpp/generic/async_generic_service.h>
#include <grpcpp/grpcpp.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "libs/grpcutil/context.h"
#include "libs/grpcutil/rpc_metrics.h"
#include "services/gateway/app/access.h"

namespace crm::gateway::api {

struct ForwardResult {
  grpc::Status status;         // the backend's (or the gateway's) status
  std::string reason;          // crm-error-reason trailer, if any
  int64_t retry_after_ms = 0;  // rate limited: when to retry
  std::string tenant_id;       // set once admitted (for the access log)
  std::string principal;
  grpc::ByteBuffer response;
};

struct InboundCall {
  std::string full_method;    // "/pkg.Service/Method"
  std::string authorization;  // Authorization header / metadata value
  std::string request_id;     // validated or generated
  std::string traceparent;    // validated or generated
  absl::Time deadline = absl::InfiniteFuture();
  bool upload = false;  // a client stream or a raw-body upload: the upload deadline applies
};

// A usable request id (the client's if sane, else a new UUID) and
// traceparent (the client's if valid, else a new trace).
std::string RequestIdFrom(absl::string_view client_value);
std::string TraceparentFrom(absl::string_view client_value);

// The inbound gRPC call as the pipeline sees it (method, credential, ids,
// deadline) from the server context's metadata.
std::shared_ptr<InboundCall> InboundCallFrom(const grpc::GenericCallbackServerContext& ctx,
                                             bool upload);

// The context a backend gets for an admitted call (sealed when propagated).
grpcutil::RequestContext BackendContext(const InboundCall& call, const app::Principal& principal);

std::chrono::system_clock::time_point ToChrono(absl::Time t);

// One access-log line per REST request at the gateway (ids only, never PII).
void LogAccess(const char* transport, absl::string_view what, absl::string_view code,
               absl::Duration latency, const InboundCall& call, const ForwardResult& r);

// The method label (metrics) and rpc field (access log) of a proxied gRPC
// call to a method no backend route names: label values stay bounded
// whatever method names clients send.
inline constexpr char kUnknownMethod[] = "unknown";

// Ends a proxied gRPC call through the end every server call of the suite
// takes (grpcutil::EndOfCall): the reason trailer, the RPC metrics
// (crm_rpc_server_handled_total / _handling_seconds{service, method, code})
// and one access-log line with the call's request and trace ids and, once
// admitted, its tenant and principal; plus the retry-after-ms trailer of a
// rate-limited call. Returns r.status, kept as the backend or the gateway
// made it, to finish the call with. `method` must outlive the call.
grpc::Status EndProxiedCall(grpc::CallbackServerContext* ctx, grpcutil::RpcMetrics& metrics,
                            const char* method, absl::Time start, const InboundCall& call,
                            const ForwardResult& r);

}  // namespace crm::gateway::api
