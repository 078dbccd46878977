#pragma once
// CustomerInsights over the segmentation engine's gRPC API
// (GetCustomerScores, GetCustomerSegments), asynchronous: each call starts at
// once on the channel and fulfils its future from gRPC's callback, within
// CRM_SEGMENTATION_TIMEOUT (or the caller's deadline, if sooner). The
// caller's tenant, principal, roles, request id and trace travel in the
// metadata, sealed like the gateway's (grpcutil::PropagateRequestContext), so
// segmentation serves the same tenant.
#include <grpcpp/grpcpp.h>

#include <future>
#include <memory>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "crm/segmentation/v1/segmentation.grpc.pb.h"
#include "services/customer_store/app/ports.h"

namespace crm::customer_store::clients {

class GrpcCustomerInsights final : public app::CustomerInsights {
 public:
  GrpcCustomerInsights(std::shared_ptr<grpc::Channel> channel, absl::Duration timeout)
      : stub_(segmentation::v1::SegmentationService::NewStub(std::move(channel))),
        timeout_(timeout) {}

  std::future<absl::StatusOr<domain::CustomerScores>> ScoresOf(
      const app::Caller& caller, const std::string& customer_id) override;
  std::future<absl::StatusOr<std::vector<domain::SegmentMembership>>> SegmentsOf(
      const app::Caller& caller, const std::string& customer_id) override;

 private:
  void Prepare(const app::Caller& caller, grpc::ClientContext* ctx) const;
  std::unique_ptr<segmentation::v1::SegmentationService::Stub> stub_;
  absl::Duration timeout_;
};

}  // namespace crm::customer_store::clients
