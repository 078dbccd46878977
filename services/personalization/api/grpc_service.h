#pragma once
// The gRPC edge of engine 3.
#include "crm/personalization/v1/personalization.grpc.pb.h"
#include "libs/common/executor.h"
#include "libs/grpcutil/rpc_metrics.h"
#include "services/personalization/app/recommender.h"
#include "services/personalization/app/slots.h"

namespace crm::personalization::api {

namespace v1 = ::crm::personalization::v1;

// INVALID_ARGUMENT naming `field` unless `value` (a sku, a visitor id) is
// 1 to 128 characters of storable text.
absl::Status CheckKey(absl::string_view field, const std::string& value);

void ToProto(const app::RecommendationList& l, v1::Recommendations* out);
void ToProto(const app::InterestsView& v, v1::Interests* out);

class PersonalizationGrpcService final : public v1::PersonalizationService::CallbackService {
 public:
  PersonalizationGrpcService(app::Recommender& recommender, app::Slots& slots,
                             common::Executor& executor, grpcutil::RpcMetrics& metrics)
      : recommender_(recommender), slots_(slots), executor_(executor), metrics_(metrics) {}

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
  // Content slots (api/slots_grpc.cc).
  grpc::ServerUnaryReactor* CreateSlot(grpc::CallbackServerContext* ctx,
                                       const v1::CreateSlotRequest* req, v1::Slot* resp) override;
  grpc::ServerUnaryReactor* GetSlot(grpc::CallbackServerContext* ctx, const v1::GetSlotRequest* req,
                                    v1::Slot* resp) override;
  grpc::ServerUnaryReactor* ListSlots(grpc::CallbackServerContext* ctx,
                                      const v1::ListSlotsRequest* req,
                                      v1::ListSlotsResponse* resp) override;
  grpc::ServerUnaryReactor* UpdateSlot(grpc::CallbackServerContext* ctx,
                                       const v1::UpdateSlotRequest* req, v1::Slot* resp) override;
  grpc::ServerUnaryReactor* DeleteSlot(grpc::CallbackServerContext* ctx,
                                       const v1::DeleteSlotRequest* req,
                                       v1::DeleteSlotResponse* resp) override;
  grpc::ServerUnaryReactor* ResolveSlot(grpc::CallbackServerContext* ctx,
                                        const v1::ResolveSlotRequest* req,
                                        v1::SlotDecision* resp) override;
  grpc::ServerUnaryReactor* ResolveVisitorSlot(grpc::CallbackServerContext* ctx,
                                               const v1::ResolveVisitorSlotRequest* req,
                                               v1::SlotDecision* resp) override;

 private:
  app::Recommender& recommender_;
  app::Slots& slots_;
  common::Executor& executor_;
  grpcutil::RpcMetrics& metrics_;
};

}  // namespace crm::personalization::api
