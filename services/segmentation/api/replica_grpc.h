#pragma once
// The gRPC edge between the replicas of a partitioned engine
// (crm.segmentation.v1.SegmentationReplicaService): this replica's share of
// a tenant's counts and dry runs, for the replica that gathers them.
#include "crm/segmentation/v1/replica.grpc.pb.h"
#include "libs/common/executor.h"
#include "libs/grpcutil/rpc_metrics.h"
#include "services/segmentation/app/live_segments.h"

namespace crm::segmentation::api {

class ReplicaGrpcService final : public v1::SegmentationReplicaService::CallbackService {
 public:
  ReplicaGrpcService(app::LiveSegments& segments, common::Executor& executor,
                     grpcutil::RpcMetrics& metrics)
      : segments_(segments), executor_(executor), metrics_(metrics) {}

  grpc::ServerUnaryReactor* GetLocalCounts(grpc::CallbackServerContext* ctx,
                                           const v1::GetLocalCountsRequest* req,
                                           v1::GetLocalCountsResponse* resp) override;
  grpc::ServerUnaryReactor* PreviewLocal(grpc::CallbackServerContext* ctx,
                                         const v1::PreviewLocalRequest* req,
                                         v1::PreviewLocalResponse* resp) override;
  grpc::ServerUnaryReactor* MatchLocal(grpc::CallbackServerContext* ctx,
                                       const v1::MatchLocalRequest* req,
                                       v1::MatchLocalResponse* resp) override;

 private:
  app::LiveSegments& segments_;
  common::Executor& executor_;
  grpcutil::RpcMetrics& metrics_;
};

}  // namespace crm::segmentation::api
