#pragma once
// SegmentationPeer over the segmentation engine's MatchCustomer and
// GetCustomerScores, each within
// CRM_SEGMENTATION_TIMEOUT. The tenant travels in the sealed request
// context (grpcutil::PropagateRequestContext) as principal
// "personalization".
#include <grpcpp/grpcpp.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "crm/segmentation/v1/segmentation.grpc.pb.h"
#include "services/personalization/app/ports.h"

namespace crm::personalization::clients {

class GrpcSegmentationPeer final : public app::SegmentationPeer {
 public:
  GrpcSegmentationPeer(std::shared_ptr<grpc::Channel> channel, absl::Duration timeout)
      : stub_(segmentation::v1::SegmentationService::NewStub(std::move(channel))),
        timeout_(timeout) {}

  absl::StatusOr<std::vector<bool>> Match(const std::string& tenant, const std::string& customer_id,
                                          const std::vector<std::string>& expressions) override;
  absl::StatusOr<std::optional<double>> PAlive(const std::string& tenant,
                                               const std::string& customer_id) override;
  absl::StatusOr<std::vector<std::pair<std::string, absl::Time>>> Segments(
      const std::string& tenant, const std::string& customer_id) override;
  absl::StatusOr<std::vector<std::string>> Members(const std::string& tenant,
                                                   const std::string& segment_id,
                                                   std::size_t limit) override;

 private:
  std::unique_ptr<segmentation::v1::SegmentationService::Stub> stub_;
  absl::Duration timeout_;
};

}  // namespace crm::personalization::clients
