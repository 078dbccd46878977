#pragma once
// What every service's main wires the same way: metrics exposer, PostgreSQL
// and Redis pools, the bounded executor, RPC metrics, the page token codec,
// the outbox relay (services with an outbox), the gRPC server with readiness,
// and the SIGTERM drain. A service's main builds its own adapters and use
// cases on top and calls Serve(). The gateway adds its HTTP listener, an
// in-process server, readiness checks and server options.
#include <grpcpp/grpcpp.h>

#include <atomic>
#include <functional>
#include <memory>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "libs/common/env.h"
#include "libs/common/executor.h"
#include "libs/common/page_token.h"
#include "libs/common/service_config.h"
#include "libs/events/consumer.h"
#include "libs/grpcutil/rpc_metrics.h"
#include "libs/grpcutil/server_runner.h"
#include "libs/observability/metrics.h"
#include "libs/pg/pool.h"
#include "libs/redis/redis.h"

namespace crm::service {

class Runtime final {
 public:
  // Logs the failure and returns it; the caller exits non-zero.
  // `rpc_service` labels the RPC and executor metrics (default `name`).
  static absl::StatusOr<std::unique_ptr<Runtime>> Create(std::string name,
                                                         const common::ServiceConfig& config,
                                                         std::vector<pg::NamedQuery> queries,
                                                         std::string rpc_service = "");

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

  // The gRPC server, for what Serve() does not set: generic services,
  // builder options. Before Serve(); its port() once listeners start.
  grpcutil::ServerRunner& server() { return *server_; }

  // A gRPC server with no listening port for `services` (at most one per
  // process), reached only through the returned channel (the gateway's
  // admin service), SERVING at once.
  // Serve() shuts it down after the gRPC server has drained and before the
  // executor drains.
  absl::StatusOr<std::shared_ptr<grpc::Channel>> StartInProcessServer(
      const std::vector<grpc::Service*>& services);

  // Readiness beyond PostgreSQL: SERVING only while `check` passes too (run
  // after PostgreSQL's ping and the checks added before, in order).
  void AddReadinessCheck(std::function<absl::Status()> check);
  // Told every readiness result, and false first thing on shutdown.
  void AddReadinessListener(std::function<void(bool ready)> listener);
  // A front door besides gRPC (the gateway's HTTP server): Serve() starts
  // it once the gRPC server listens (a failure ends Serve() with exit code
  // 1) and stops it as soon as readiness turns false on shutdown, before the
  // gRPC server drains.
  void AddListener(std::function<absl::Status()> start, std::function<void()> stop);

  // Runs the idempotency-key purge of `schema` (the service's schema; ""
  // none), its outbox relay (when the config has an outbox and the relay is
  // enabled) and the gRPC server with `services` until SIGTERM/SIGINT;
  // SERVING only while PostgreSQL answers (and the readiness checks pass).
  // Returns the process exit code.
  int Serve(const std::string& schema, const std::vector<grpc::Service*>& services);

 private:
  Runtime(std::string name, common::ServiceConfig config)
      : name_(std::move(name)), config_(std::move(config)) {}
  // PostgreSQL's ping, then the added checks; tells the listeners.
  absl::Status CheckReadiness();
  struct Listener {
    std::function<absl::Status()> start;
    std::function<void()> stop;
  };
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
  std::vector<std::function<absl::Status()>> readiness_checks_;
  std::vector<std::function<void(bool)>> readiness_listeners_;
  std::vector<Listener> listeners_;
  std::atomic<bool> stopping_{false};
  // Destroyed before the executor: their calls run on it.
  std::unique_ptr<grpcutil::ServerRunner> in_process_server_;
  std::unique_ptr<grpcutil::ServerRunner> server_;
};

// First lines of every service main: signals blocked, JSON logging, Abseil's
// per-lock deadlock detection off (our lock order is flat).
void InitProcess(const char* service_name);

// A service main's start-up, with the exits every service shares: an
// invalid configuration logs its message and exits 2; a runtime that cannot
// start logs why and exits 1. Every configuration read through Config() is
// logged as one "config" line (secrets masked) when the runtime starts.
//
//   service::Boot boot("hello");                       // InitProcess
//   common::ServiceConfig config = boot.Config(common::LoadServiceConfig());
//   common::PeerConfig store = boot.Config(common::LoadPeerConfig("customer-store"));
//   std::unique_ptr<service::Runtime> rt = boot.Start(config, Repository::Queries());
class Boot final {
 public:
  explicit Boot(const char* service_name);

  // The loaded configuration, or exit 2. A T with `DumpTo(ConfigDump&)`
  // joins the start-up line.
  template <typename T>
  T Config(absl::StatusOr<T> loaded) {
    if (!loaded.ok()) ExitInvalid(loaded.status());
    if constexpr (HasDumpTo<T>::value) loaded->DumpTo(dump_);
    return *std::move(loaded);
  }
  // An invalid setting read outside a loader (CRM_* of one service): exit 2.
  void Require(const absl::Status& setting) {
    if (!setting.ok()) ExitInvalid(setting);
  }
  // Logs the configuration and creates the runtime (Runtime::Create), or
  // exits 1.
  std::unique_ptr<Runtime> Start(const common::ServiceConfig& config,
                                 std::vector<pg::NamedQuery> queries, std::string rpc_service = "");
  // A start-up step after Start() (a model loaded before serving) that
  // failed: logs `start-up: <why>` and exits 1, as Start() does.
  void Require(const absl::Status& step, const char* what);

 private:
  template <typename T, typename = void>
  struct HasDumpTo : std::false_type {};
  template <typename T>
  struct HasDumpTo<T, std::void_t<decltype(std::declval<const T&>().DumpTo(
                          std::declval<common::ConfigDump&>()))>> : std::true_type {};
  [[noreturn]] static void ExitInvalid(const absl::Status& s);

  std::string name_;
  common::ConfigDump dump_;
};

}  // namespace crm::service
