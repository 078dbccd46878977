#pragma once
// The gRPC edge of engine 2.
#include "crm/segmentation/v1/segmentation.grpc.pb.h"
#include "libs/common/executor.h"
#include "libs/grpcutil/rpc_metrics.h"
#include "services/segmentation/app/models.h"

namespace crm::segmentation::api {

namespace v1 = ::crm::segmentation::v1;

void ToProto(const domain::ClvModel& m, v1::ClvModel* out);
void ToProto(const app::CustomerScores& s, v1::CustomerScores* out);
void ToProto(const app::RfmSummary& s, v1::RfmSummary* out);
void ToProto(const app::Evaluation& e, v1::ClvEvaluation* out);
absl::StatusOr<app::ModelSettings> FromProto(const v1::ModelSettings& s);

class SegmentationGrpcService final : public v1::SegmentationService::CallbackService {
 public:
  SegmentationGrpcService(app::Models& models, common::Executor& executor,
                          grpcutil::RpcMetrics& metrics)
      : models_(models), executor_(executor), metrics_(metrics) {}

  grpc::ServerUnaryReactor* GetClvModel(grpc::CallbackServerContext* ctx,
                                        const v1::GetClvModelRequest* req,
                                        v1::ClvModel* resp) override;
  grpc::ServerUnaryReactor* RefitClvModel(grpc::CallbackServerContext* ctx,
                                          const v1::RefitClvModelRequest* req,
                                          v1::ClvModel* resp) override;
  grpc::ServerUnaryReactor* EvaluateClvModel(grpc::CallbackServerContext* ctx,
                                             const v1::EvaluateClvModelRequest* req,
                                             v1::ClvEvaluation* resp) override;
  grpc::ServerUnaryReactor* GetCustomerScores(grpc::CallbackServerContext* ctx,
                                              const v1::GetCustomerScoresRequest* req,
                                              v1::CustomerScores* resp) override;
  grpc::ServerUnaryReactor* GetRfmSummary(grpc::CallbackServerContext* ctx,
                                          const v1::GetRfmSummaryRequest* req,
                                          v1::RfmSummary* resp) override;

 private:
  app::Models& models_;
  common::Executor& executor_;
  grpcutil::RpcMetrics& metrics_;
};

}  // namespace crm::segmentation::api
