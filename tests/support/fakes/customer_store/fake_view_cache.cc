#include "tests/support/fakes/customer_store/fake_view_cache.h"

#include "absl/strings/str_cat.h"

namespace crm::testing {

FakeViewCache::Lookup FakeViewCache::Get(const std::string& tenant, const std::string& id) {
  absl::MutexLock lock(&mu_);
  ++get_calls_;
  Lookup out;
  if (down_) return out;  // usable = false
  Key key{tenant, id};
  auto g = generations_.find(key);
  out.generation = absl::StrCat(g == generations_.end() ? 0 : g->second);
  out.usable = true;
  auto v = views_.find(key);
  if (v != views_.end() && v->second.generation == out.generation) out.hit = v->second.bytes;
  return out;
}

void FakeViewCache::Put(const std::string& tenant, const std::string& id,
                        const std::string& generation, const std::string& bytes) {
  absl::MutexLock lock(&mu_);
  ++put_calls_;
  if (down_) return;
  views_[{tenant, id}] = Entry{generation, bytes};
}

void FakeViewCache::Invalidate(const std::string& tenant, const std::string& id) {
  absl::MutexLock lock(&mu_);
  ++invalidate_calls_;
  if (down_) return;
  ++generations_[{tenant, id}];
}

void FakeViewCache::set_down(bool down) {
  absl::MutexLock lock(&mu_);
  down_ = down;
}
int FakeViewCache::get_calls() const {
  absl::MutexLock lock(&mu_);
  return get_calls_;
}
int FakeViewCache::put_calls() const {
  absl::MutexLock lock(&mu_);
  return put_calls_;
}
int FakeViewCache::invalidate_calls() const {
  absl::MutexLock lock(&mu_);
  return invalidate_calls_;
}

std::optional<std::string> FakeViewCache::Stored(const std::string& tenant,
                                                 const std::string& id) const {
  absl::MutexLock lock(&mu_);
  auto v = views_.find({tenant, id});
  if (v == views_.end()) return std::nullopt;
  return v->second.bytes;
}

std::string FakeViewCache::GenerationOf(const std::string& tenant, const std::string& id) const {
  absl::MutexLock lock(&mu_);
  auto g = generations_.find({tenant, id});
  return absl::StrCat(g == generations_.end() ? 0 : g->second);
}

}  // namespace crm::testing
