#pragma once
// The gRPC edge of engine 3.
#include "crm/personalization/v1/personalization.grpc.pb.h"
#include "libs/common/executor.h"
#include "libs/grpcutil/rpc_metrics.h"
#include "services/personalization/app/offers.h"
#include "services/personalization/app/prices.h"
#include "services/personalization/app/recommender.h"
#include "services/personalization/app/segment_popular.h"
#include "services/personalization/app/slots.h"
#include "services/personalization/app/templates.h"

namespace crm::personalization::api {

namespace v1 = ::crm::personalization::v1;

// INVALID_ARGUMENT naming `field` unless `value` (a sku, a visitor id) is
// 1 to 128 characters of storable text.
absl::Status CheckKey(absl::string_view field, const std::string& value);
// INVALID_ARGUMENT (field customer_id) unless `id` is a UUID.
absl::Status CheckCustomerId(const std::string& id);
// INVALID_ARGUMENT naming `field` unless `id` has the form of slot and offer
// ids ([a-z0-9][a-z0-9_-]{0,63}).
absl::Status CheckDefinitionId(absl::string_view field, const std::string& id);

void ToProto(const app::RecommendationList& l, v1::Recommendations* out);
void ToProto(const app::InterestsView& v, v1::Interests* out);

class PersonalizationGrpcService final : public v1::PersonalizationService::CallbackService {
 public:
  PersonalizationGrpcService(app::Recommender& recommender, app::SegmentPopular& segment_popular,
                             app::Slots& slots, app::Offers& offers, app::Prices& prices,
                             app::Templates& templates, common::Executor& executor,
                             grpcutil::RpcMetrics& metrics)
      : recommender_(recommender),
        segment_popular_(segment_popular),
        slots_(slots),
        offers_(offers),
        prices_(prices),
        templates_(templates),
        executor_(executor),
        metrics_(metrics) {}

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
  // Offers and next best offers (api/offers_grpc.cc).
  grpc::ServerUnaryReactor* CreateOffer(grpc::CallbackServerContext* ctx,
                                        const v1::CreateOfferRequest* req,
                                        v1::Offer* resp) override;
  grpc::ServerUnaryReactor* GetOffer(grpc::CallbackServerContext* ctx,
                                     const v1::GetOfferRequest* req, v1::Offer* resp) override;
  grpc::ServerUnaryReactor* ListOffers(grpc::CallbackServerContext* ctx,
                                       const v1::ListOffersRequest* req,
                                       v1::ListOffersResponse* resp) override;
  grpc::ServerUnaryReactor* UpdateOffer(grpc::CallbackServerContext* ctx,
                                        const v1::UpdateOfferRequest* req,
                                        v1::Offer* resp) override;
  grpc::ServerUnaryReactor* RetireOffer(grpc::CallbackServerContext* ctx,
                                        const v1::RetireOfferRequest* req,
                                        v1::Offer* resp) override;
  grpc::ServerUnaryReactor* NextBestOffers(grpc::CallbackServerContext* ctx,
                                           const v1::NextBestOffersRequest* req,
                                           v1::NextBestOffersResponse* resp) override;
  // Personal prices (api/prices_grpc.cc).
  grpc::ServerUnaryReactor* GetPricePolicy(grpc::CallbackServerContext* ctx,
                                           const v1::GetPricePolicyRequest* req,
                                           v1::PricePolicy* resp) override;
  grpc::ServerUnaryReactor* UpdatePricePolicy(grpc::CallbackServerContext* ctx,
                                              const v1::UpdatePricePolicyRequest* req,
                                              v1::PricePolicy* resp) override;
  grpc::ServerUnaryReactor* QuotePrice(grpc::CallbackServerContext* ctx,
                                       const v1::QuotePriceRequest* req,
                                       v1::PriceQuote* resp) override;
  // Message templates (api/templates_grpc.cc).
  grpc::ServerUnaryReactor* CreateTemplate(grpc::CallbackServerContext* ctx,
                                           const v1::CreateTemplateRequest* req,
                                           v1::MessageTemplate* resp) override;
  grpc::ServerUnaryReactor* GetTemplate(grpc::CallbackServerContext* ctx,
                                        const v1::GetTemplateRequest* req,
                                        v1::MessageTemplate* resp) override;
  grpc::ServerUnaryReactor* ListTemplates(grpc::CallbackServerContext* ctx,
                                          const v1::ListTemplatesRequest* req,
                                          v1::ListTemplatesResponse* resp) override;
  grpc::ServerUnaryReactor* UpdateTemplate(grpc::CallbackServerContext* ctx,
                                           const v1::UpdateTemplateRequest* req,
                                           v1::MessageTemplate* resp) override;
  grpc::ServerUnaryReactor* DeleteTemplate(grpc::CallbackServerContext* ctx,
                                           const v1::DeleteTemplateRequest* req,
                                           v1::DeleteTemplateResponse* resp) override;
  grpc::ServerUnaryReactor* PreviewTemplate(grpc::CallbackServerContext* ctx,
                                            const v1::PreviewTemplateRequest* req,
                                            v1::RenderedMessage* resp) override;
  grpc::ServerUnaryReactor* RenderTemplate(grpc::CallbackServerContext* ctx,
                                           const v1::RenderTemplateRequest* req,
                                           v1::RenderedMessage* resp) override;
  grpc::ServerUnaryReactor* BatchRenderTemplate(grpc::CallbackServerContext* ctx,
                                                const v1::BatchRenderTemplateRequest* req,
                                                v1::BatchRenderTemplateResponse* resp) override;

 private:
  app::Recommender& recommender_;
  app::SegmentPopular& segment_popular_;
  app::Slots& slots_;
  app::Offers& offers_;
  app::Prices& prices_;
  app::Templates& templates_;
  common::Executor& executor_;
  grpcutil::RpcMetrics& metrics_;
};

}  // namespace crm::personalization::api
