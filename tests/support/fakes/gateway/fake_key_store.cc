#include "tests/support/fakes/gateway/fake_key_store.h"

#include <algorithm>

#include "libs/common/errors.h"

namespace crm::testing {

using gateway::app::KeyRecord;

class FakeKeyStore::Tx final : public gateway::app::KeyTx {
 public:
  Tx(State& st, const outbox::WriteMeta& m) : st_(st), m_(m) {}
  void SaveTenant(const gateway::app::Tenant& t) override {
    st_.tenants[t.id] = t;
    st_.last_principal = m_.principal;
  }
  void SaveKey(const KeyRecord& k) override {
    st_.keys[k.id] = k;
    st_.last_principal = m_.principal;
  }

 private:
  State& st_;
  const outbox::WriteMeta& m_;
};

template <typename T>
absl::StatusOr<T> FakeKeyStore::Run(
    const outbox::WriteMeta& m, absl::FunctionRef<absl::StatusOr<T>(gateway::app::KeyTx&)> work) {
  {
    absl::MutexLock lock(&mu_);
    if (fail_) return *fail_;
  }
  return uow_.Write<T>(m, [&](State& st) -> absl::StatusOr<T> {
    Tx tx(st, m);
    return work(tx);
  });
}

absl::StatusOr<gateway::app::CreatedTenant> FakeKeyStore::Write(
    const outbox::WriteMeta& m, const std::string&,
    absl::FunctionRef<absl::StatusOr<gateway::app::CreatedTenant>(gateway::app::KeyTx&)> work) {
  return Run<gateway::app::CreatedTenant>(m, work);
}

absl::StatusOr<gateway::app::CreatedKey> FakeKeyStore::Write(
    const outbox::WriteMeta& m, const std::string&,
    absl::FunctionRef<absl::StatusOr<gateway::app::CreatedKey>(gateway::app::KeyTx&)> work) {
  return Run<gateway::app::CreatedKey>(m, work);
}

absl::StatusOr<std::optional<KeyRecord>> FakeKeyStore::FindKey(const std::string& key_id) {
  std::optional<KeyRecord> out;
  std::function<void()> hook;
  {
    absl::MutexLock lock(&mu_);
    ++find_calls_;
    if (fail_) return *fail_;
    hook = after_find_;
  }
  out = uow_.With([&](const State& st) -> std::optional<KeyRecord> {
    auto it = st.keys.find(key_id);
    if (it == st.keys.end()) return std::nullopt;
    return it->second;
  });
  if (hook) hook();
  return out;
}

void FakeKeyStore::AfterFind(std::function<void()> hook) {
  absl::MutexLock lock(&mu_);
  after_find_ = std::move(hook);
}

absl::StatusOr<std::vector<KeyRecord>> FakeKeyStore::ListKeys(const std::string& tenant_id,
                                                              const std::string& after_key_id,
                                                              int limit) {
  {
    absl::MutexLock lock(&mu_);
    if (fail_) return *fail_;
  }
  std::vector<KeyRecord> all = uow_.With([&](const State& st) {
    std::vector<KeyRecord> v;
    for (const auto& [id, k] : st.keys) {
      if (k.tenant_id == tenant_id) v.push_back(k);
    }
    return v;
  });
  std::sort(all.begin(), all.end(), [](const KeyRecord& a, const KeyRecord& b) {
    return a.create_time != b.create_time ? a.create_time < b.create_time : a.id < b.id;
  });
  auto start = all.begin();
  if (!after_key_id.empty()) {
    auto it = std::find_if(all.begin(), all.end(),
                           [&](const KeyRecord& k) { return k.id == after_key_id; });
    if (it != all.end()) start = it + 1;
  }
  std::vector<KeyRecord> out;
  for (auto it = start; it != all.end() && static_cast<int>(out.size()) < limit; ++it) {
    out.push_back(*it);
  }
  return out;
}

absl::StatusOr<KeyRecord> FakeKeyStore::RevokeKey(const std::string& tenant_id,
                                                  const std::string& key_id, absl::Time now,
                                                  const std::string& principal) {
  {
    absl::MutexLock lock(&mu_);
    if (fail_) return *fail_;
  }
  return uow_.WithMutable([&](State& st) -> absl::StatusOr<KeyRecord> {
    auto it = st.keys.find(key_id);
    if (it == st.keys.end() || it->second.tenant_id != tenant_id) {
      return common::NotFound("API_KEY_NOT_FOUND", "API key not found");
    }
    if (it->second.revoke_time == absl::InfiniteFuture()) it->second.revoke_time = now;
    st.last_principal = principal;
    return it->second;
  });
}

void FakeKeyStore::Put(const KeyRecord& key) {
  uow_.WithMutable([&](State& st) { return st.keys[key.id] = key; });
}

void FakeKeyStore::FailWith(std::optional<absl::Status> s) {
  absl::MutexLock lock(&mu_);
  fail_ = std::move(s);
}

int FakeKeyStore::find_calls() const {
  absl::MutexLock lock(&mu_);
  return find_calls_;
}

std::optional<KeyRecord> FakeKeyStore::Key(const std::string& key_id) const {
  return uow_.With([&](const State& st) -> std::optional<KeyRecord> {
    auto it = st.keys.find(key_id);
    if (it == st.keys.end()) return std::nullopt;
    return it->second;
  });
}

std::optional<gateway::app::Tenant> FakeKeyStore::TenantOf(const std::string& tenant_id) const {
  return uow_.With([&](const State& st) -> std::optional<gateway::app::Tenant> {
    auto it = st.tenants.find(tenant_id);
    if (it == st.tenants.end()) return std::nullopt;
    return it->second;
  });
}

std::string FakeKeyStore::last_principal() const {
  return uow_.With([](const State& st) { return st.last_principal; });
}

}  // namespace crm::testing
