#pragma once
// Transactional-outbox relay: publishes unpublished rows of <schema>.outbox to
// Redis Streams and stamps them published, in one PostgreSQL transaction per
// batch (rows locked FOR UPDATE SKIP LOCKED, so several replicas can relay).
// Publish first, stamp second: a crash in between publishes again, which is
// why consumers deduplicate by event_id. Streams are partitioned by customer
// (crm:events:p<N>) so one customer's events keep their order.
#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <thread>

#include "absl/status/statusor.h"
#include "absl/synchronization/notification.h"
#include "absl/time/time.h"
#include "libs/pg/pool.h"
#include "libs/redis/redis.h"

namespace prometheus {
class Registry;
}

namespace crm::outbox {

struct RelayOptions {
  std::string schema;    // e.g. "customer_store"
  std::string producer;  // e.g. "customer-store"
  int partitions = 8;
  int batch_size = 500;
  absl::Duration idle_poll = absl::Milliseconds(50);
  int64_t stream_max_len = 1000000;  // approximate cap per partition (XADD MAXLEN ~)
  prometheus::Registry* metrics = nullptr;
};

// Stream key of a customer's partition (FNV-1a of the customer id).
std::string StreamFor(const std::string& customer_id, int partitions);

class Relay final {
 public:
  Relay(pg::Pool& pg, redis::Pool& redis, RelayOptions options);
  ~Relay();
  // One batch; returns how many events were published.
  absl::StatusOr<int> RelayOnce();
  void Start();  // background loop
  void Stop();

 private:
  class Metrics;
  void Loop();
  pg::Pool& pg_;
  redis::Pool& redis_;
  RelayOptions options_;
  std::string select_sql_;
  std::string stamp_sql_;
  std::unique_ptr<Metrics> metrics_;
  std::thread thread_;
  absl::Notification stop_;
};

}  // namespace crm::outbox
