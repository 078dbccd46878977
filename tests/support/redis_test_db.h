#pragma once
// Redis helpers for integration tests. CRM_TEST_REDIS_ADDR is set by ctest
// (cmake/CrmTesting.cmake); a missing variable is a FAILURE (RequireEnv
// throws), never a skip. Tests share one server: prefix every key with
// UniqueName() instead of flushing the database.
#include <memory>
#include <stdexcept>
#include <string>

#include "absl/status/statusor.h"
#include "libs/redis/redis.h"
#include "tests/support/pg_test_db.h"

namespace crm::test_support {

inline std::string RedisAddr() { return RequireEnv("CRM_TEST_REDIS_ADDR"); }

inline crm::redis::PoolOptions RedisOptions() {
  absl::StatusOr<crm::redis::PoolOptions> o = crm::redis::ParseAddress(RedisAddr());
  if (!o.ok()) {
    throw std::runtime_error("CRM_TEST_REDIS_ADDR is not host:port: " + o.status().ToString());
  }
  o->size = 2;
  return *o;
}

inline absl::StatusOr<std::unique_ptr<crm::redis::Pool>> MakeRedisPool() {
  return crm::redis::Pool::Create(RedisOptions());
}

}  // namespace crm::test_support
