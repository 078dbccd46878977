#pragma once
// The gateway's request pipeline, shared by REST and gRPC:
//   authenticate (API key) -> authorize (role table) -> rate limit, on the
//   executor (the key lookup may hit PostgreSQL, the bucket Redis), then
//   forward the serialized request to the owning service with an async
//   generic stub, passing tenant, principal, roles, request id and
//   traceparent in metadata.
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <grpcpp/generic/async_generic_service.h>
#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/grpcpp.h>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "libs/common/executor.h"
#include "libs/grpcutil/context.h"
#include "prometheus/counter.h"
#include "prometheus/gauge.h"
#include "prometheus/registry.h"
#include "services/gateway/api/reflection.h"
#include "services/gateway/app/access.h"

namespace crm::gateway::api {

struct ForwardResult {
  grpc::Status status;      // the backend's (or the gateway's) status
  std::string reason;       // crm-error-reason trailer, if any
  int64_t retry_after_ms = 0;  // rate limited: when to retry
  std::string tenant_id;       // set once admitted (for the access log)
  std::string principal;
  grpc::ByteBuffer response;
};

struct InboundCall {
  std::string full_method;      // "/pkg.Service/Method"
  std::string authorization;    // Authorization header / metadata value
  std::string request_id;       // validated or generated
  std::string traceparent;      // validated or generated
  absl::Time deadline = absl::InfiniteFuture();
  bool upload = false;  // a client stream or a raw-body upload: the upload deadline applies
};

class Proxy final {
 public:
  // default_deadline caps ordinary calls, upload_deadline bulk uploads.
  // max_streams_per_tenant caps the relayed streams one tenant has open at once.
  Proxy(app::Access& access, common::Executor& executor, prometheus::Registry& metrics,
        absl::Duration default_deadline, absl::Duration upload_deadline,
        int max_streams_per_tenant = 16);

  // Routes every method of `service_full_name` ("crm.customer_store.v1.CustomerStoreService").
  void AddBackend(const std::string& service_full_name, std::shared_ptr<grpc::Channel> channel);
  bool HasBackend(absl::string_view full_method) const;

  // Admission then forwarding; `done` runs exactly once, on any thread.
  // Unary methods take exactly one request; client-streaming methods the
  // whole (already collected) stream, forwarded message by message.
  void Handle(std::shared_ptr<InboundCall> call, std::vector<grpc::ByteBuffer> requests,
              std::function<void(ForwardResult)> done);
  // True for a method whose requests are a client stream (and whose
  // response is single).
  static bool IsClientStreaming(absl::string_view full_method);

  // The shape of a linked method (kUnknown when no linked descriptor has it).
  enum class MethodKind { kUnknown, kUnary, kClientStreaming, kServerStreaming, kBidiStreaming };
  static MethodKind KindOf(absl::string_view full_method);
  // Server-streaming and bidirectional methods: relayed message by message
  // (GrpcProxyService), never through Handle.
  static bool IsRelayedStream(absl::string_view full_method);

  // Admission alone (the first half of Handle): `done` runs exactly once, on
  // any thread, with the admitted principal, or with nullptr and the refusal.
  using AdmitDone = std::function<void(const app::Principal* principal, ForwardResult refusal)>;
  void Admit(std::shared_ptr<InboundCall> call, AdmitDone done);
  // Forwarding alone (the second half of Handle) for a call Admit let in, so
  // a front door can work in between without admitting twice: REST reads and
  // parses the body only once the key is known good. `principal` is only
  // used during the call; `done` runs exactly once, on any thread.
  void ForwardAdmitted(std::shared_ptr<InboundCall> call, const app::Principal& principal,
                       std::vector<grpc::ByteBuffer> requests,
                       std::function<void(ForwardResult)> done);

