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

absl::StatusOr<std::vector<std::pair<std::string, absl::Time>>> GrpcSegmentationPeer::Segments(
    const std::string& tenant, const std::string& customer_id) {
  grpc::ClientContext ctx;
  PreparePeerCall(tenant, timeout_, &ctx);
  segmentation::v1::GetCustomerSegmentsRequest req;
  req.set_customer_id(customer_id);
  segmentation::v1::CustomerSegments resp;
  grpc::Status s = stub_->GetCustomerSegments(&ctx, req, &resp);
  if (!s.ok()) return grpcutil::FromGrpcStatus(s);
  std::vector<std::pair<std::string, absl::Time>> out;
  for (const auto& seg : resp.segments()) {
    out.emplace_back(seg.segment_id(), absl::FromUnixSeconds(seg.enter_time().seconds()) +
                                           absl::Nanoseconds(seg.enter_time().nanos()));
  }
  return out;
}

absl::StatusOr<std::vector<std::string>> GrpcSegmentationPeer::Members(
    const std::string& tenant, const std::string& segment_id, std::size_t limit) {
  std::vector<std::string> out;
  std::string page_token;
  do {
    grpc::ClientContext ctx;
    PreparePeerCall(tenant, timeout_, &ctx);
    segmentation::v1::ListSegmentMembersRequest req;
    req.set_segment_id(segment_id);
    req.set_page_size(1000);
    req.set_page_token(page_token);
    segmentation::v1::ListSegmentMembersResponse resp;
    grpc::Status s = stub_->ListSegmentMembers(&ctx, req, &resp);
    if (!s.ok()) return grpcutil::FromGrpcStatus(s);
    for (const auto& m : resp.members()) {
      if (out.size() >= limit) break;
      out.push_back(m.customer_id());
    }
    page_token = resp.next_page_token();
  } while (!page_token.empty() && out.size() < limit);
  return out;
}

}  // namespace crm::personalization::clients
