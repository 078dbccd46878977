#include "services/gateway/api/proxy.h"

#include <algorithm>

namespace crm::gateway::api {

Proxy::AdmissionCounters::AdmissionCounters(prometheus::Family<prometheus::Counter>& f)
    : admitted(f.Add({{"outcome", "admitted"}})),
      unknown_method(f.Add({{"outcome", "unknown_method"}})),
      unauthenticated(f.Add({{"outcome", "unauthenticated"}})),
      forbidden(f.Add({{"outcome", "forbidden"}})),
      rate_limited(f.Add({{"outcome", "rate_limited"}})),
      unavailable(f.Add({{"outcome", "unavailable"}})),
      overloaded(f.Add({{"outcome", "overloaded"}})),
      stream_message(f.Add({{"outcome", "stream_message"}})),
      stream_message_rate_limited(f.Add({{"outcome", "stream_message_rate_limited"}})) {}

Proxy::Proxy(app::Access& access, common::Executor& executor, prometheus::Registry& metrics,
             absl::Duration default_deadline, absl::Duration upload_deadline,
             int max_streams_per_tenant)
    : access_(access),
      executor_(executor),
      default_deadline_(default_deadline),
      upload_deadline_(upload_deadline),
      max_streams_per_tenant_(max_streams_per_tenant),
      admission_(prometheus::BuildCounter()
                     .Name("crm_gateway_admission_total")
                     .Help("Gateway admission decisions by outcome")
                     .Register(metrics)),
      outcome_(admission_),
      stream_messages_(prometheus::BuildCounter()
                           .Name("crm_gateway_grpc_stream_messages_total")
                           .Help("Messages relayed on gRPC streams by method and direction")
                           .Register(metrics)),
      streams_open_(prometheus::BuildGauge()
                        .Name("crm_gateway_grpc_streams_open")
                        .Help("Relayed gRPC streams in progress")
                        .Register(metrics)
                        .Add({})) {}

void Proxy::AddBackend(const std::string& service_full_name,
                       std::shared_ptr<grpc::Channel> channel) {
  Backend b;
  b.stub = std::make_unique<grpc::GenericStub>(channel);
  b.channel = std::move(channel);
  methods_.AddService(service_full_name, b.stub.get());
  backends_[service_full_name] = std::move(b);
}

bool Proxy::HasBackend(absl::string_view full_method) const {
  return RouteFor(full_method).stub != nullptr;
}

Proxy::StreamTarget Proxy::TargetFor(const InboundCall& call,
                                     const app::Principal& principal) const {
  StreamTarget t;
  t.stub = RouteFor(call.full_method).stub;
  t.context = BackendContext(call, principal);
  t.deadline = std::min(call.deadline, absl::Now() + upload_deadline_);
  return t;
}

void Proxy::RecordStreamMessages(absl::string_view full_method, int64_t messages_in,
                                 int64_t messages_out) {
  std::string rpc(full_method);
  stream_messages_.Add({{"rpc", rpc}, {"direction", "in"}})
      .Increment(static_cast<double>(messages_in));
  stream_messages_.Add({{"rpc", rpc}, {"direction", "out"}})
      .Increment(static_cast<double>(messages_out));
}

void Proxy::StreamOpened(int delta) { streams_open_.Increment(delta); }

}  // namespace crm::gateway::api
