#pragma once
// The work queue on a Redis stream (crm:delivery:queue, consumer group
// "delivery"). Entries are read with NOACK: nothing is pending in Redis, so
// a lost entry (a sender killed, Redis restarted empty) is only a delay: the
// ledger's sweeper queues every due row again (app::Ledger::TakeDue).
#include <string>
#include <vector>

#include "libs/redis/redis.h"
#include "services/delivery/app/ports.h"

namespace crm::delivery::storage {

class RedisWorkQueue final : public app::WorkQueue {
 public:
  explicit RedisWorkQueue(redis::Pool& pool, std::string stream = "crm:delivery:queue")
      : pool_(pool), stream_(std::move(stream)) {}
  absl::Status Enqueue(const std::vector<app::Ledger::Due>& items) override;
  // Up to `count` entries for `consumer`, waiting up to `block` for the
  // first; the group is created when missing.
  absl::StatusOr<std::vector<app::Ledger::Due>> Read(const std::string& consumer, int count,
                                                     absl::Duration block);

 private:
  absl::Status EnsureGroup();
  redis::Pool& pool_;
  const std::string stream_;
};

}  // namespace crm::delivery::storage
