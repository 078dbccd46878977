#pragma once
// The request context that the gateway passes to internal services in
// metadata. Internal services trust it (they are reachable only from the
// gateway; see k8s network policies) and refuse calls without a tenant.
#include <string>
#include <string_view>

#include <grpcpp/client_context.h>
#include <grpcpp/server_context.h>

#include "absl/status/statusor.h"

namespace crm::grpcutil {

inline constexpr char kTenantHeader[] = "x-crm-tenant-id";
inline constexpr char kPrincipalHeader[] = "x-crm-principal";
inline constexpr char kRolesHeader[] = "x-crm-roles";
inline constexpr char kRequestIdHeader[] = "x-request-id";
inline constexpr char kTraceparentHeader[] = "traceparent";
inline constexpr char kReasonTrailer[] = "crm-error-reason";

struct RequestContext {
  std::string tenant_id;
  std::string principal;  // API key id (never the secret)
  std::string roles;      // comma-separated role names
  std::string request_id;
  std::string traceparent;
  std::string trace_id;   // the trace-id part of traceparent
};

// Reads the context; UNAUTHENTICATED (MISSING_TENANT_CONTEXT) without a valid tenant.
absl::StatusOr<RequestContext> ReadRequestContext(const grpc::ServerContextBase& ctx);
// Same but a missing tenant is allowed (tenant_id empty).
RequestContext ReadRequestContextLenient(const grpc::ServerContextBase& ctx);
// Copies the context into an outbound call's metadata.
void PropagateRequestContext(const RequestContext& rc, grpc::ClientContext* out);
// Extracts the 32-hex trace id of a W3C traceparent ("" if malformed).
std::string TraceIdOf(std::string_view traceparent);

}  // namespace crm::grpcutil
