#include "services/gateway/app/access.h"

#include <algorithm>
#include <cmath>

#include "absl/strings/cord.h"
#include "absl/strings/str_cat.h"
#include "libs/common/crypto.h"
#include "libs/common/errors.h"
#include "libs/common/id.h"
#include "libs/common/status_macros.h"
#include "libs/common/text.h"
#include "libs/observability/log.h"
#include "services/gateway/domain/api_key.h"

namespace crm::gateway::app {
namespace {
absl::Status InvalidKey() {
  return common::WithReason(
      absl::UnauthenticatedError("the API key is unknown, expired or revoked"),
      "INVALID_CREDENTIALS");
}
}  // namespace

absl::StatusOr<std::optional<KeyRecord>> Access::Lookup(const std::string& key_id) {
  absl::Time now = clock_.Now();
  uint64_t generation = 0;
  {
    absl::MutexLock lock(&mu_);
    auto it = cache_.find(key_id);
    if (it != cache_.end() && now - it->second.fetched < options_.key_cache_ttl) {
      return it->second.key;
    }
    auto u = unknown_.find(key_id);
    if (u != unknown_.end() && now - u->second < options_.key_cache_ttl) {
      return std::optional<KeyRecord>();
    }
    // Cache misses reach the store at a bounded rate.
    if (now - lookup_window_ >= absl::Seconds(1)) {
      lookup_window_ = now;
      lookups_in_window_ = 0;
    }
    if (++lookups_in_window_ > options_.max_key_lookups_per_second) {
      absl::Status s = common::WithReason(
          absl::ResourceExhaustedError(
              "too many requests with API keys this gateway has not seen recently; retry after "
              "1000 ms"),
          "RATE_LIMITED");
      s.SetPayload(kRetryAfterPayload, absl::Cord("1000"));
      return s;
    }
    generation = forget_generation_;
  }
  CRM_ASSIGN_OR_RETURN(std::optional<KeyRecord> key, keys_.FindKey(key_id));
  absl::MutexLock lock(&mu_);
  if (generation != forget_generation_) return key;  // raced a revoke: answer, don't cache
  if (key) {
    if (cache_.size() > 100000) cache_.clear();  // only real keys live here
    cache_[key_id] = CacheEntry{key, now};
  } else {
    if (unknown_.size() >= options_.max_unknown_cached) unknown_.clear();
    unknown_[key_id] = now;
  }
  return key;
}

absl::StatusOr<Principal> Access::Verify(const std::optional<KeyRecord>& key,
                                         absl::string_view secret, absl::Time now) {
  if (!key || !common::ConstantTimeEquals(common::Sha256(secret), key->secret_sha256) ||
      now >= key->expire_time || now >= key->revoke_time) {
    return InvalidKey();
  }
  return Principal{key->tenant_id, key->id, key->roles, key->rate_limit_per_second};
}

absl::StatusOr<Principal> Access::Authenticate(absl::string_view authorization) {
  CRM_ASSIGN_OR_RETURN(domain::ParsedKey parsed, domain::ParseAuthorization(authorization));
  CRM_ASSIGN_OR_RETURN(std::optional<KeyRecord> key, Lookup(parsed.key_id));
  return Verify(key, parsed.secret, clock_.Now());
}

std::optional<absl::StatusOr<Principal>> Access::AdmitWithoutIo(absl::string_view authorization,
                                                                absl::string_view full_method,
                                                                domain::AccessPolicy policy) {
  absl::StatusOr<domain::ParsedKey> parsed = domain::ParseAuthorization(authorization);
  if (!parsed.ok()) return absl::StatusOr<Principal>(parsed.status());
  absl::Time now = clock_.Now();
  std::optional<KeyRecord> key;
  {
    absl::MutexLock lock(&mu_);
    auto u = unknown_.find(parsed->key_id);
    if (u != unknown_.end() && now - u->second < options_.key_cache_ttl) {
      return absl::StatusOr<Principal>(InvalidKey());
    }
    auto it = cache_.find(parsed->key_id);
    if (it == cache_.end() || now - it->second.fetched >= options_.key_cache_ttl) {
      return std::nullopt;
    }
    key = it->second.key;
  }
  absl::StatusOr<Principal> p = Verify(key, parsed->secret, now);
  if (!p.ok()) return p;
  if (absl::Status s = Authorize(*p, full_method, policy); !s.ok()) {
    return absl::StatusOr<Principal>(s);
  }
  absl::MutexLock lock(&mu_);
  if (!TakeLeaseLocked(p->key_id, now)) return std::nullopt;
  return p;
}

bool Access::TakeLeaseLocked(const std::string& key_id, absl::Time now) {
  auto lease = leases_.find(key_id);
  if (lease == leases_.end() || lease->second.tokens <= 0 ||
      now - lease->second.taken >= absl::Seconds(1)) {
    return false;
  }
  --lease->second.tokens;
  return true;
}

bool Access::TakeLeasedToken(const Principal& p) {
  absl::Time now = clock_.Now();
  absl::MutexLock lock(&mu_);
  return TakeLeaseLocked(p.key_id, now);
}

absl::Status Access::Authorize(const Principal& p, absl::string_view full_method,
                               domain::AccessPolicy policy) const {
  if (domain::IsAllowed(p.roles, policy)) return absl::OkStatus();
  return common::WithReason(
      absl::PermissionDeniedError(absl::StrCat("the roles of this API key (",
                                               domain::RolesHeader(p.roles),
                                               ") do not allow ", full_method)),
      "PERMISSION_DENIED_FOR_ROLE");
}

absl::Status Access::Admit(const Principal& p) {
  int rate = p.rate_limit_per_second > 0 ? p.rate_limit_per_second : options_.default_rate_per_second;
  int burst = std::max(1, static_cast<int>(std::ceil(rate * options_.burst_seconds)));
  const int want = std::min(burst, std::max(1, rate / 50));
  auto d = limiter_.Take(p.key_id, rate, burst, want);
  absl::Duration retry_after;
  {
    absl::MutexLock lock(&mu_);
    if (!d.ok()) {
      if (!shared_limiter_down_) {
        CRM_LOG(Warning) << "shared rate limiter unavailable, limiting per replica: "
                         << d.status();
      }
      shared_limiter_down_ = true;
      retry_after = local_buckets_.Take(p.key_id, rate, burst, clock_.Now());
      if (retry_after == absl::ZeroDuration()) return absl::OkStatus();
    } else {
      if (shared_limiter_down_) CRM_LOG(Info) << "shared rate limiter reachable again";
      shared_limiter_down_ = false;
      if (d->allowed) {
        if (leases_.size() > 100000) leases_.clear();
        leases_[p.key_id] = Lease{std::max(0, d->granted - 1), clock_.Now()};
        return absl::OkStatus();
      }
      retry_after = d->retry_after;
    }
  }
  int64_t ms = std::max<int64_t>(1, absl::ToInt64Milliseconds(retry_after));
  absl::Status s = common::WithReason(
      absl::ResourceExhaustedError(absl::StrCat("rate limit of ", rate,
                                                " requests per second exceeded for this API key; "
                                                "retry after ",
                                                ms, " ms")),
      "RATE_LIMITED");
  s.SetPayload(kRetryAfterPayload, absl::Cord(absl::StrCat(ms)));
  return s;
}

void Access::Forget(const std::string& key_id) {
  absl::MutexLock lock(&mu_);
  ++forget_generation_;
  cache_.erase(key_id);
  unknown_.erase(key_id);
  leases_.erase(key_id);
}

CreatedKey Admin::NewKey(const std::string& tenant_id, const std::string& display_name,
                         std::vector<domain::Role> roles, absl::Time now) {
  domain::ParsedKey k{absl::StrCat("k", common::HexEncode(common::RandomBytes(8))),
                      common::HexEncode(common::RandomBytes(32))};
  CreatedKey out;
  out.key.id = k.key_id;
  out.key.tenant_id = tenant_id;
  out.key.display_name = display_name;
  out.key.roles = std::move(roles);
  out.key.secret_sha256 = common::Sha256(k.secret);
  out.key.create_time = now;
  out.secret = domain::FormatKey(k);
  return out;
}

namespace {
absl::Status CheckName(const std::string& name, const char* field) {
  CRM_RETURN_IF_ERROR(common::CheckStorableText(field, name));
  if (name.size() > 200) return common::InvalidField(field, absl::StrCat(field, " is at most 200 characters"));
  return absl::OkStatus();
}
}  // namespace

absl::StatusOr<CreatedTenant> WriteTenant(KeyStore& keys, const WriteContext& w,
                                          const CreatedTenant& created) {
  WriteContext caller = w;
  // The bootstrap tool has no tenant yet: its write is audited (and its key
  // claimed) in the new tenant.
  if (caller.tenant_id.empty()) caller.tenant_id = created.tenant.id;
  return keys.Run<CreatedTenant>(caller, created.tenant.id,
                                 [&](KeyTx& tx) -> absl::StatusOr<CreatedTenant> {
                                   tx.SaveTenant(created.tenant);
                                   tx.SaveKey(created.admin_key.key);
                                   return created;
                                 });
}

absl::StatusOr<CreatedKey> WriteKey(KeyStore& keys, const WriteContext& w,
                                    const CreatedKey& created) {
  if (created.key.tenant_id != w.tenant_id) {
    return absl::InternalError("a key is created in the caller's tenant");
  }
  return keys.Run<CreatedKey>(w, created.key.id, [&](KeyTx& tx) -> absl::StatusOr<CreatedKey> {
    tx.SaveKey(created.key);
    return created;
  });
}

namespace {
WriteContext Writer(const Principal& caller, WriteContext w, const char* method) {
  w.tenant_id = caller.tenant_id;
  w.principal = caller.key_id;
  w.method = method;
  return w;
}
}  // namespace

// Body checks come first: a refused body is refused again on a retry (the
// same body), without claiming the request_id.
absl::StatusOr<CreatedTenant> Admin::CreateTenant(const Principal& caller, WriteContext w,
                                                  const std::string& display_name) {
  if (display_name.empty()) return common::InvalidField("display_name", "display_name is required");
  CRM_RETURN_IF_ERROR(CheckName(display_name, "display_name"));
  absl::Time now = clock_.Now();
  CreatedTenant created;
  created.tenant = Tenant{common::NewUuid(), display_name, now};
  created.admin_key = NewKey(created.tenant.id, "initial admin key", {domain::Role::kAdmin}, now);
  return WriteTenant(keys_, Writer(caller, std::move(w), "CreateTenant"), created);
}

absl::StatusOr<CreatedKey> Admin::CreateKey(const Principal& caller, WriteContext w,
                                            const std::string& display_name,
                                            std::vector<domain::Role> roles, absl::Time expire_time,
                                            int rate_limit_per_second) {
  CRM_RETURN_IF_ERROR(CheckName(display_name, "display_name"));
  if (roles.empty()) return common::InvalidField("roles", "roles: give at least one role");
  for (domain::Role r : roles) {
    int v = static_cast<int>(r);
    if (v < 1 || v > 7) return common::InvalidField("roles", "roles: unknown role");
    if (r == domain::Role::kPlatformAdmin &&
        std::find(caller.roles.begin(), caller.roles.end(), r) == caller.roles.end()) {
      return common::WithReason(
          absl::PermissionDeniedError("only a platform admin may grant the platform-admin role"),
          "PERMISSION_DENIED_FOR_ROLE");
    }
  }
  std::sort(roles.begin(), roles.end());
  roles.erase(std::unique(roles.begin(), roles.end()), roles.end());
  if (rate_limit_per_second < 0 || rate_limit_per_second > 100000) {
    return common::InvalidField("rate_limit_per_second", "rate_limit_per_second must be 0..100000");
  }
  absl::Time now = clock_.Now();
  if (expire_time != absl::InfiniteFuture() && expire_time <= now) {
    return common::InvalidField("expire_time", "expire_time must be in the future");
  }
  CreatedKey key = NewKey(caller.tenant_id, display_name, std::move(roles), now);
  key.key.expire_time = expire_time;
  key.key.rate_limit_per_second = rate_limit_per_second;
  return WriteKey(keys_, Writer(caller, std::move(w), "CreateApiKey"), key);
}

absl::StatusOr<std::vector<KeyRecord>> Admin::ListKeys(const Principal& caller,
                                                       const std::string& after_key_id, int limit) {
  return keys_.ListKeys(caller.tenant_id, after_key_id, limit);
}

absl::StatusOr<KeyRecord> Admin::RevokeKey(const Principal& caller, const std::string& key_id) {
  if (!domain::IsKeyId(key_id)) return common::InvalidField("key_id", "key_id is malformed");
  CRM_ASSIGN_OR_RETURN(KeyRecord k, keys_.RevokeKey(caller.tenant_id, key_id, clock_.Now(), caller.key_id));
  access_.Forget(key_id);
  return k;
}

}  // namespace crm::gateway::app
