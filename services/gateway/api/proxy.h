#pragma once
// The gateway's request pipeline, shared by REST and gRPC:
//   authenticate (API key) -> authorize (role table) -> rate limit, then
//   forward the serialized request to the owning service with an async
//   generic stub, passing tenant, principal, roles, request id and
//   traceparent in metadata.
//
// Where each concern lives:
//   proxy.cc           backends, routing, stream bookkeeping and stream metrics
//   admission.cc       admission (key, role, rate limit) and per-tenant stream caps
//   forward.cc         forwarding unary calls and collected client streams
//   call_metadata.*    the inbound call's ids, the backend's context, the end of a call
//                      (a proxied gRPC call ends through grpcutil::EndOfCall)
//   backend_status.*   what the client sees of a backend's status
//   method_table.*     method -> backend and shape, resolved once
//   grpc_proxy_service.*, stream_relay.*   the gRPC front door
#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/grpcpp.h>

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "libs/common/executor.h"
#include "libs/grpcutil/context.h"
#include "prometheus/counter.h"
#include "prometheus/gauge.h"
#include "prometheus/registry.h"
#include "services/gateway/api/backend_status.h"
#include "services/gateway/api/call_metadata.h"
#include "services/gateway/api/method_table.h"
#include "services/gateway/app/access.h"

namespace crm::gateway::api {

class Proxy final {
 public:
  // default_deadline caps ordinary calls, upload_deadline bulk uploads.
  // max_streams_per_tenant caps the relayed streams one tenant has open at once.
  Proxy(app::Access& access, common::Executor& executor, prometheus::Registry& metrics,
        absl::Duration default_deadline, absl::Duration upload_deadline,
        int max_streams_per_tenant = 16);

  // Routes every method of `service_full_name` ("crm.customer_store.v1.CustomerStoreService").
  // Start-up only: not safe once calls are served.
  void AddBackend(const std::string& service_full_name, std::shared_ptr<grpc::Channel> channel);
  bool HasBackend(absl::string_view full_method) const;
  // The backend and shape of a method (stub nullptr when no backend serves it).
  MethodRoute RouteFor(absl::string_view full_method) const { return methods_.Find(full_method); }

  // Admission then forwarding; `done` runs exactly once, on any thread.
  // Unary methods take exactly one request; client-streaming methods the
  // whole (already collected) stream, forwarded message by message.
  void Handle(std::shared_ptr<InboundCall> call, std::vector<grpc::ByteBuffer> requests,
              std::function<void(ForwardResult)> done);

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
  // The messages one finished relayed stream carried each way (its status
  // is counted by the end of call, with every other call's).
  void RecordStreamMessages(absl::string_view full_method, int64_t messages_in,
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

 private:
  struct Backend {
    std::shared_ptr<grpc::Channel> channel;
    std::unique_ptr<grpc::GenericStub> stub;
  };
  // Admission counters by outcome, looked up once (a labelled Add per call
  // would build a label map and take the family's lock every time).
  struct AdmissionCounters {
    explicit AdmissionCounters(prometheus::Family<prometheus::Counter>& f);
    prometheus::Counter& admitted;
    prometheus::Counter& unknown_method;
    prometheus::Counter& unauthenticated;
    prometheus::Counter& forbidden;
    prometheus::Counter& rate_limited;
    prometheus::Counter& unavailable;
    prometheus::Counter& overloaded;
    prometheus::Counter& stream_message;
    prometheus::Counter& stream_message_rate_limited;
  };
  void Forward(std::shared_ptr<InboundCall> call, const MethodRoute& route,
               const app::Principal& principal, std::vector<grpc::ByteBuffer> requests,
               std::function<void(ForwardResult)> done);
  // Admission that may block (key lookup, shared rate limiter): on the executor.
  void AdmitOnExecutor(std::shared_ptr<InboundCall> call, domain::AccessPolicy policy,
                       AdmitDone done);

  app::Access& access_;
  common::Executor& executor_;
  absl::Duration default_deadline_;
  absl::Duration upload_deadline_;
  int max_streams_per_tenant_;
  std::map<std::string, Backend, std::less<>> backends_;
  MethodTable methods_;
  absl::Mutex streams_mu_;
  std::map<std::string, int> streams_by_tenant_ ABSL_GUARDED_BY(streams_mu_);
  prometheus::Family<prometheus::Counter>& admission_;
  AdmissionCounters outcome_;
  prometheus::Family<prometheus::Counter>& stream_messages_;
  prometheus::Gauge& streams_open_;
};

}  // namespace crm::gateway::api
