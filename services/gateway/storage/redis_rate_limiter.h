#pragma once
// Token bucket in Redis, one hash per key (crm:rl:<key id>), updated by a Lua
// script using the server's clock, so every gateway replica shares it.
#include "libs/redis/redis.h"
#include "services/gateway/app/ports.h"

namespace crm::gateway::storage {

class RedisRateLimiter final : public app::RateLimiter {
 public:
  explicit RedisRateLimiter(redis::Pool& pool) : pool_(pool) {}
  absl::StatusOr<app::RateDecision> Take(const std::string& key_id, int rate, int burst,
                                         int want) override;

 private:
  redis::Pool& pool_;
};

}  // namespace crm::gateway::storage
