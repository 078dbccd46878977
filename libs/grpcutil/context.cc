#include "libs/grpcutil/context.h"

#include <atomic>
#include <memory>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "libs/common/context_seal.h"
#include "libs/common/errors.h"
#include "libs/common/id.h"
#include "libs/common/status_macros.h"

namespace crm::grpcutil {
namespace {
// Set once before serving, read on every call: an atomically swapped
// pointer, so readers never lock.
std::shared_ptr<const std::string>& KeySlot() {
  static std::shared_ptr<const std::string> key = std::make_shared<const std::string>();
  return key;
}
std::shared_ptr<const std::string> ContextKey() { return std::atomic_load(&KeySlot()); }

std::string Header(const grpc::ServerContextBase& ctx, const char* key) {
  const auto& md = ctx.client_metadata();
  auto it = md.find(key);
  if (it == md.end()) return {};
  return std::string(it->second.data(), it->second.size());
}
}  // namespace

std::string TraceIdOf(std::string_view tp) {
  // version "-" trace-id(32 hex) "-" parent-id(16 hex) "-" flags(2 hex)
  if (tp.size() < 55 || tp[2] != '-' || tp[35] != '-' || tp[52] != '-') return {};
  std::string_view id = tp.substr(3, 32);
  for (char c : id) {
    if (!absl::ascii_isxdigit(static_cast<unsigned char>(c))) return {};
  }
  if (id == "00000000000000000000000000000000") return {};
  return std::string(id);
}

const std::string& ContextSealCache::SealFor(const std::shared_ptr<const std::string>& key,
                                             const RequestContext& rc, absl::Time now) {
  if (key_ != key) {
    entries_.clear();
    key_ = key;
  }
  // Length-prefixed, so no two field triples share a cache key.
  std::string id = absl::StrCat(rc.tenant_id.size(), ":", rc.tenant_id, rc.principal.size(), ":",
                                rc.principal, rc.roles);
  auto it = entries_.find(id);
  if (it != entries_.end() && it->second.expires - now >= common::kContextSealLifetime / 2) {
    return it->second.seal;
  }
  if (it == entries_.end() && entries_.size() >= kMaxEntries) entries_.clear();
  // The seal states whole seconds: remember the expiry it states.
  absl::Time expires =
      absl::FromUnixSeconds(absl::ToUnixSeconds(now + common::kContextSealLifetime));
  Entry& e = entries_[std::move(id)];
  e.seal = common::SealContext(*key, {rc.tenant_id, rc.principal, rc.roles}, expires);
  e.expires = expires;
  return e.seal;
}

void SetContextKey(std::string key) {
  std::atomic_store(&KeySlot(), std::make_shared<const std::string>(std::move(key)));
}

RequestContext ReadRequestContextLenient(const grpc::ServerContextBase& ctx) {
  RequestContext rc;
  rc.tenant_id = Header(ctx, kTenantHeader);
  rc.principal = Header(ctx, kPrincipalHeader);
  rc.roles = Header(ctx, kRolesHeader);
  rc.request_id = Header(ctx, kRequestIdHeader);
  rc.traceparent = Header(ctx, kTraceparentHeader);
  rc.trace_id = TraceIdOf(rc.traceparent);
  if (rc.request_id.size() > 128) rc.request_id.resize(128);
  return rc;
}

absl::StatusOr<RequestContext> ReadRequestContext(const grpc::ServerContextBase& ctx) {
  RequestContext rc = ReadRequestContextLenient(ctx);
  if (!common::IsUuid(rc.tenant_id)) {
    return common::WithReason(
        absl::UnauthenticatedError("missing tenant context: call this service through the gateway"),
        "MISSING_TENANT_CONTEXT");
  }
  auto key = ContextKey();
  CRM_RETURN_IF_ERROR(common::VerifyContextSeal(
      *key, {rc.tenant_id, rc.principal, rc.roles}, Header(ctx, kContextSealHeader), absl::Now()));
  return rc;
}

void PropagateRequestContext(const RequestContext& rc, grpc::ClientContext* out) {
  if (!rc.tenant_id.empty()) out->AddMetadata(kTenantHeader, rc.tenant_id);
  if (!rc.principal.empty()) out->AddMetadata(kPrincipalHeader, rc.principal);
  if (!rc.roles.empty()) out->AddMetadata(kRolesHeader, rc.roles);
  if (!rc.tenant_id.empty()) {
    auto key = ContextKey();
    if (key->size() >= common::kMinContextKeyBytes) {
      thread_local ContextSealCache seals;  // per thread: no lock on the call path
      out->AddMetadata(kContextSealHeader, seals.SealFor(key, rc, absl::Now()));
    }
  }
  if (!rc.request_id.empty()) out->AddMetadata(kRequestIdHeader, rc.request_id);
  if (!rc.traceparent.empty()) out->AddMetadata(kTraceparentHeader, rc.traceparent);
}

}  // namespace crm::grpcutil
