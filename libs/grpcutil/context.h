#pragma once
// The request context that the gateway passes to internal services in
// metadata. Tenant, principal and roles are sealed with the deployment's
// context key (libs/common/context_seal.h): internal services refuse calls
// without a tenant or whose seal does not verify, so a caller that reaches a
// service port directly cannot name a tenant (the k8s network policies are a
// second fence, not the only one).
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>

#include <grpcpp/client_context.h>
#include <grpcpp/server_context.h>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace crm::grpcutil {

inline constexpr char kTenantHeader[] = "x-crm-tenant-id";
inline constexpr char kPrincipalHeader[] = "x-crm-principal";
inline constexpr char kRolesHeader[] = "x-crm-roles";
inline constexpr char kRequestIdHeader[] = "x-request-id";
inline constexpr char kTraceparentHeader[] = "traceparent";
inline constexpr char kContextSealHeader[] = "x-crm-context-seal";
inline constexpr char kReasonTrailer[] = "crm-error-reason";

struct RequestContext {
  std::string tenant_id;
  std::string principal;  // API key id (never the secret)
  std::string roles;      // comma-separated role names
  std::string request_id;
  std::string traceparent;
  std::string trace_id;   // the trace-id part of traceparent
};

// The deployment's context key (CRM_CONTEXT_KEY, >= 32 bytes), set once at
// start-up before serving: ReadRequestContext verifies seals with it and
// PropagateRequestContext seals with it. Without a key every call is refused.
void SetContextKey(std::string key);

// Reads the context; UNAUTHENTICATED without a valid tenant
// (MISSING_TENANT_CONTEXT) or with a seal that does not verify
// (INVALID_TENANT_CONTEXT).
absl::StatusOr<RequestContext> ReadRequestContext(const grpc::ServerContextBase& ctx);
// Same without any check (tenant_id may be empty or forged): for logs only.
RequestContext ReadRequestContextLenient(const grpc::ServerContextBase& ctx);
// Copies the context into an outbound call's metadata, sealed afresh.
void PropagateRequestContext(const RequestContext& rc, grpc::ClientContext* out);
// Seals of one sender (one per thread in PropagateRequestContext). Sealing
// is an HMAC, and a gateway sends the same (tenant, principal, roles) many
// times a second: a seal is reused while at least half its lifetime is left,
// so every seal handed out is still valid for kContextSealLifetime / 2
// (60 s). Another key drops every seal made with the previous one.
class ContextSealCache final {
 public:
  // The seal of rc's tenant, principal and roles with `key` at `now`.
  const std::string& SealFor(const std::shared_ptr<const std::string>& key,
                             const RequestContext& rc, absl::Time now);

 private:
  struct Entry {
    std::string seal;
    absl::Time expires;
  };
  static constexpr size_t kMaxEntries = 4096;  // dropped whole when full
  std::shared_ptr<const std::string> key_;
  std::unordered_map<std::string, Entry> entries_;
};

// Extracts the 32-hex trace id of a W3C traceparent ("" if malformed).
std::string TraceIdOf(std::string_view traceparent);

}  // namespace crm::grpcutil
