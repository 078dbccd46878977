#include "libs/grpcutil/rpc_metrics.h"

#include "libs/observability/log.h"
#include "libs/observability/metrics.h"

namespace crm::grpcutil {

const char* CodeName(grpc::StatusCode code) {
  switch (code) {
    case grpc::StatusCode::OK: return "OK";
    case grpc::StatusCode::CANCELLED: return "CANCELLED";
    case grpc::StatusCode::UNKNOWN: return "UNKNOWN";
    case grpc::StatusCode::INVALID_ARGUMENT: return "INVALID_ARGUMENT";
    case grpc::StatusCode::DEADLINE_EXCEEDED: return "DEADLINE_EXCEEDED";
    case grpc::StatusCode::NOT_FOUND: return "NOT_FOUND";
    case grpc::StatusCode::ALREADY_EXISTS: return "ALREADY_EXISTS";
    case grpc::StatusCode::PERMISSION_DENIED: return "PERMISSION_DENIED";
    case grpc::StatusCode::UNAUTHENTICATED: return "UNAUTHENTICATED";
    case grpc::StatusCode::RESOURCE_EXHAUSTED: return "RESOURCE_EXHAUSTED";
    case grpc::StatusCode::FAILED_PRECONDITION: return "FAILED_PRECONDITION";
    case grpc::StatusCode::ABORTED: return "ABORTED";
    case grpc::StatusCode::OUT_OF_RANGE: return "OUT_OF_RANGE";
    case grpc::StatusCode::UNIMPLEMENTED: return "UNIMPLEMENTED";
    case grpc::StatusCode::INTERNAL: return "INTERNAL";
    case grpc::StatusCode::UNAVAILABLE: return "UNAVAILABLE";
    case grpc::StatusCode::DATA_LOSS: return "DATA_LOSS";
    default: return "UNKNOWN";
  }
}

RpcMetrics::RpcMetrics(prometheus::Registry& registry, std::string service)
    : service_(std::move(service)),
      handled_(prometheus::BuildCounter()
                   .Name("crm_rpc_server_handled_total")
                   .Help("RPCs completed, by service, method and code")
                   .Register(registry)),
      latency_(prometheus::BuildHistogram()
                   .Name("crm_rpc_server_handling_seconds")
                   .Help("RPC latency from receipt to completion")
                   .Register(registry)),
      rejected_(prometheus::BuildCounter()
                    .Name("crm_executor_rejected_total")
                    .Help("Calls refused because the executor queue was full")
                    .Register(registry)
                    .Add({{"service", service_}})),
      queue_depth_(prometheus::BuildGauge()
                       .Name("crm_executor_queue_depth")
                       .Help("Tasks waiting in the executor queue")
                       .Register(registry)
                       .Add({{"service", service_}})) {}

void RpcMetrics::Record(std::string_view method, const grpc::Status& status,
                        absl::Duration latency, const RequestContext& rc,
                        std::string_view reason) {
  const char* code = CodeName(status.error_code());
  std::string m(method);
  handled_.Add({{"service", service_}, {"method", m}, {"code", code}}).Increment();
  latency_.Add({{"service", service_}, {"method", m}}, observability::Metrics::LatencyBuckets())
      .Observe(absl::ToDoubleSeconds(latency));
  auto line = CRM_LOG(Info);
  line.Field("rpc", m).Field("code", code).Field("latency_ms", absl::ToDoubleMilliseconds(latency));
  if (!rc.tenant_id.empty()) line.Field("tenant_id", rc.tenant_id);
  if (!rc.principal.empty()) line.Field("principal", rc.principal);
  if (!rc.request_id.empty()) line.Field("request_id", rc.request_id);
  if (!rc.trace_id.empty()) line.Field("trace_id", rc.trace_id);
  if (!reason.empty()) line.Field("reason", reason);
  line << "rpc";
}

void RpcMetrics::RecordRejected() { rejected_.Increment(); }
void RpcMetrics::SetQueueDepth(double depth) { queue_depth_.Set(depth); }

}  // namespace crm::grpcutil
