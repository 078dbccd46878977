#include "tests/support/fakes/gateway/fake_key_store.h"

#include <algorithm>

#include "libs/common/errors.h"

namespace crm::testing {

using gateway::app::KeyRecord;

absl::StatusOr<std::optional<KeyRecord>> FakeKeyStore::FindKey(const std::string& key_id) {
  std::optional<KeyRecord> out;
  std::function<void()> hook;
  {
    absl::MutexLock lock(&mu_);
    ++find_calls_;
    if (fail_) return *fail_;
    auto it = keys_.find(key_id);
    if (it != keys_.end()) out = it->second;
    hook = after_find_;
  }
  if (hook) hook();
  return out;
}

void FakeKeyStore::AfterFind(std::function<void()> hook) {
  absl::MutexLock lock(&mu_);
  after_find_ = std::move(hook);
}

absl::StatusOr<const FakeKeyStore::Claim*> FakeKeyStore::Previous(
    const gateway::app::WriteContext& w) const {
  if (w.idempotency_key.empty()) return nullptr;
  auto it = claims_.find({w.tenant_id, w.idempotency_key});
  if (it == claims_.end()) return nullptr;
  if (it->second.method != w.method) {
    return common::InvalidField("request_id", "request_id was already used for a different call");
  }
  if (it->second.fingerprint != w.fingerprint) {
    return common::WithField(
        common::WithReason(absl::InvalidArgumentError("request_id was already used with a "
                                                      "different request body"),
                           "IDEMPOTENCY_KEY_REUSED"),
        "request_id");
  }
  return &it->second;
}

absl::StatusOr<gateway::app::CreatedTenant> FakeKeyStore::CreateTenant(
    const gateway::app::WriteContext& w, const gateway::app::CreatedTenant& created) {
  absl::MutexLock lock(&mu_);
  if (fail_) return *fail_;
  absl::StatusOr<const Claim*> previous = Previous(w);
  if (!previous.ok()) return previous.status();
  if (*previous != nullptr) return *(*previous)->tenant;
  const KeyRecord& first_key = created.admin_key.key;
  if (tenants_.count(created.tenant.id) || keys_.count(first_key.id)) {
    return absl::AlreadyExistsError("tenant or key exists");
  }
  tenants_[created.tenant.id] = created.tenant;
  keys_[first_key.id] = first_key;
  last_principal_ = w.principal;
  if (!w.idempotency_key.empty()) {
    claims_[{w.tenant_id, w.idempotency_key}] = Claim{w.method, w.fingerprint, created, {}};
  }
  return created;
}

absl::StatusOr<gateway::app::CreatedKey> FakeKeyStore::InsertKey(
    const gateway::app::WriteContext& w, const gateway::app::CreatedKey& created) {
  absl::MutexLock lock(&mu_);
  if (fail_) return *fail_;
  absl::StatusOr<const Claim*> previous = Previous(w);
  if (!previous.ok()) return previous.status();
  if (*previous != nullptr) return *(*previous)->key;
  if (keys_.count(created.key.id)) return absl::AlreadyExistsError("key exists");
  keys_[created.key.id] = created.key;
  last_principal_ = w.principal;
  if (!w.idempotency_key.empty()) {
    claims_[{w.tenant_id, w.idempotency_key}] = Claim{w.method, w.fingerprint, {}, created};
  }
  return created;
}

absl::StatusOr<std::vector<KeyRecord>> FakeKeyStore::ListKeys(const std::string& tenant_id,
                                                              const std::string& after_key_id,
                                                              int limit) {
  absl::MutexLock lock(&mu_);
  if (fail_) return *fail_;
  std::vector<KeyRecord> all;
  for (const auto& [id, k] : keys_) {
    if (k.tenant_id == tenant_id) all.push_back(k);
  }
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
  absl::MutexLock lock(&mu_);
  if (fail_) return *fail_;
  auto it = keys_.find(key_id);
  if (it == keys_.end() || it->second.tenant_id != tenant_id) {
    return common::NotFound("API_KEY_NOT_FOUND", "API key not found");
  }
  if (it->second.revoke_time == absl::InfiniteFuture()) it->second.revoke_time = now;
  last_principal_ = principal;
  return it->second;
}

void FakeKeyStore::Put(const KeyRecord& key) {
  absl::MutexLock lock(&mu_);
  keys_[key.id] = key;
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
  absl::MutexLock lock(&mu_);
  auto it = keys_.find(key_id);
  if (it == keys_.end()) return std::nullopt;
  return it->second;
}

std::optional<gateway::app::Tenant> FakeKeyStore::TenantOf(const std::string& tenant_id) const {
  absl::MutexLock lock(&mu_);
  auto it = tenants_.find(tenant_id);
  if (it == tenants_.end()) return std::nullopt;
  return it->second;
}

std::string FakeKeyStore::last_principal() const {
  absl::MutexLock lock(&mu_);
  return last_principal_;
}

}  // namespace crm::testing
