#pragma once
// The gRPC edge of engine 4.
#include "crm/delivery/v1/delivery.grpc.pb.h"
#include "libs/common/executor.h"
#include "libs/common/page_token.h"
#include "libs/grpcutil/rpc_metrics.h"
#include "services/delivery/app/campaigns.h"
#include "services/delivery/app/delivery.h"
#include "services/delivery/app/journeys.h"
#include "services/delivery/app/tracking.h"

namespace crm::delivery::api {

namespace v1 = ::crm::delivery::v1;

void ToProto(const domain::Message& m, v1::Message* out);
v1::Channel ChannelToProto(domain::Channel c);
// nullopt for CHANNEL_UNSPECIFIED; INVALID_ARGUMENT (channel) for an unknown value.
absl::StatusOr<std::optional<domain::Channel>> ChannelFromProto(v1::Channel c);
// Campaigns' and journeys' triggers (kNone: TRIGGER_KIND_UNSPECIFIED) and
// purposes (unset: marketing); an unknown value is INVALID_ARGUMENT naming
// `field`.
v1::TriggerKind TriggerKindToProto(domain::TriggerKind k);
absl::StatusOr<domain::TriggerKind> TriggerKindFromProto(v1::TriggerKind k,
                                                         const std::string& field);
absl::StatusOr<domain::Purpose> PurposeFromProto(v1::Purpose p, const std::string& field);

class DeliveryGrpcService final : public v1::DeliveryService::CallbackService {
 public:
  DeliveryGrpcService(app::Delivery& delivery, app::Campaigns& campaigns, app::Journeys& journeys,
                      app::Tracking& tracking, const common::PageTokenCodec& tokens,
                      common::Executor& executor, grpcutil::RpcMetrics& metrics)
      : delivery_(delivery),
        campaigns_(campaigns),
        journeys_(journeys),
        tracking_(tracking),
        tokens_(tokens),
        executor_(executor),
        metrics_(metrics) {}

