#include "libs/service/runtime.h"

#include <cstdlib>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "libs/common/shutdown.h"
#include "libs/grpcutil/context.h"
#include "libs/observability/log.h"
#include "libs/outbox/purge.h"
#include "libs/outbox/relay.h"
#include "libs/outbox/writer.h"

namespace crm::service {

void InitProcess(const char* service_name) {
  common::BlockShutdownSignals();
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
  observability::InitLogging(service_name);
}

Boot::Boot(const char* service_name) : name_(service_name) { InitProcess(service_name); }

void Boot::ExitInvalid(const absl::Status& s) {
  CRM_LOG(Error) << "invalid configuration: " << s.message();
  observability::FlushLogs();
  std::exit(2);
}

std::unique_ptr<Runtime> Boot::Start(const common::ServiceConfig& config,
                                     std::vector<pg::NamedQuery> queries, std::string rpc_service) {
  CRM_LOG(Info) << "config " << dump_.ToString();
  auto rt = Runtime::Create(name_, config, std::move(queries), std::move(rpc_service));
  if (!rt.ok()) Require(rt.status(), "runtime");
  return *std::move(rt);
}

void Boot::Require(const absl::Status& step, const char* what) {
  if (step.ok()) return;
  CRM_LOG(Error) << "start-up: " << what << ": " << step;
  observability::FlushLogs();
  std::exit(1);
}

absl::StatusOr<std::unique_ptr<Runtime>> Runtime::Create(std::string name,
                                                         const common::ServiceConfig& config,
                                                         std::vector<pg::NamedQuery> queries,
                                                         std::string rpc_service) {
  std::unique_ptr<Runtime> rt(new Runtime(std::move(name), config));
  auto metrics = observability::Metrics::Create(config.metrics_port, config.bind_host);
  if (!metrics.ok()) return metrics.status();
  rt->metrics_ = *std::move(metrics);

  pg::PoolOptions pg_options;
  pg_options.dsn = config.pg_dsn;
  pg_options.size = config.pg_pool_size;
  pg_options.queries = std::move(queries);
  pg_options.metrics = &rt->registry();
  auto pg = pg::Pool::Create(std::move(pg_options));
  if (!pg.ok()) return pg.status();
  rt->pg_ = *std::move(pg);

  auto redis_options = redis::ParseAddress(config.redis_addr);
  if (!redis_options.ok()) return redis_options.status();
  redis_options->size = config.redis_pool_size;
  redis_options->metrics = &rt->registry();
  auto redis = redis::Pool::Create(*redis_options);
  if (!redis.ok()) return redis.status();
  rt->redis_ = *std::move(redis);

  rt->executor_ = std::make_unique<common::Executor>(config.workers,
                                                     static_cast<size_t>(config.max_queue));
  rt->rpc_metrics_ = std::make_unique<grpcutil::RpcMetrics>(
      rt->registry(), rpc_service.empty() ? rt->name_ : std::move(rpc_service));
  rt->executor_->SetDepthObserver([m = rt->rpc_metrics_.get()](size_t depth) {
    m->SetQueueDepth(static_cast<double>(depth));
  });
  rt->tokens_ = std::make_unique<common::PageTokenCodec>(config.page_token_secret);
  grpcutil::SetContextKey(config.context_key);
  if (absl::Status s = outbox::SetIdempotencyKeyTtl(config.idempotency_key_ttl); !s.ok()) {
    return s;
  }
  rt->server_ = std::make_unique<grpcutil::ServerRunner>(
      common::ListenAddress(config.bind_host, config.grpc_port));
  return rt;
}

namespace {
events::ConsumerOptions ConsumerOptionsOf(std::string group,
                                          const common::EventConsumerConfig& consumer,
                                          int partitions, prometheus::Registry* metrics) {
  events::ConsumerOptions options;
  options.group = std::move(group);
  options.consumer = consumer.consumer_name;
  options.partitions = partitions;
  options.stream_workers = consumer.workers;
  options.metrics = metrics;
  return options;
}
}  // namespace

void Runtime::AddConsumer(std::string group, const common::EventConsumerConfig& consumer,
                          events::Handler handler) {
  consumers_.push_back(std::make_unique<events::Consumer>(
      *redis_,
      ConsumerOptionsOf(std::move(group), consumer, config_.event_partitions, &registry()),
      std::move(handler)));
}

void Runtime::AddBatchConsumer(std::string group, const common::EventConsumerConfig& consumer,
                               events::BatchHandler handler) {
  consumers_.push_back(std::make_unique<events::Consumer>(
      *redis_,
      ConsumerOptionsOf(std::move(group), consumer, config_.event_partitions, &registry()),
      std::move(handler)));
}

absl::StatusOr<std::shared_ptr<grpc::Channel>> Runtime::StartInProcessServer(
    const std::vector<grpc::Service*>& services) {
  in_process_server_ = std::make_unique<grpcutil::ServerRunner>("");
  for (grpc::Service* s : services) in_process_server_->Register(s);
  if (absl::Status s = in_process_server_->Start(); !s.ok()) return s;
  in_process_server_->SetServing(true);
  return in_process_server_->InProcessChannel();
}

void Runtime::AddReadinessCheck(std::function<absl::Status()> check) {
  readiness_checks_.push_back(std::move(check));
}

void Runtime::AddReadinessListener(std::function<void(bool)> listener) {
  readiness_listeners_.push_back(std::move(listener));
}

void Runtime::AddListener(std::function<absl::Status()> start, std::function<void()> stop) {
  listeners_.push_back({std::move(start), std::move(stop)});
}

absl::Status Runtime::CheckReadiness() {
  absl::Status s = pg_->Ping();
  for (auto it = readiness_checks_.begin(); s.ok() && it != readiness_checks_.end(); ++it) {
    s = (*it)();
  }
  // Once shutdown has begun, a late round of the watcher tells no one "ready".
  const bool ready = s.ok() && !stopping_;
  for (const auto& listener : readiness_listeners_) listener(ready);
  return s;
}

int Runtime::Serve(const std::string& schema, const std::vector<grpc::Service*>& services) {
  std::unique_ptr<outbox::Relay> relay;
  std::unique_ptr<outbox::KeyPurger> purger;
  absl::Duration outbox_keep = absl::ZeroDuration();
  if (config_.outbox) {
    outbox::RelayOptions relay_options;
    relay_options.schema = schema;
    relay_options.producer = name_;
    relay_options.partitions = config_.event_partitions;
    relay_options.metrics = &registry();
    if (absl::Status s = outbox::ApplyRelayEnvironment(relay_options); !s.ok()) {
      CRM_LOG(Error) << s;  // CRM_OUTBOX_REPLAY_WINDOW / _RELAY_MIN_INTERVAL invalid
      return 1;
    }
    // Published rows are kept for the republish window and an hour more.
    outbox_keep = relay_options.replay_window + absl::Hours(1);
    relay = std::make_unique<outbox::Relay>(*pg_, *redis_, relay_options);
    if (config_.relay_enabled) relay->Start();
  }
  // Every schema has idempotency keys (the platform tables), the gateway's too.
  if (!schema.empty()) {
    outbox::KeyPurgeOptions purge_options;
    purge_options.schema = schema;
    purge_options.metrics = &registry();
    purge_options.outbox_keep = outbox_keep;
    purger = std::make_unique<outbox::KeyPurger>(*pg_, purge_options);
    purger->Start();
  }

  for (grpc::Service* s : services) server_->Register(s);
  if (absl::Status s = server_->Start(); !s.ok()) {
    CRM_LOG(Error) << s;
    return 1;
  }
  for (const Listener& l : listeners_) {
    if (absl::Status s = l.start(); !s.ok()) {
      CRM_LOG(Error) << s;
      // Down before the caller's services and listeners go out of scope.
      for (const Listener& started : listeners_) {
        if (&started == &l) break;
        started.stop();
      }
      server_->Shutdown(absl::ZeroDuration());
      if (in_process_server_) in_process_server_->Shutdown(absl::ZeroDuration());
      return 1;
    }
  }
  // Redis is a cache and an event bus: the service serves without it (events
  // wait in the outbox), so readiness needs PostgreSQL only (and the checks
  // the service adds).
  server_->WatchReadiness({[this] { return CheckReadiness(); }});
  // CRM_EVENT_CONSUMERS=false: a replica that serves calls and consumes
  // nothing (events wait in the streams for the replicas that do).
  if (config_.consumers_enabled) {
    for (auto& c : consumers_) c->Start();
  }
  int sig = common::WaitForShutdownSignal();
  CRM_LOG(Info).Field("signal", sig) << "shutting down";
  stopping_ = true;
  for (const auto& listener : readiness_listeners_) listener(false);
  server_->SetServing(false);
  for (const Listener& l : listeners_) l.stop();
  server_->Shutdown(config_.shutdown_grace);
  if (in_process_server_) in_process_server_->Shutdown(absl::Seconds(1));
  for (auto& c : consumers_) c->Stop();
  if (relay) relay->Stop();
  if (purger) purger->Stop();
  executor_->Drain();
  return 0;
}

}  // namespace crm::service
