#pragma once
// A call of the engine to a peer: the tenant in the sealed request context
// (grpcutil::PropagateRequestContext), principal "personalization", role
// "service", and the peer's deadline.
#include <grpcpp/grpcpp.h>

#include <string>

#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "libs/grpcutil/context.h"

namespace crm::personalization::clients {

inline void PreparePeerCall(const std::string& tenant, absl::Duration timeout,
                            grpc::ClientContext* ctx) {
  grpcutil::RequestContext rc;
  rc.tenant_id = tenant;
  rc.principal = "personalization";
  rc.roles = "service";
  grpcutil::PropagateRequestContext(rc, ctx);
  ctx->set_deadline(absl::ToChronoTime(absl::Now() + timeout));
}

}  // namespace crm::personalization::clients
