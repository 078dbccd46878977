#pragma once
// What every backend service's main wires the same way: metrics exposer,
// PostgreSQL and Redis pools, the bounded executor, RPC metrics, the page
// token codec, the outbox relay, the gRPC server with readiness, and the
// SIGTERM drain. A service's main builds its own adapters and use cases on
// top and calls Serve().
#include <memory>
#include <string>
#include <vector>

#include <grpcpp/grpcpp.h>

#include "absl/status/statusor.h"
#include "libs/common/executor.h"
#include "libs/common/page_token.h"
#include "libs/common/service_config.h"
#include "libs/events/consumer.h"
#include "libs/grpcutil/rpc_metrics.h"
#include "libs/observability/metrics.h"
#include "libs/pg/pool.h"
#include "libs/redis/redis.h"

namespace crm::service {

class Runtime final {
 public:
  // Logs the failure and returns it; the caller exits non-zero.
  static absl::StatusOr<std::unique_ptr<Runtime>> Create(std::string name,
                                                         const common::ServiceConfig& config,
                                                         std::vector<pg::NamedQuery> queries);

  prometheus::Registry& registry() { return metrics_->registry(); }
  pg::Pool& pg() { return *pg_; }
  redis::Pool& redis() { return *redis_; }
  common::Executor& executor() { return *executor_; }
  grpcutil::RpcMetrics& rpc_metrics() { return *rpc_metrics_; }
  const common::PageTokenCodec& tokens() const { return *tokens_; }

  // An event consumer (libs/events) of consumer group `group` on every
  // partition, run by Serve() from the moment the server starts until it has
  // drained. The handler must be thread-safe when consumer.workers > 1.
  void AddConsumer(std::string group, const common::EventConsumerConfig& consumer,
                   events::Handler handler);
  // The same with a batch handler: every entry of one read in one call
  // (libs/events/consumer.h, "Batches"; consumer.workers does not apply).
  void AddBatchConsumer(std::string group, const common::EventConsumerConfig& consumer,
                        events::BatchHandler handler);

  // Runs the outbox relay of `outbox_schema` (when enabled) and the gRPC
  // server with `services` until SIGTERM/SIGINT; SERVING only while
  // PostgreSQL answers. Returns the process exit code.
  int Serve(const std::string& outbox_schema, const std::vector<grpc::Service*>& services);

 private:
  Runtime(std::string name, common::ServiceConfig config)
      : name_(std::move(name)), config_(std::move(config)) {}
  std::string name_;
  common::ServiceConfig config_;
  std::unique_ptr<observability::Metrics> metrics_;
  std::unique_ptr<pg::Pool> pg_;
  std::unique_ptr<redis::Pool> redis_;
  std::unique_ptr<grpcutil::RpcMetrics> rpc_metrics_;
  // After rpc_metrics_: destroyed (drained) first, its depth observer
  // writes to rpc_metrics_.
  std::unique_ptr<common::Executor> executor_;
  std::unique_ptr<common::PageTokenCodec> tokens_;
  std::vector<std::unique_ptr<events::Consumer>> consumers_;
};

// First lines of every service main: signals blocked, JSON logging, Abseil's
// per-lock deadlock detection off (our lock order is flat).
void InitProcess(const char* service_name);

}  // namespace crm::service
