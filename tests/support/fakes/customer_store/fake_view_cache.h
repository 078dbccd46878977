#pragma once
// In-memory ViewCache with the generation semantics of ports.h (and of
// RedisViewCache): Invalidate bumps the generation of a customer; a Put made
// with an older generation is never served. set_down(true) makes the cache
// unreadable (Get -> usable=false, no hit) and ignores writes.
#include <map>
#include <optional>
#include <string>
#include <utility>

#include "absl/synchronization/mutex.h"
#include "services/customer_store/app/ports.h"

namespace crm::testing {

class FakeViewCache final : public customer_store::app::ViewCache {
 public:
  Lookup Get(const std::string& tenant, const std::string& id) override;
  void Put(const std::string& tenant, const std::string& id, const std::string& generation,
           const std::string& bytes) override;
  void Invalidate(const std::string& tenant, const std::string& id) override;

  void set_down(bool down);
  int get_calls() const;
  int put_calls() const;
  int invalidate_calls() const;
  // The bytes stored for (tenant, id), whatever their generation.
  std::optional<std::string> Stored(const std::string& tenant, const std::string& id) const;
  std::string GenerationOf(const std::string& tenant, const std::string& id) const;

 private:
  using Key = std::pair<std::string, std::string>;
  struct Entry {
    std::string generation;
    std::string bytes;
  };
  mutable absl::Mutex mu_;
  std::map<Key, long long> generations_ ABSL_GUARDED_BY(mu_);
  std::map<Key, Entry> views_ ABSL_GUARDED_BY(mu_);
  bool down_ ABSL_GUARDED_BY(mu_) = false;
  int get_calls_ ABSL_GUARDED_BY(mu_) = 0;
  int put_calls_ ABSL_GUARDED_BY(mu_) = 0;
  int invalidate_calls_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace crm::testing
