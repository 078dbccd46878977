#pragma once
// The gRPC edge of engine 2.
#include "crm/segmentation/v1/segmentation.grpc.pb.h"
#include "libs/common/executor.h"
#include "libs/grpcutil/rpc_metrics.h"
#include "services/segmentation/app/models.h"

namespace crm::segmentation::api {

namespace v1 = ::crm::segmentation::v1;

void ToProto(const domain::ClvModel& m, v1::ClvModel* out);

class SegmentationGrpcService final : public v1::SegmentationService::CallbackService {
 public:
  SegmentationGrpcService(app::Models& models, common::Executor& executor,
                          grpcutil::RpcMetrics& metrics)
      : models_(models), executor_(executor), metrics_(metrics) {}

  grpc::ServerUnaryReactor* GetClvModel(grpc::CallbackServerContext* ctx,
                                        const v1::GetClvModelRequest* req,
                                        v1::ClvModel* resp) override;

 private:
  app::Models& models_;
  common::Executor& executor_;
  grpcutil::RpcMetrics& metrics_;
};

}  // namespace crm::segmentation::api
