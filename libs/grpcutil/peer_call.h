#pragma once
// A call of one engine to another: the tenant in the sealed request context
// (PropagateRequestContext), the calling service as principal, role
// "service", and the peer's deadline.
#include <grpcpp/grpcpp.h>

#include <string>

#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "libs/grpcutil/context.h"

namespace crm::grpcutil {

inline void PreparePeerCall(const std::string& principal, const std::string& tenant,
                            absl::Duration timeout, grpc::ClientContext* ctx) {
  RequestContext rc;
  rc.tenant_id = tenant;
  rc.principal = principal;
  rc.roles = "service";
  PropagateRequestContext(rc, ctx);
  ctx->set_deadline(absl::ToChronoTime(absl::Now() + timeout));
}

}  // namespace crm::grpcutil
