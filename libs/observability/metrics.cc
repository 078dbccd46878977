#include "libs/observability/metrics.h"

#include "absl/strings/str_cat.h"
#include "libs/common/service_config.h"

namespace crm::observability {

absl::StatusOr<std::unique_ptr<Metrics>> Metrics::Create(int port, const std::string& bind_host) {
  std::unique_ptr<Metrics> m(new Metrics());
  m->registry_ = std::make_shared<prometheus::Registry>();
  if (port > 0) {
    try {
      m->exposer_ = std::make_unique<prometheus::Exposer>(common::ListenAddress(bind_host, port));
    } catch (const std::exception& e) {
      return absl::UnavailableError(
          absl::StrCat("cannot listen for metrics on ", common::ListenAddress(bind_host, port)));
    }
    m->exposer_->RegisterCollectable(m->registry_);
  }
  return m;
}

const prometheus::Histogram::BucketBoundaries& Metrics::LatencyBuckets() {
  static const prometheus::Histogram::BucketBoundaries kBuckets = {
      0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5};
  return kBuckets;
}

}  // namespace crm::observability