  grpc::ServerUnaryReactor* SendMessage(grpc::CallbackServerContext* ctx,
                                        const v1::SendMessageRequest* req,
                                        v1::Message* resp) override;
  grpc::ServerUnaryReactor* GetMessage(grpc::CallbackServerContext* ctx,
                                       const v1::GetMessageRequest* req,
                                       v1::Message* resp) override;
  grpc::ServerUnaryReactor* ListCustomerMessages(grpc::CallbackServerContext* ctx,
                                                 const v1::ListCustomerMessagesRequest* req,
                                                 v1::ListMessagesResponse* resp) override;
  grpc::ServerUnaryReactor* ListMessages(grpc::CallbackServerContext* ctx,
                                         const v1::ListMessagesRequest* req,
                                         v1::ListMessagesResponse* resp) override;
  grpc::ServerUnaryReactor* ReplayMessage(grpc::CallbackServerContext* ctx,
                                          const v1::ReplayMessageRequest* req,
                                          v1::Message* resp) override;
  grpc::ServerUnaryReactor* ReportStatus(grpc::CallbackServerContext* ctx,
                                         const v1::ReportStatusRequest* req,
                                         v1::ReportStatusResponse* resp) override;
  grpc::ServerUnaryReactor* ReportEmailEvent(grpc::CallbackServerContext* ctx,
                                             const v1::ReportEmailEventRequest* req,
                                             v1::ReportEmailEventResponse* resp) override;
  grpc::ServerUnaryReactor* ListSuppressions(grpc::CallbackServerContext* ctx,
                                             const v1::ListSuppressionsRequest* req,
                                             v1::ListSuppressionsResponse* resp) override;
  grpc::ServerUnaryReactor* DeleteSuppression(grpc::CallbackServerContext* ctx,
                                              const v1::DeleteSuppressionRequest* req,
                                              v1::DeleteSuppressionResponse* resp) override;
  grpc::ServerUnaryReactor* Track(grpc::CallbackServerContext* ctx, const v1::TrackRequest* req,
                                  v1::TrackResponse* resp) override;
  grpc::ServerUnaryReactor* CreateWebhookEndpoint(grpc::CallbackServerContext* ctx,
                                                  const v1::CreateWebhookEndpointRequest* req,
                                                  v1::WebhookEndpoint* resp) override;
  grpc::ServerUnaryReactor* GetWebhookEndpoint(grpc::CallbackServerContext* ctx,
                                               const v1::GetWebhookEndpointRequest* req,
                                               v1::WebhookEndpoint* resp) override;
  grpc::ServerUnaryReactor* ListWebhookEndpoints(grpc::CallbackServerContext* ctx,
                                                 const v1::ListWebhookEndpointsRequest* req,
                                                 v1::ListWebhookEndpointsResponse* resp) override;
  grpc::ServerUnaryReactor* DeleteWebhookEndpoint(grpc::CallbackServerContext* ctx,
                                                  const v1::DeleteWebhookEndpointRequest* req,
                                                  v1::DeleteWebhookEndpointResponse* resp) override;
  grpc::ServerUnaryReactor* CreateCampaign(grpc::CallbackServerContext* ctx,
                                           const v1::CreateCampaignRequest* req,
                                           v1::Campaign* resp) override;
  grpc::ServerUnaryReactor* GetCampaign(grpc::CallbackServerContext* ctx,
                                        const v1::GetCampaignRequest* req,
                                        v1::Campaign* resp) override;
  grpc::ServerUnaryReactor* ListCampaigns(grpc::CallbackServerContext* ctx,
                                          const v1::ListCampaignsRequest* req,
                                          v1::ListCampaignsResponse* resp) override;
  grpc::ServerUnaryReactor* UpdateCampaign(grpc::CallbackServerContext* ctx,
                                           const v1::UpdateCampaignRequest* req,
                                           v1::Campaign* resp) override;
  grpc::ServerUnaryReactor* ScheduleCampaign(grpc::CallbackServerContext* ctx,
                                             const v1::ScheduleCampaignRequest* req,
                                             v1::Campaign* resp) override;
  grpc::ServerUnaryReactor* PauseCampaign(grpc::CallbackServerContext* ctx,
                                          const v1::CampaignActionRequest* req,
                                          v1::Campaign* resp) override;
  grpc::ServerUnaryReactor* ResumeCampaign(grpc::CallbackServerContext* ctx,
                                           const v1::CampaignActionRequest* req,
                                           v1::Campaign* resp) override;
  grpc::ServerUnaryReactor* CancelCampaign(grpc::CallbackServerContext* ctx,
                                           const v1::CampaignActionRequest* req,
                                           v1::Campaign* resp) override;
  grpc::ServerUnaryReactor* GetCampaignResults(grpc::CallbackServerContext* ctx,
                                               const v1::GetCampaignResultsRequest* req,
                                               v1::CampaignResults* resp) override;
  grpc::ServerUnaryReactor* CreateJourney(grpc::CallbackServerContext* ctx,
                                          const v1::CreateJourneyRequest* req,
                                          v1::Journey* resp) override;
  grpc::ServerUnaryReactor* GetJourney(grpc::CallbackServerContext* ctx,
                                       const v1::GetJourneyRequest* req,
                                       v1::Journey* resp) override;
  grpc::ServerUnaryReactor* ListJourneys(grpc::CallbackServerContext* ctx,
                                         const v1::ListJourneysRequest* req,
                                         v1::ListJourneysResponse* resp) override;
  grpc::ServerUnaryReactor* UpdateJourney(grpc::CallbackServerContext* ctx,
                                          const v1::UpdateJourneyRequest* req,
                                          v1::Journey* resp) override;
  grpc::ServerUnaryReactor* ActivateJourney(grpc::CallbackServerContext* ctx,
                                            const v1::JourneyActionRequest* req,
                                            v1::Journey* resp) override;
  grpc::ServerUnaryReactor* PauseJourney(grpc::CallbackServerContext* ctx,
                                         const v1::JourneyActionRequest* req,
                                         v1::Journey* resp) override;
  grpc::ServerUnaryReactor* ResumeJourney(grpc::CallbackServerContext* ctx,
                                          const v1::JourneyActionRequest* req,
                                          v1::Journey* resp) override;
  grpc::ServerUnaryReactor* ArchiveJourney(grpc::CallbackServerContext* ctx,
                                           const v1::JourneyActionRequest* req,
                                           v1::Journey* resp) override;
  grpc::ServerUnaryReactor* EnrollCustomer(grpc::CallbackServerContext* ctx,
                                           const v1::EnrollCustomerRequest* req,
                                           v1::JourneyEnrollment* resp) override;
  grpc::ServerUnaryReactor* ListJourneyEnrollments(
      grpc::CallbackServerContext* ctx, const v1::ListJourneyEnrollmentsRequest* req,
      v1::ListJourneyEnrollmentsResponse* resp) override;
  grpc::ServerUnaryReactor* GetJourneyResults(grpc::CallbackServerContext* ctx,
                                              const v1::GetJourneyResultsRequest* req,
                                              v1::JourneyResults* resp) override;
  grpc::ServerUnaryReactor* GetDeliveryPolicy(grpc::CallbackServerContext* ctx,
                                              const v1::GetDeliveryPolicyRequest* req,
                                              v1::DeliveryPolicy* resp) override;
  grpc::ServerUnaryReactor* UpdateDeliveryPolicy(grpc::CallbackServerContext* ctx,
                                                 const v1::UpdateDeliveryPolicyRequest* req,
                                                 v1::DeliveryPolicy* resp) override;
  grpc::ServerUnaryReactor* UpdateChannelProvider(grpc::CallbackServerContext* ctx,
                                                  const v1::UpdateChannelProviderRequest* req,
                                                  v1::ChannelProvider* resp) override;
  grpc::ServerUnaryReactor* GetChannelProvider(grpc::CallbackServerContext* ctx,
                                               const v1::GetChannelProviderRequest* req,
                                               v1::ChannelProvider* resp) override;
  grpc::ServerUnaryReactor* ListChannelProviders(grpc::CallbackServerContext* ctx,
                                                 const v1::ListChannelProvidersRequest* req,
                                                 v1::ListChannelProvidersResponse* resp) override;
  grpc::ServerUnaryReactor* DeleteChannelProvider(grpc::CallbackServerContext* ctx,
                                                  const v1::DeleteChannelProviderRequest* req,
                                                  v1::DeleteChannelProviderResponse* resp) override;
  grpc::ServerUnaryReactor* GetSenderSettings(grpc::CallbackServerContext* ctx,
                                              const v1::GetSenderSettingsRequest* req,
                                              v1::SenderSettings* resp) override;
  grpc::ServerUnaryReactor* UpdateSenderSettings(grpc::CallbackServerContext* ctx,
                                                 const v1::UpdateSenderSettingsRequest* req,
                                                 v1::SenderSettings* resp) override;

 private:
  app::Delivery& delivery_;
  app::Campaigns& campaigns_;
  app::Journeys& journeys_;
  app::Tracking& tracking_;
  const common::PageTokenCodec& tokens_;
  common::Executor& executor_;
  grpcutil::RpcMetrics& metrics_;
};

}  // namespace crm::delivery::api
