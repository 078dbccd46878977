#pragma once
// Definitions written through the unit of work (slots, offers), kept in
// memory per tenant by id: loaded at start, each replaced by its stored
// state after a write (or its replay), read without touching the store.
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/synchronization/mutex.h"

namespace crm::personalization::app {

template <typename T>
class DefinitionCache {
 public:
  // (tenant, definition) pairs; `id` names a definition.
  template <typename IdOf>
  void Reset(std::vector<std::pair<std::string, T>> all, IdOf id) {
    absl::MutexLock l(&mu_);
    by_tenant_.clear();
    for (auto& [tenant, d] : all) {
      std::string key = id(d);  // before the move below
      by_tenant_[tenant][std::move(key)] = std::make_shared<const T>(std::move(d));
    }
  }
  // The stored state of one definition (nullopt: gone).
  void Replace(const std::string& tenant, const std::string& id, std::optional<T> now) {
    absl::MutexLock l(&mu_);
    if (now) {
      by_tenant_[tenant][id] = std::make_shared<const T>(*std::move(now));
    } else {
      by_tenant_[tenant].erase(id);
    }
  }
  std::shared_ptr<const T> Find(const std::string& tenant, const std::string& id) const {
    absl::MutexLock l(&mu_);
    auto t = by_tenant_.find(tenant);
    if (t == by_tenant_.end()) return nullptr;
    auto it = t->second.find(id);
    return it == t->second.end() ? nullptr : it->second;
  }
  // The tenant's, in id order.
  std::vector<std::shared_ptr<const T>> All(const std::string& tenant) const {
    absl::MutexLock l(&mu_);
    std::vector<std::shared_ptr<const T>> out;
    auto t = by_tenant_.find(tenant);
    if (t == by_tenant_.end()) return out;
    for (const auto& [id, d] : t->second) out.push_back(d);
    return out;
  }

 private:
  mutable absl::Mutex mu_;
  std::map<std::string, std::map<std::string, std::shared_ptr<const T>>> by_tenant_
      ABSL_GUARDED_BY(mu_);
};

}  // namespace crm::personalization::app
