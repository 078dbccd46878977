#pragma once
// Per-RPC metrics (count by code, latency histogram) and the access-log line.
#include <string>
#include <string_view>

#include <grpcpp/support/status.h>

#include "absl/time/time.h"
#include "libs/grpcutil/context.h"
#include "prometheus/counter.h"
#include "prometheus/gauge.h"
#include "prometheus/histogram.h"
#include "prometheus/registry.h"

namespace crm::grpcutil {

class RpcMetrics final {
 public:
  RpcMetrics(prometheus::Registry& registry, std::string service);
  // Records metrics and writes one access-log line (ids only, no PII).
  void Record(std::string_view method, const grpc::Status& status, absl::Duration latency,
              const RequestContext& rc, std::string_view reason = {});
  void RecordRejected();  // executor full
  void SetQueueDepth(double depth);
  const std::string& service() const { return service_; }

 private:
  std::string service_;
  prometheus::Family<prometheus::Counter>& handled_;
  prometheus::Family<prometheus::Histogram>& latency_;
  prometheus::Counter& rejected_;
  prometheus::Gauge& queue_depth_;
};

// Canonical upper-case name of a status code ("NOT_FOUND").
const char* CodeName(grpc::StatusCode code);

}  // namespace crm::grpcutil