  // Where and how an admitted streaming call goes: the backend stub, the
  // metadata to pass and the deadline (the client's, capped by the upload
  // deadline).
  struct StreamTarget {
    grpc::GenericStub* stub = nullptr;
    grpcutil::RequestContext context;
    absl::Time deadline = absl::InfiniteFuture();
  };
  StreamTarget TargetFor(const InboundCall& call, const app::Principal& principal) const;
  // One finished relayed stream (metrics: count by code, messages each way).
  void RecordStream(absl::string_view full_method, absl::string_view code, int64_t messages_in,
                    int64_t messages_out);
  void StreamOpened(int delta);
  // Relayed streams: every client message takes a rate-limit token of the
  // admitted principal (from the local lease when one is left, else on the
  // executor); `done` runs exactly once, on any thread, with OK or the
  // refusal (RATE_LIMITED with its retry payload, OVERLOADED).
  void AdmitMessage(const app::Principal& p, std::function<void(absl::Status)> done);
  // A slot among the tenant's concurrent relayed streams: RESOURCE_EXHAUSTED
  // (TOO_MANY_STREAMS) when the tenant has max_streams_per_tenant open.
  absl::Status AcquireStreamSlot(const std::string& tenant_id);
  void ReleaseStreamSlot(const std::string& tenant_id);

  // A usable request id (client's if sane, else a new UUID) and traceparent
  // (client's if valid, else a new trace).
  static std::string RequestIdFrom(absl::string_view client_value);
  static std::string TraceparentFrom(absl::string_view client_value);

 private:
  struct Backend {
    std::shared_ptr<grpc::Channel> channel;
    std::unique_ptr<grpc::GenericStub> stub;
  };
  const Backend* BackendFor(absl::string_view full_method) const;
  void Forward(std::shared_ptr<InboundCall> call, const app::Principal& principal,
               std::vector<grpc::ByteBuffer> requests, std::function<void(ForwardResult)> done);

  app::Access& access_;
  common::Executor& executor_;
  absl::Duration default_deadline_;
  absl::Duration upload_deadline_;
  int max_streams_per_tenant_;
  std::map<std::string, Backend, std::less<>> backends_;
  absl::Mutex streams_mu_;
  std::map<std::string, int> streams_by_tenant_ ABSL_GUARDED_BY(streams_mu_);
  prometheus::Family<prometheus::Counter>& admission_;
  prometheus::Family<prometheus::Counter>& streams_;
  prometheus::Family<prometheus::Counter>& stream_messages_;
  prometheus::Gauge& streams_open_;
};

// A backend status as the client may see it: transport failures (no
// ErrorInfo) lose their message, which names internal addresses. A backend's
// UNIMPLEMENTED without ErrorInfo for a method the gateway routes means the
// backend could not parse the request (gRPC's callback server answers so):
// INVALID_ARGUMENT (MALFORMED_REQUEST).
// `reason` gets the reason of a status made here (MALFORMED_REQUEST).
grpc::Status SanitizeBackendStatus(const grpc::Status& s, std::string* reason);

// Finishes with a gateway-side error as a ForwardResult.
ForwardResult ErrorResult(const absl::Status& s);

// One access-log line per request at the gateway (ids only, never PII).
void LogAccess(const char* transport, absl::string_view what, absl::string_view code,
               absl::Duration latency, const InboundCall& call, const ForwardResult& r);

// The public gRPC surface: every call not served by a registered service
// (health, reflection) lands here and goes through the Proxy. Unary calls
// and client streams (collected, at most max_stream_bytes) go through
// Proxy::Handle; server-streaming and bidirectional calls are relayed: one
// admission at stream start, then every message passed on as it comes, one
// outstanding read and one outstanding write per side (nothing buffered
// beyond the message in flight), half-close and cancellation propagated
// both ways, the backend's (sanitized) status and reason trailer at the end.
class GrpcProxyService final : public grpc::CallbackGenericService {
 public:
  // max_stream_bytes bounds what one client stream may carry in total.
  // Reflection calls (v1, v1alpha) are answered by `reflection`.
  GrpcProxyService(Proxy& proxy, const Reflection& reflection, size_t max_stream_bytes)
      : proxy_(proxy), reflection_(reflection), max_stream_bytes_(max_stream_bytes) {}
  grpc::ServerGenericBidiReactor* CreateReactor(grpc::GenericCallbackServerContext* ctx) override;

 private:
  Proxy& proxy_;
  const Reflection& reflection_;
  size_t max_stream_bytes_;
};

}  // namespace crm::gateway::api
