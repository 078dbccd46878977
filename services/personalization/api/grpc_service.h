#pragma once
// The gRPC edge of engine 3.
#include "crm/personalization/v1/personalization.grpc.pb.h"
#include "libs/common/executor.h"
#include "libs/grpcutil/rpc_metrics.h"
#include "services/personalization/app/recommender.h"

namespace crm::personalization::api {

namespace v1 = ::crm::personalization::v1;

void ToProto(const app::RecommendationList& l, v1::Recommendations* out);
void ToProto(const app::InterestsView& v, v1::Interests* out);

class PersonalizationGrpcService final : public v1::PersonalizationService::CallbackService {
 public:
  PersonalizationGrpcService(app::Recommender& recommender, common::Executor& executor,
                             grpcutil::RpcMetrics& metrics)
      : recommender_(recommender), executor_(executor), metrics_(metrics) {}

  grpc::ServerUnaryReactor* GetRecommendations(grpc::CallbackServerContext* ctx,
                                               const v1::GetRecommendationsRequest* req,
                                               v1::Recommendations* resp) override;
  grpc::ServerUnaryReactor* GetVisitorRecommendations(
      grpc::CallbackServerContext* ctx, const v1::GetVisitorRecommendationsRequest* req,
      v1::Recommendations* resp) override;
  grpc::ServerUnaryReactor* GetSimilarProducts(grpc::CallbackServerContext* ctx,
                                               const v1::GetSimilarProductsRequest* req,
                                               v1::Recommendations* resp) override;
  grpc::ServerUnaryReactor* RecommendForCart(grpc::CallbackServerContext* ctx,
                                             const v1::RecommendForCartRequest* req,
                                             v1::Recommendations* resp) override;
  grpc::ServerUnaryReactor* GetInterests(grpc::CallbackServerContext* ctx,
                                         const v1::GetInterestsRequest* req,
                                         v1::Interests* resp) override;
  grpc::ServerUnaryReactor* GetVisitorInterests(grpc::CallbackServerContext* ctx,
                                                const v1::GetVisitorInterestsRequest* req,
                                                v1::Interests* resp) override;
  grpc::ServerUnaryReactor* UpdateInterests(grpc::CallbackServerContext* ctx,
                                            const v1::UpdateInterestsRequest* req,
                                            v1::Interests* resp) override;

 private:
  app::Recommender& recommender_;
  common::Executor& executor_;
  grpcutil::RpcMetrics& metrics_;
};

}  // namespace crm::personalization::api
