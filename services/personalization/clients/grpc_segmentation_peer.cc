#include "services/personalization/clients/grpc_segmentation_peer.h"

#include "libs/grpcutil/status_conversion.h"
#include "services/personalization/clients/peer_call.h"

namespace crm::personalization::clients {

absl::StatusOr<std::vector<bool>> GrpcSegmentationPeer::Match(
    const std::string& tenant, const std::string& customer_id,
    const std::vector<std::string>& expressions) {
  grpc::ClientContext ctx;
  PreparePeerCall(tenant, timeout_, &ctx);
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

absl::StatusOr<std::optional<double>> GrpcSegmentationPeer::PAlive(const std::string& tenant,
                                                                   const std::string& customer_id) {
  grpc::ClientContext ctx;
  PreparePeerCall(tenant, timeout_, &ctx);
  segmentation::v1::GetCustomerScoresRequest req;
  req.set_customer_id(customer_id);
  segmentation::v1::CustomerScores resp;
  grpc::Status s = stub_->GetCustomerScores(&ctx, req, &resp);
  if (!s.ok()) return grpcutil::FromGrpcStatus(s);
  if (!resp.has_model_scores()) return std::optional<double>();
  return std::optional<double>(resp.p_alive());
}

}  // namespace crm::personalization::clients
