#include "libs/service/runtime.h"

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "libs/common/shutdown.h"
#include "libs/grpcutil/context.h"
#include "libs/grpcutil/server_runner.h"
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

absl::StatusOr<std::unique_ptr<Runtime>> Runtime::Create(std::string name,
                                                         const common::ServiceConfig& config,
                                                         std::vector<pg::NamedQuery> queries) {
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
  rt->rpc_metrics_ = std::make_unique<grpcutil::RpcMetrics>(rt->registry(), rt->name_);
  rt->executor_->SetDepthObserver([m = rt->rpc_metrics_.get()](size_t depth) {
    m->SetQueueDepth(static_cast<double>(depth));
  });
  rt->tokens_ = std::make_unique<common::PageTokenCodec>(config.page_token_secret);
  grpcutil::SetContextKey(config.context_key);
  if (absl::Status s = outbox::SetIdempotencyKeyTtl(config.idempotency_key_ttl); !s.ok()) {
    return s;
  }
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

int Runtime::Serve(const std::string& outbox_schema, const std::vector<grpc::Service*>& services) {
  outbox::RelayOptions relay_options;
  relay_options.schema = outbox_schema;
  relay_options.producer = name_;
  relay_options.partitions = config_.event_partitions;
  relay_options.metrics = &registry();
  if (absl::Status s = outbox::ApplyRelayEnvironment(relay_options); !s.ok()) {
    CRM_LOG(Error) << s;  // CRM_OUTBOX_REPLAY_WINDOW does not parse
    return 1;
  }
  outbox::Relay relay(*pg_, *redis_, relay_options);
  if (config_.relay_enabled) relay.Start();
  outbox::KeyPurgeOptions purge_options;
  purge_options.schema = outbox_schema;
  purge_options.metrics = &registry();
  outbox::KeyPurger purger(*pg_, purge_options);
  purger.Start();

  grpcutil::ServerRunner server(common::ListenAddress(config_.bind_host, config_.grpc_port));
  for (grpc::Service* s : services) server.Register(s);
  if (absl::Status s = server.Start(); !s.ok()) {
    CRM_LOG(Error) << s;
    return 1;
  }
  // Redis is a cache and an event bus: the service serves without it (events
  // wait in the outbox), so readiness needs PostgreSQL only.
  server.WatchReadiness({[this] { return pg_->Ping(); }});
  // CRM_EVENT_CONSUMERS=false: a replica that serves calls and consumes
  // nothing (events wait in the streams for the replicas that do).
  if (config_.consumers_enabled) {
    for (auto& c : consumers_) c->Start();
  }
  int sig = common::WaitForShutdownSignal();
  CRM_LOG(Info).Field("signal", sig) << "shutting down";
  server.SetServing(false);
  server.Shutdown(config_.shutdown_grace);
  for (auto& c : consumers_) c->Stop();
  relay.Stop();
  purger.Stop();
  executor_->Drain();
  return 0;
}

}  // namespace crm::service
