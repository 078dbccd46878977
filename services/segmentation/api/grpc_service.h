#pragma once
// The gRPC edge of engine 2.
#include "crm/segmentation/v1/segmentation.grpc.pb.h"
#include "libs/common/executor.h"
#include "libs/common/page_token.h"
#include "libs/grpcutil/rpc_metrics.h"
#include "services/segmentation/app/live_segments.h"
#include "services/segmentation/app/models.h"
#include "services/segmentation/app/refit_runs.h"

namespace crm::segmentation::api {

namespace v1 = ::crm::segmentation::v1;

void ToProto(const domain::ClvModel& m, v1::ClvModel* out);
void ToProto(const app::CustomerScores& s, v1::CustomerScores* out);
void ToProto(const app::RfmSummary& s, v1::RfmSummary* out);
void ToProto(const app::Evaluation& e, v1::ClvEvaluation* out);
void ToProto(const app::SegmentView& s, v1::Segment* out);
absl::StatusOr<app::ModelSettings> FromProto(const v1::ModelSettings& s);

class SegmentationGrpcService final : public v1::SegmentationService::CallbackService {
 public:
  SegmentationGrpcService(app::Models& models, app::LiveSegments& segments, app::RefitRuns& refits,
                          common::Executor& executor, grpcutil::RpcMetrics& metrics,
                          const common::PageTokenCodec& tokens)
      : models_(models),
        segments_(segments),
        refits_(refits),
        executor_(executor),
        metrics_(metrics),
        tokens_(tokens) {}

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

  // Live segments (segments_grpc.cc).
  grpc::ServerUnaryReactor* CreateSegment(grpc::CallbackServerContext* ctx,
                                          const v1::CreateSegmentRequest* req,
                                          v1::Segment* resp) override;
  grpc::ServerUnaryReactor* GetSegment(grpc::CallbackServerContext* ctx,
                                       const v1::GetSegmentRequest* req,
                                       v1::Segment* resp) override;
  grpc::ServerUnaryReactor* ListSegments(grpc::CallbackServerContext* ctx,
                                         const v1::ListSegmentsRequest* req,
                                         v1::ListSegmentsResponse* resp) override;
  grpc::ServerUnaryReactor* UpdateSegment(grpc::CallbackServerContext* ctx,
                                          const v1::UpdateSegmentRequest* req,
                                          v1::Segment* resp) override;
  grpc::ServerUnaryReactor* DeleteSegment(grpc::CallbackServerContext* ctx,
                                          const v1::DeleteSegmentRequest* req,
                                          v1::DeleteSegmentResponse* resp) override;
  grpc::ServerUnaryReactor* PreviewSegment(grpc::CallbackServerContext* ctx,
                                           const v1::PreviewSegmentRequest* req,
                                           v1::SegmentPreview* resp) override;
  grpc::ServerUnaryReactor* MatchCustomer(grpc::CallbackServerContext* ctx,
                                          const v1::MatchCustomerRequest* req,
                                          v1::MatchCustomerResponse* resp) override;
  grpc::ServerUnaryReactor* ListSegmentMembers(grpc::CallbackServerContext* ctx,
                                               const v1::ListSegmentMembersRequest* req,
                                               v1::ListSegmentMembersResponse* resp) override;
  grpc::ServerWriteReactor<v1::ExportSegmentMembersResponse>* ExportSegmentMembers(
      grpc::CallbackServerContext* ctx, const v1::ExportSegmentMembersRequest* req) override;
  grpc::ServerUnaryReactor* GetCustomerSegments(grpc::CallbackServerContext* ctx,
                                                const v1::GetCustomerSegmentsRequest* req,
                                                v1::CustomerSegments* resp) override;
  grpc::ServerUnaryReactor* GetSegmentationSettings(grpc::CallbackServerContext* ctx,
                                                    const v1::GetSegmentationSettingsRequest* req,
                                                    v1::SegmentationSettings* resp) override;
  grpc::ServerUnaryReactor* UpdateSegmentationSettings(
      grpc::CallbackServerContext* ctx, const v1::UpdateSegmentationSettingsRequest* req,
      v1::SegmentationSettings* resp) override;

 private:
  app::Models& models_;
  app::LiveSegments& segments_;
  app::RefitRuns& refits_;
  common::Executor& executor_;
  grpcutil::RpcMetrics& metrics_;
  const common::PageTokenCodec& tokens_;
};

}  // namespace crm::segmentation::api
