#pragma once
// ViewCache over Redis. Keys: crm:cs:view:{tenant}:{id} holds
// "<generation>|<bytes>", crm:cs:gen:{tenant}:{id} the customer's generation.
// Invalidate bumps the generation, so a view stored by a reader that loaded
// it before the write carries an old generation and is never served. A cache
// that fails is skipped; PostgreSQL stays the source of truth.
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "libs/redis/redis.h"
#include "services/customer_store/app/ports.h"

namespace crm::customer_store::storage {

class RedisViewCache final : public app::ViewCache {
 public:
  RedisViewCache(redis::Pool& pool, absl::Duration ttl) : pool_(pool), ttl_(ttl) {}
  Lookup Get(const std::string& tenant, const std::string& id) override;
  void Put(const std::string& tenant, const std::string& id, const std::string& generation,
           const std::string& bytes) override;
  void Invalidate(const std::string& tenant, const std::string& id) override;
  // One pipeline for every id (a behaviour batch touches many customers).
  void InvalidateMany(const std::string& tenant, const std::vector<std::string>& ids) override;

 private:
  redis::Pool& pool_;
  absl::Duration ttl_;
};

}  // namespace crm::customer_store::storage
