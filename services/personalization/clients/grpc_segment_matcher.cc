#include "services/personalization/clients/grpc_segment_matcher.h"

#include "absl/time/clock.h"
#include "libs/grpcutil/context.h"
#include "libs/grpcutil/status_conversion.h"

namespace crm::personalization::clients {

absl::StatusOr<std::vector<bool>> GrpcSegmentMatcher::Match(
    const std::string& tenant, const std::string& customer_id,
    const std::vector<std::string>& expressions) {
  grpc::ClientContext ctx;
  grpcutil::RequestContext rc;
  rc.tenant_id = tenant;
  rc.principal = "personalization";
  rc.roles = "service";
  grpcutil::PropagateRequestContext(rc, &ctx);
  ctx.set_deadline(absl::ToChronoTime(absl::Now() + timeout_));
  segmentation::v1::MatchCustomerRequest req;
  req.set_customer_id(customer_id);
  for (const std::string& e : expressions) req.add_expressions(e);
  segmentation::v1::MatchCustomerResponse resp;
  grpc::Status s = stub_->MatchCustomer(&ctx, req, &resp);
  if (!s.ok()) return grpcutil::FromGrpcStatus(s);
  if (resp.matches_size() != static_cast<int>(expressions.size())) {
    return absl::InternalError("segmentation answered another number of matches");
  }
  return std::vector<bool>(resp.matches().begin(), resp.matches().end());
}

}  // namespace crm::personalization::clients
