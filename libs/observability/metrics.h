#pragma once
// One prometheus Registry per process, exposed on its own port.
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "prometheus/counter.h"
#include "prometheus/exposer.h"
#include "prometheus/family.h"
#include "prometheus/gauge.h"
#include "prometheus/histogram.h"
#include "prometheus/registry.h"

namespace crm::observability {

class Metrics final {
 public:
  // Exposes /metrics on bind_host:port; port 0: registry only, no HTTP
  // exposer (tests).
  static absl::StatusOr<std::unique_ptr<Metrics>> Create(int port,
                                                         const std::string& bind_host = "127.0.0.1");
  prometheus::Registry& registry() { return *registry_; }
  // Latency buckets in seconds shared by every histogram we export.
  static const prometheus::Histogram::BucketBoundaries& LatencyBuckets();

 private:
  Metrics() = default;
  std::shared_ptr<prometheus::Registry> registry_;
  std::unique_ptr<prometheus::Exposer> exposer_;
};

}  // namespace crm::observability
